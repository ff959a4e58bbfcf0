public import CofferCodec
import CofferCrypto

/// The history check (Specs/git.md): along every parent -> child edge of a vault file's git
/// history, merges included, the child descends from the parent (`Descent`). Needs no key. The
/// git side (listing commits, reading blobs) is the caller's; this is the rule and its walk.
public enum HistoryCheck {
    public struct Commit: Sendable {
        public let id: String
        public let parents: [String]
        /// The vault file's blob in this commit; nil where the commit has no such file.
        public let blob: String?

        public init(id: String, parents: [String], blob: String?) {
            self.id = id
            self.parents = parents
            self.blob = blob
        }
    }

    /// The first commit that breaks the rule, and how.
    public struct Break: Error, Equatable, Sendable {
        public let commit: String
        public let reason: String

        public init(commit: String, reason: String) {
            self.commit = commit
            self.reason = reason
        }
    }

    /// The header of one version, its key chain and signature verified, or why it does not verify.
    public static func version(_ bytes: [UInt8], blob: String) -> Result<VaultFile, CofferError> {
        do {
            return .success(try Vault.checkAndVerify(bytes, path: "blob \(blob)").header)
        } catch let error as CofferError {
            return .failure(error)
        } catch {
            return .failure(.corrupted(part: "blob \(blob)"))
        }
    }

    /// The vault's versions at the merge bases of two commits (`git merge-base --all`): their
    /// common history. Empty when it is unknown or a merge base has no vault file.
    public typealias CommonHistory = (_ chosen: String, _ other: String) throws -> [VaultFile]

    /// Whether the vault file's history up to `commit` (that commit and its ancestors, every
    /// parent of a merge followed) ever held `blob`.
    public typealias HistoryHolds = (_ commit: String, _ blob: String) throws -> Bool

    /// Checks `commits` (parents before children) and returns the number of versions (distinct
    /// blobs) checked. `boundary` holds the blob of each parent outside `commits` that has the
    /// file; `versions` each blob's header. A commit without the file passes its parents'
    /// versions on to its children, so deleting the file for a commit hides nothing. A merge
    /// commit that keeps one parent's version whole is judged against the others by
    /// `keepsOneSide`, with `commonHistory`. A new version no newer than every version in its
    /// parent's history (possible after a side was kept) must not be one that history held
    /// (`holds`): a replay of a version given up, or of an old one re-parented.
    public static func check(
        _ commits: [Commit], boundary: [String: String], versions: [String: Result<VaultFile, CofferError>],
        commonHistory: CommonHistory = { _, _ in [] }, holds: HistoryHolds = { _, _ in false }
    ) throws -> Int {
        // Per commit, the versions in effect there: (blob, the commit that holds it).
        var inEffect: [String: [(blob: String, commit: String)]] = [:]
        for (commit, blob) in boundary { inEffect[commit] = [(blob, commit)] }
        // Per commit, the highest generation in its history; unknown (so any) outside `commits`.
        var highest: [String: UInt64] = [:]
        var checked = Set<String>()
        for commit in commits {
            let parentsHighest = commit.parents.map { highest[$0] ?? .max }.max() ?? 0
            var inherited: [(blob: String, commit: String)] = []
            for parent in commit.parents {
                for version in inEffect[parent] ?? [] where !inherited.contains(where: { $0.blob == version.blob }) {
                    inherited.append(version)
                }
            }
            guard let blob = commit.blob else {
                inEffect[commit.id] = inherited
                highest[commit.id] = parentsHighest
                continue
            }
            let name = "commit \(short(commit.id))"
            guard case let .success(child) = versions[blob] ?? .failure(.corrupted(part: "blob \(blob) not read")) else {
                if case let .failure(error) = versions[blob] { throw Break(commit: commit.id, reason: "\(name): its vault does not verify (\(error))") }
                throw Break(commit: commit.id, reason: "\(name): its vault was not read")
            }
            checked.insert(blob)
            if let problem = Descent.generationProblem(child, named: name) { throw Break(commit: commit.id, reason: problem) }
            // A merge whose vault is one parent's, byte for byte: a side chosen (`git checkout --ours`).
            let chosen = commit.parents.count > 1 ? inherited.first(where: { $0.blob == blob }) : nil
            for parent in inherited where parent.blob != blob {
                guard case let .success(parentFile) = versions[parent.blob] else { continue }
                if let problem = Descent.problem(child, named: name, from: parentFile, named: "its parent \(short(parent.commit))") {
                    guard let chosen, try keepsOneSide(
                        child, over: parentFile, commonHistory: commonHistory(chosen.commit, parent.commit)) else {
                        throw Break(commit: commit.id, reason: problem)
                    }
                }
                if child.generation <= parentsHighest, try holds(parent.commit, blob) {
                    throw Break(commit: commit.id, reason: "\(name) is a version its parent \(short(parent.commit))'s history already holds:"
                        + " a version given up when a merge kept the other side, or an old copy re-parented, replayed?")
                }
            }
            inEffect[commit.id] = [(blob, commit.id)]
            highest[commit.id] = max(parentsHighest, child.generation)
        }
        return checked.count
    }

    /// Whether a merge's `kept` version, one parent's whole, may stand beside the `other`
    /// parent's although it does not descend from it (Specs/git.md, "Keeping one side"): the
    /// same vault, the other's key chain not cut short (a rotation, maybe a revocation, is never
    /// dropped), and `kept` newer than every version of the two parents' common history (the
    /// side kept was written since; an old copy, or a parent that is an ancestor of the other,
    /// is a rollback). Only the generation and the other side's changes are given up.
    static func keepsOneSide(_ kept: VaultFile, over other: VaultFile, commonHistory: [VaultFile]) -> Bool {
        guard kept.vaultID == other.vaultID, !commonHistory.isEmpty else { return false }
        let otherKeys = other.keyChain.allKeys, keptKeys = kept.keyChain.allKeys
        guard otherKeys.count <= keptKeys.count, !Descent.chainsFork(kept.keyChain, other.keyChain) else { return false }
        return commonHistory.allSatisfy { base in
            kept.generation > base.generation && Descent.problem(kept, named: "", from: base, named: "") == nil
        }
    }

    static func short(_ commit: String) -> String { String(commit.prefix(12)) }
}

/// The commit up to which this machine has checked a vault's history, and the version the vault
/// file had then: `$XDG_STATE_HOME/coffer/history`, beside the trust store, lines
/// `<vault id> <version hex> <commit>` (commit `-`: none yet), mode 0600, rewritten atomically
/// under a lock; read and written through `TrustState`. A command checks the history again only
/// when the file's version is not the one recorded (a new key, or any other version: a pull may
/// bring a replay above the last one seen).
public struct HistoryState: Sendable {
    public struct Record: Equatable, Sendable {
        /// `version(of:)` of the file checked.
        public var version: [UInt8]
        /// nil: the vault was seen before any commit held it.
        public var commit: String?

        public init(version: [UInt8], commit: String?) {
            self.version = version
            self.commit = commit
        }
    }

    /// A vault version's digest: BLAKE2b-256 of its signature, which covers the whole file.
    public static func version(of vault: Vault) -> [UInt8] {
        BLAKE2b.hash(vault.signature, byteCount: VaultFile.keyByteCount)
    }

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// `history` in the trust store's folder.
    static func path(besideTrustStore trustStorePath: String) -> String {
        FileSystem.directory(of: trustStorePath) + "/history"
    }

    /// The file, to be read once and written once.
    func file() -> StateFile<[String: Record]> {
        StateFile(path: path, parse: { [path] in try Self.parse($0, path: path) }, render: Self.render)
    }

    /// A missing file (no bytes) holds nothing; a malformed one is an error, never a reason to skip checks.
    static func parse(_ bytes: [UInt8], path: String) throws -> [String: Record] {
        var records: [String: Record] = [:]
        for (number, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 3, let version = TrustStore.bytes(fromHex: fields[1]), version.count == VaultFile.keyByteCount else {
                throw CofferError.corrupted(part: "history state \(path), line \(number + 1)")
            }
            records[fields[0]] = Record(version: version, commit: fields[2] == "-" ? nil : fields[2])
        }
        return records
    }

    static func render(_ records: [String: Record]) -> [UInt8] {
        Array(records.sorted { $0.key < $1.key }.map { id, record in
            "\(id) \(TextView.hex(record.version)) \(record.commit ?? "-")\n"
        }.joined().utf8)
    }
}
