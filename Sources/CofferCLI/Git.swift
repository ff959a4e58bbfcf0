import ArgumentParser
import Coffer
import CofferCodec
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct Git: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "git",
            abstract: "Make git diff and merge vaults entry by entry (Specs/git.md).",
            subcommands: [Setup.self, Textconv.self, Merge.self, Resolve.self])
    }
}

extension CofferCommand.Git {
    struct Setup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup",
            abstract: "Configure this repository (or, with --global, your git) to use coffer's diff and merge drivers.",
            discussion: """
                Adds `*.coffer merge=coffer diff=coffer` to .gitattributes (or your global attributes file) \
                and sets merge.coffer.driver and diff.coffer.textconv. Safe to run again.
                """)

        @Flag(name: .long, help: "Configure your user-wide git config and attributes file instead of this repository.")
        var global = false

        @Flag(name: .long, help: "Print what would change, change nothing.")
        var dryRun = false

        static let attributesLine = "*.coffer merge=coffer diff=coffer"

        func run() throws {
            let command = Self.shellQuoted(Self.cofferCommand())
            let settings = [
                ("merge.coffer.name", "coffer entry-level merge"),
                ("merge.coffer.driver", "\(command) git merge %O %A %B %P"),
                ("diff.coffer.textconv", "\(command) git textconv"),
            ]
            let scope = global ? ["--global"] : ["--local"]
            let attributes = try attributesFile()
            var info = stat()
            if lstat(attributes, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK {
                throw Failure(.io, "\(attributes) is a symbolic link: refusing to write through it (replace it with a file, or add '\(Self.attributesLine)' by hand)")
            }
            let existing = (try? FileInput.readBytes(attributes, limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let needsLine = !existing.split(whereSeparator: \.isNewline).contains { String($0).trimmingTrailingSpaces() == Self.attributesLine }
            var changes: [String] = []
            if needsLine { changes.append("add '\(Self.attributesLine)' to \(attributes)") }
            for (key, value) in settings {
                let current = try? Subprocess.text(["git", "config"] + scope + ["--get", key])
                if current != value { changes.append("git config \(scope[0]) \(key) '\(value)'") }
            }
            if dryRun {
                Terminal.output(changes.isEmpty ? "nothing to change\n" : changes.map { $0 + "\n" }.joined())
                return
            }
            if needsLine {
                let separator = existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n"
                try VaultOptions.makeFolders(String(attributes[..<(attributes.lastIndex(of: "/") ?? attributes.startIndex)]))
                try appendText(attributes, separator + Self.attributesLine + "\n")
            }
            for (key, value) in settings {
                _ = try Subprocess.text(["git", "config"] + scope + [key, value])
            }
            Terminal.writeAll(2, Array((changes.isEmpty ? "coffer: already set up\n" : changes.map { "coffer: \($0)\n" }.joined()).utf8))
        }

        private func attributesFile() throws -> String {
            if !global { return try Subprocess.text(["git", "rev-parse", "--show-toplevel"]) + "/.gitattributes" }
            if let configured = try? Subprocess.text(["git", "config", "--global", "--get", "core.attributesFile"]), !configured.isEmpty {
                return configured.hasPrefix("~/") ? (ProcessInfoLite.environment["HOME"] ?? "") + configured.dropFirst() : configured
            }
            let environment = ProcessInfoLite.environment
            let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"] ?? "") + "/.config"
            return config + "/git/attributes"
        }

        private func appendText(_ path: String, _ text: String) throws {
            // O_NOFOLLOW: a link put there after the check above is not written through either.
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard fd >= 0 else {
                let reason = errno == ELOOP ? "a symbolic link: refusing to write through it" : String(cString: strerror(errno))
                throw Failure(.io, "\(path): \(reason)")
            }
            defer { close(fd) }
            Terminal.writeAll(fd, Array(text.utf8))
        }

        /// `text` as one word for git's shell: unchanged when it needs no quoting.
        static func shellQuoted(_ text: String) -> String {
            let plain = text.allSatisfy { $0.isLetter || $0.isNumber || "/._-+".contains($0) }
            return plain ? text : "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        }

        /// `coffer` when that name in PATH is this program, else this program's absolute path.
        static func cofferCommand() -> String {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
            guard count > 0 else { return "coffer" }
            let me = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let path = ProcessInfoLite.environment["PATH"] ?? ""
            for folder in path.split(separator: ":") {
                var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                if realpath(folder + "/coffer", &resolved) != nil,
                   String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) == me {
                    return "coffer"
                }
            }
            return me
        }
    }

    struct Textconv: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "textconv",
            abstract: "Print a vault as stable text for git diff: one line per fact, never a value. Needs no key.")

        @Argument(help: "The vault file (git passes a temporary copy).")
        var file: String

        func run() throws {
            let bytes = try FileInput.readBytes(file, limit: Limits.fileBytes)
            do {
                let decoded = try VaultDecoder.decode(bytes)
                var text = TextView.render(decoded)
                if (try? Vault(bytes: bytes, path: file)) == nil { text += "signature INVALID\n" }
                Terminal.output(text)
            } catch {
                Terminal.output("not a readable coffer vault (\(bytes.count) bytes)\n")
            }
        }
    }

    /// Keys for a driver that runs without a terminal: a session, an identity, or a passphrase file.
    static func unlockWithoutPrompt(_ vault: Vault) throws {
        if Sessions.resume(vault) { return }
        let environment = ProcessInfoLite.environment
        guard environment["COFFER_IDENTITY_FILE"] != nil || environment[KeySources.identityVariable] != nil
            || environment["COFFER_PASSPHRASE_FILE"] != nil else {
            throw Failure(
                .authentication,
                "merging vaults needs a key: run eval \"$(coffer unlock)\" in this shell, or set COFFER_IDENTITY_FILE, then merge again")
        }
        try UnlockOptions.parse([]).unlock(vault, allowSession: false, interactive: false)
    }

    /// Unlocks both sides, once when they share a master key.
    static func unlockSides(_ ours: Vault, _ theirs: Vault) throws {
        try unlockWithoutPrompt(ours)
        if ours.verificationKey == theirs.verificationKey, let grant = ours.keyGrant {
            try theirs.unlock(grant: grant)
        } else {
            try unlockWithoutPrompt(theirs)
        }
    }

    /// Merges and writes the result to `output`, or prints the conflicts and exits 5. `resolution`
    /// (coffer git resolve) picks a side for conflicts; a side that does not descend from the base
    /// is never merged, only kept whole by a resolve without names.
    static func mergeVersions(
        base: [UInt8], ours: [UInt8], theirs: [UInt8], output: String, outputIsOurs: Bool, label: String,
        resolution: (choice: GitMerge.Choice, names: Set<String>)? = nil
    ) throws {
        let oursVault = try Vault(bytes: ours, path: label)
        let theirsVault = try Vault(bytes: theirs, path: label)
        let baseVault = base.isEmpty ? nil : try Vault(bytes: base, path: label)
        try GitMerge.requireSameVault(base: baseVault?.file, ours: oursVault.file, theirs: theirsVault.file)
        try reportFindings(base: baseVault, ours: oursVault, theirs: theirsVault, label: label)
        do {
            try GitMerge.requireDescent(base: baseVault?.file, ours: oursVault.file, theirs: theirsVault.file)
        } catch let error as DescentError {
            if let resolution, resolution.names.isEmpty {
                // Keeping one side whole is the way past: that version as it is, nothing merged.
                var info = stat()
                let mode = stat(output, &info) == 0 ? UInt32(info.st_mode & 0o777) : 0o600
                try Files.replace(output, with: resolution.choice == .ours ? ours : theirs, mode: mode)
                return
            }
            throw Failure(.corrupted, "\(label): \(error.message) Not merged: keep one side whole with coffer git resolve \(label) --ours|--theirs (no names) or git checkout --ours \(label)")
        }
        try unlockSides(oursVault, theirsVault)
        let resolve = resolution.map { GitMerge.resolution($0.choice, names: $0.names) } ?? { _ in nil }
        let outcome: GitMerge.Outcome
        do {
            outcome = try GitMerge.merge(
                base: baseVault?.file, ours: GitMerge.Side(file: oursVault.file, grant: oursVault.keyGrant),
                theirs: GitMerge.Side(file: theirsVault.file, grant: theirsVault.keyGrant), resolve: resolve)
        } catch let error as DescentError {
            throw Failure(.corrupted, "\(label): \(error.message)")
        }
        switch outcome {
        case let .merged(file, grant):
            // The driver writes over OURS only if it still holds what was merged; resolve writes the work tree's file.
            try Vault.replace(at: output, with: file, grant: grant, expectedSignature: outputIsOurs ? oursVault.signature : nil)
        case let .conflicts(conflicts):
            for conflict in conflicts { Terminal.printError("conflict in \(label): \(conflict)") }
            throw Failure(.conflict, "\(conflicts.count) conflicting item(s) in \(label); resolve with: coffer git resolve \(label) --ours|--theirs [NAME...] (slots and changes made under a revoked key only by NAME or slot id)")
        }
    }

    /// Prints every trust finding about the three versions, one line each, and fails on one that
    /// blocks reading (a forged or substituted version). What this branch remembers (rollback,
    /// fork) concerns OURS, the version checked out here; BASE and THEIRS are older or from
    /// another line of history by nature, and the descent rule checks them against each other.
    static func reportFindings(base: Vault?, ours: Vault, theirs: Vault, label: String) throws {
        let branch = GitBranch.current(forFileAt: label)
        var blocking: (String, TrustStore.Finding)?
        for (name, vault) in [("ours", ours), ("theirs", theirs), ("base", base)] {
            guard let vault else { continue }
            for finding in try VaultOptions.trust.findings(for: vault, at: label, branch: branch) {
                if name != "ours", case .rollback = finding { continue }
                if name != "ours", case .fork = finding { continue }
                if finding.blocksReads {
                    blocking = blocking ?? (name, finding)
                } else {
                    Terminal.warn("\(name) (generation \(vault.generation)): \(finding.message)")
                }
            }
        }
        if let (name, finding) = blocking { throw Failure(.corrupted, "\(name): \(finding.message)") }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge",
            abstract: "git's merge driver (%O %A %B %P): a three-way merge entry by entry, written to OURS.",
            discussion: "Needs a session or $COFFER_IDENTITY_FILE; on conflict, OURS is left as it was and the exit code is 5.")

        @Argument(help: "Base version (%O).") var base: String
        @Argument(help: "Our version, overwritten with the result (%A).") var ours: String
        @Argument(help: "Their version (%B).") var theirs: String
        @Argument(help: "The path in the repository (%P).") var pathname: String?

        func run() throws {
            let limit = Limits.fileBytes
            try CofferCommand.Git.mergeVersions(
                base: try FileInput.readBytes(base, limit: limit), ours: try FileInput.readBytes(ours, limit: limit),
                theirs: try FileInput.readBytes(theirs, limit: limit), output: ours, outputIsOurs: true, label: pathname ?? ours)
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resolve",
            abstract: "Finish a conflicted merge from the three versions in git's index, taking one side for conflicts.",
            discussion: """
                Without NAMEs every entry conflict takes the chosen side; with NAMEs (entry names, slot ids) only those do. \
                Slot conflicts and changes made under a key a revocation replaced are taken only by NAME. A side that does \
                not descend from the merge base is kept whole (no NAMEs) or not at all. Then: git add PATH && git commit.
                """)

        @Argument(help: "The conflicted vault's path.") var pathname: String
        @Argument(help: "Only these entry names or slot ids take the chosen side.") var names: [String] = []
        @Flag(name: .long, help: "Keep our side of each conflict.") var ours = false
        @Flag(name: .long, help: "Take their side of each conflict.") var theirs = false

        func validate() throws {
            if ours == theirs { throw ValidationError("choose one of --ours and --theirs") }
        }

        func run() throws {
            let spec = pathname.hasPrefix("/") ? pathname : "./" + pathname
            func stage(_ number: Int) throws -> [UInt8] {
                let result = try Subprocess.run(["git", "show", ":\(number):\(spec)"])
                return result.status == 0 ? result.output : []
            }
            let oursBytes = try stage(2), theirsBytes = try stage(3)
            guard !oursBytes.isEmpty, !theirsBytes.isEmpty else {
                throw Failure(.notFound, "\(pathname) is not in a conflicted merge (no stages 2 and 3 in git's index)")
            }
            try CofferCommand.Git.mergeVersions(
                base: try stage(1), ours: oursBytes, theirs: theirsBytes, output: pathname, outputIsOurs: false, label: pathname,
                resolution: (ours ? .ours : .theirs, Set(names)))
            Terminal.writeAll(2, Array("coffer: resolved \(pathname); now git add \(pathname) and commit\n".utf8))
        }
    }
}

extension CofferCommand {
    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trust",
            abstract: "Accept the vault as it is now after a key, id or rollback warning (check fingerprints out of band first).")

        @OptionGroup var location: VaultOptions

        func run() throws {
            let path = try location.resolvedPath()
            let vault = try Vault.open(at: path)
            let branch = GitBranch.current(forFileAt: path)
            // The history as it is now is accepted too: the automatic check starts from HEAD.
            try VaultOptions.trust.accept(vault, at: path, branch: branch)
            try VaultOptions.trust.finish()
            Terminal.output("trusted \(path): vault \(TextView.hex(vault.vaultID)), generation \(vault.generation), key \(TrustStore.fingerprint(vault.verificationKey))\n")
        }
    }
}
