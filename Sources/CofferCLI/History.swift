import ArgumentParser
import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation

extension CofferCommand {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "Each git commit that changed the vault (or one secret): date, author, commit, generation, changes.",
            discussion: """
                Reads old versions straight from git's objects (git cat-file), never writing them to disk; \
                each is verified as any vault is. Without NAME, each commit lists the secrets it added, \
                changed or removed; with NAME (in the scope --project/--domain select, exactly), the commits \
                that changed that secret. --values (with NAME, needs a key) shows its value at each version; \
                on a terminal it asks first. Newest first.
                """)

        @Argument(help: "One secret's name.", completion: Completions.names)
        var name: String?

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Flag(name: .long, help: "Show the secret's value at each version (needs NAME and a key).")
        var values = false

        @Option(name: [.customShort("n"), .long], help: "Look at most this many commits back (default 200).")
        var maxCount = 200

        @Flag(name: .long, help: "JSON output (schema: Specs/cli-json.md).")
        var json = false

        func validate() throws {
            if values && name == nil { throw ValidationError("--values needs a NAME") }
            if maxCount < 1 || maxCount > 10_000 { throw ValidationError("--max-count is 1 to 10000") }
        }

        /// One commit that touched the vault file. `vault` (nil: removed or unreadable) is let go
        /// once the version is compared, so one version at a time is in memory.
        struct Version {
            var commit: String
            var date: String
            var author: String
            var vault: Vault?
            var problem: String?
            var generation: UInt64?
            var fileRemoved: Bool { generation == nil && problem == nil }
        }

        /// What one commit did to the entries, by (scope, name).
        struct Change {
            var added: [Entry] = []
            var changed: [Entry] = []
            var removed: [Entry] = []
            var isEmpty: Bool { added.isEmpty && changed.isEmpty && removed.isEmpty }
        }

        func run() throws {
            let path = try location.resolvedPath()
            let slash = path.lastIndex(of: "/")
            let folder = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
            let file = slash.map { String(path[path.index(after: $0)...]) } ?? path
            let log = try Subprocess.run([
                "git", "-C", folder, "log", "--format=%H%x09%aI%x09%an", "-n", String(maxCount), "--", file,
            ], quiet: true)
            guard log.status == 0 else { throw Failure(.usage, "\(path) is not in a git repository (git log failed)") }
            let commits = String(decoding: log.output, as: UTF8.self).split(separator: "\n").map { $0.split(separator: "\t", maxSplits: 2) }
            guard !commits.isEmpty else { throw Failure(.notFound, "no commit changed \(path)") }
            let scope = scopeOptions.scope
            if values, let name, Terminal.stdinIsTTY {
                try Confirmation.require("Show the values of \(name) (\(scope)) at each version?", force: false, what: "--values")
            }
            var rows: [(Version, Change)] = []
            var previous: [Entry] = []
            var shown: [String: [UInt8]] = [:]
            defer { for key in shown.keys { shown[key]!.wipe() } }
            var grant: KeyGrant?
            // Oldest first, so that each version is compared with the one before it.
            for fields in commits.reversed() {
                var version = try read(
                    commit: String(fields[0]), date: String(fields[1]), author: fields.count > 2 ? String(fields[2]) : "",
                    folder: folder, file: file)
                let entries = version.problem == nil ? version.vault?.file.entries ?? [] : previous
                var change = Self.change(from: previous, to: entries)
                if let name {
                    let only = { (entries: [Entry]) in entries.filter { $0.name == name && $0.scope == scope } }
                    change = Change(added: only(change.added), changed: only(change.changed), removed: only(change.removed))
                    if values, !change.isEmpty, let vault = version.vault, let entry = vault.entry(name, in: scope), !entry.isNoReveal {
                        shown[version.commit] = try value(of: name, in: scope, from: vault, reusing: &grant)
                    }
                }
                version.generation = version.vault?.generation
                version.vault = nil
                if name == nil || !change.isEmpty || version.problem != nil { rows.append((version, change)) }
                previous = entries
            }
            rows.reverse()
            Terminal.output(json ? jsonText(rows, shown) : tableText(rows, shown))
        }

        private func read(commit: String, date: String, author: String, folder: String, file: String) throws -> Version {
            var version = Version(commit: commit, date: date, author: author)
            let listing = try Subprocess.run(["git", "-C", folder, "ls-tree", "-l", commit, "--", file])
            // `MODE blob HASH SIZE\tPATH`; nothing when the commit removed the file.
            let fields = String(decoding: listing.output, as: UTF8.self).split(separator: "\t").first?.split(separator: " ") ?? []
            guard listing.status == 0, fields.count == 4, fields[1] == "blob" else { return version }
            guard let size = Int(fields[3]), size <= Limits.fileBytes else {
                version.problem = "larger than a vault may be"
                return version
            }
            let blob = try Subprocess.run(["git", "-C", folder, "cat-file", "blob", String(fields[2])])
            guard blob.status == 0 else {
                version.problem = "git cat-file failed"
                return version
            }
            do {
                version.vault = try Vault(bytes: blob.output, path: "\(commit.prefix(12)):\(file)")
            } catch let error as CofferError {
                version.problem = Failure(error).message
            }
            return version
        }

        /// The value at one version. The key of the version read before is tried first (the master
        /// key changes only with rotations), so a passphrase is asked again only after one.
        private func value(of name: String, in scope: Scope, from vault: Vault, reusing grant: inout KeyGrant?) throws -> [UInt8] {
            if let known = grant, (try? vault.unlock(grant: known)) != nil, let value = try? vault.value(for: name, in: scope) {
                return value
            }
            try unlock.unlock(vault)
            grant = vault.keyGrant
            return try vault.value(for: name, in: scope)
        }

        static func change(from old: [Entry], to new: [Entry]) -> Change {
            struct Key: Hashable {
                let project: String, domain: String, name: String
                init(_ entry: Entry) { (project, domain, name) = (entry.scope.project, entry.scope.domain, entry.name) }
            }
            let before = Dictionary(old.map { (Key($0), $0) }, uniquingKeysWith: { first, _ in first })
            let after = Set(new.map(Key.init))
            var change = Change()
            for entry in new {
                if let was = before[Key(entry)] {
                    if was != entry { change.changed.append(entry) }
                } else {
                    change.added.append(entry)
                }
            }
            change.removed = old.filter { !after.contains(Key($0)) }
            return change
        }

        private static func label(_ entry: Entry) -> String {
            entry.scope == .global ? entry.name : "\(entry.name) (\(entry.scope))"
        }

        private func valueText(_ value: [UInt8]?) -> String {
            guard let value else { return "" }
            return String(validating: value, as: UTF8.self) ?? "(binary, \(value.count) bytes)"
        }

        private func tableText(_ rows: [(Version, Change)], _ shown: [String: [UInt8]]) -> String {
            var table = [["COMMIT", "DATE", "AUTHOR", "GENERATION", name == nil ? "CHANGES" : "CHANGE"] + (values ? ["VALUE"] : [])]
            for (version, change) in rows {
                var what: String
                if let problem = version.problem {
                    what = "unreadable: \(problem)"
                } else if name != nil {
                    what = !change.added.isEmpty ? "added" : !change.removed.isEmpty ? "removed" : "changed"
                } else {
                    what = [("added", change.added), ("changed", change.changed), ("removed", change.removed)]
                        .filter { !$0.1.isEmpty }.map { "\($0.0): " + $0.1.map(Self.label).joined(separator: ", ") }.joined(separator: "; ")
                    if what.isEmpty { what = "no secret changed" }
                }
                if version.fileRemoved { what += " (file removed)" }
                table.append(
                    [String(version.commit.prefix(12)), version.date, version.author, version.generation.map { String($0) } ?? "-", what]
                        + (values ? [valueText(shown[version.commit])] : []))
            }
            return Formatting.table(table)
        }

        private func jsonText(_ rows: [(Version, Change)], _ shown: [String: [UInt8]]) -> String {
            let names = { (entries: [Entry]) in
                JSONOutput.array(entries.map {
                    JSONOutput.object([
                        ("name", JSONOutput.string($0.name)), ("project", JSONOutput.string($0.scope.project)),
                        ("domain", JSONOutput.string($0.scope.domain)),
                    ])
                })
            }
            let objects = rows.map { version, change in
                var fields = [
                    ("commit", JSONOutput.string(version.commit)),
                    ("date", JSONOutput.string(version.date)),
                    ("author", JSONOutput.string(version.author)),
                    ("generation", version.generation.map { String($0) } ?? "null"),
                    ("fileRemoved", "\(version.fileRemoved)"),
                    ("problem", JSONOutput.optional(version.problem)),
                    ("added", names(change.added)),
                    ("changed", names(change.changed)),
                    ("removed", names(change.removed)),
                ]
                if values {
                    let value = shown[version.commit]
                    fields.append(("value", value.map { String(validating: $0, as: UTF8.self).map(JSONOutput.string) ?? "null" } ?? "null"))
                    fields.append(("valueHex", value.map { String(validating: $0, as: UTF8.self) == nil ? JSONOutput.string(TextView.hex($0)) : "null" } ?? "null"))
                }
                return JSONOutput.object(fields)
            }
            return "[" + objects.joined(separator: ",\n") + "]\n"
        }
    }
}
