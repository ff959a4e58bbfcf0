import CofferCodec
import CofferCrypto
#if canImport(Glibc)
import Glibc
#endif

/// What this user has seen of each vault, to catch rollbacks, forks, forgeries and substituted
/// files (Specs/git.md): per vault id the verification keys of its chain seen so far (the last is
/// pinned); per vault id and line of history (a git branch, or none) the highest generation and
/// that version's fingerprint; per file path the vault id last seen there. A small text file
/// under `$XDG_STATE_HOME/coffer/`, mode 0600, rewritten atomically under a lock.
public struct TrustStore: Sendable {
    public struct Record: Equatable, Sendable {
        public var generation: UInt64
        public var fingerprint: String
        /// The verification key of the newest version seen on this line of history.
        public var key: [UInt8]
    }

    /// A verification key of a vault's chain, and the generation whose file replaced it (nil: the pinned key).
    struct KnownKey: Equatable {
        var key: [UInt8]
        var supersededAt: UInt64?
    }

    struct State: Equatable {
        var keys: [String: [KnownKey]] = [:]
        var versions: [String: Record] = [:]
        var paths: [String: String] = [:]
    }

    public enum Finding: Equatable, Sendable {
        case rollback(seen: UInt64, file: UInt64)
        case fork(generation: UInt64)
        case unknownKey(pinned: String, file: String)
        /// Signed by a key the vault has since replaced (an older version, e.g. on another branch).
        case supersededKey(file: String, supersededAt: UInt64)
        case substituted(path: String, seenID: String, fileID: String)

        /// Versions under a superseded key are read with a warning (a branch without the rotation),
        /// never written: writing would seal new secrets where a revoked party can read them.
        public var blocksReads: Bool {
            switch self {
            case .rollback, .fork, .supersededKey: false
            case .unknownKey, .substituted: true
            }
        }

        /// Rollbacks and forks may be written over with --allow-rollback; nothing else may.
        public var allowRollbackOverrides: Bool {
            switch self {
            case .rollback, .fork: true
            case .supersededKey, .unknownKey, .substituted: false
            }
        }

        public var message: String {
            switch self {
            case let .rollback(seen, file):
                "rollback: this vault is at generation \(file), but generation \(seen) was seen before (an older copy was restored?)"
            case let .fork(generation):
                "fork: generation \(generation) was seen before with different content"
            case let .supersededKey(file, supersededAt):
                "this version is signed by key \(file), which the vault replaced at generation \(supersededAt) (a rotation or revocation): it is read-only; merge or pull the rotation to write (or, for a branch meant to stay on the old key, coffer trust)"
            case let .unknownKey(pinned, file):
                "forged or substituted vault: its verification key \(file) is not linked to the pinned key \(pinned); after checking the key out of band, run coffer trust"
            case let .substituted(path, seenID, fileID):
                "\(path) held vault \(seenID) and now holds vault \(fileID); after checking, run coffer trust"
            }
        }
    }

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// `$XDG_STATE_HOME/coffer/trust`, else `~/.local/state/coffer/trust`.
    public static func defaultPath(environment: [String: String]) -> String {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"] ?? "/") + "/.local/state"
        return state + "/coffer/trust"
    }

    /// A short fingerprint of a key or version, as shown to users.
    public static func fingerprint(_ bytes: [UInt8]) -> String { TextView.fingerprint(bytes[...]) }

    /// The fingerprint of a vault version: of its signature, which is unique to its content.
    public static func versionFingerprint(_ vault: Vault) -> String { fingerprint(vault.signature) }

    // MARK: Checking

    /// The store's file, to be read once and written once (`TrustState` holds one per command).
    func file() -> StateFile<State> {
        StateFile(path: path, parse: { [path] in try Self.parse($0, path: path) }, render: Self.render)
    }

    /// The problems with opening `vault` from `filePath` on `branch` ("" outside git).
    public func findings(for vault: Vault, at filePath: String, branch: String) throws -> [Finding] {
        try TrustState(trustStore: self).findings(for: vault, at: filePath, branch: branch)
    }

    /// `findings`, and when there are none, `remember`: the store is read once for both.
    public func check(_ vault: Vault, at filePath: String, branch: String) throws -> [Finding] {
        let state = TrustState(trustStore: self)
        let findings = try state.check(vault, at: filePath, branch: branch)
        try state.write()
        return findings
    }

    static func findings(for vault: Vault, at filePath: String, branch: String, in state: State) -> [Finding] {
        var findings: [Finding] = []
        let id = TextView.hex(vault.vaultID)
        if let seenID = state.paths[Self.absolute(filePath)], seenID != id {
            findings.append(.substituted(path: filePath, seenID: seenID, fileID: id))
        }
        let chain = vault.keyChain.allKeys
        if let known = state.keys[id], let pinned = known.last, !chain.contains(pinned.key),
           !known.contains(where: { $0.key == vault.verificationKey }) {
            findings.append(.unknownKey(pinned: Self.fingerprint(pinned.key), file: Self.fingerprint(vault.verificationKey)))
        }
        let record = state.versions[id + " " + branch]
        // Signed by a key the vault replaced: stale on a line of history that has seen a newer key,
        // and on one never seen before (a branch or checkout made from before the re-key). Only a
        // line that has not received the re-key yet keeps writing under the older key.
        if record.map({ !chain.contains($0.key) }) ?? true,
           let old = state.keys[id]?.first(where: { $0.key == vault.verificationKey }), let supersededAt = old.supersededAt {
            findings.append(.supersededKey(file: Self.fingerprint(old.key), supersededAt: supersededAt))
        }
        if let record {
            if vault.generation < record.generation {
                findings.append(.rollback(seen: record.generation, file: vault.generation))
            } else if vault.generation == record.generation && Self.versionFingerprint(vault) != record.fingerprint {
                findings.append(.fork(generation: vault.generation))
            }
        }
        return findings
    }

    /// What is remembered of `vault`'s id on `branch`.
    public func record(for vault: Vault, branch: String) throws -> Record? {
        try TrustState(trustStore: self).record(for: vault, branch: branch)
    }

    /// The pinned verification key of `vault`'s id.
    public func pinnedKey(for vault: Vault) throws -> [UInt8]? {
        try TrustState(trustStore: self).pinnedKey(for: vault)
    }

    /// The chain's keys, each with the generation that replaced it.
    static func knownKeys(_ chain: KeyChain) -> [KnownKey] {
        let keys = chain.allKeys
        return keys.indices.map { index in
            KnownKey(key: keys[index], supersededAt: index < chain.links.count ? chain.links[index].generation : nil)
        }
    }

    /// Remembers `vault` as seen at `filePath` on `branch`: the generation only moves up (unless
    /// `acceptingRollback`: a write the user let proceed over a rollback starts the line anew), and
    /// the pin only forward along the (verified) key chain.
    public func remember(_ vault: Vault, at filePath: String, branch: String, acceptingRollback: Bool = false) throws {
        let state = TrustState(trustStore: self)
        try state.remember(vault, at: filePath, branch: branch, acceptingRollback: acceptingRollback)
        try state.write()
    }

    static func remembering(
        _ vault: Vault, at filePath: String, branch: String, acceptingRollback: Bool = false
    ) -> (inout State) -> Void {
        { state in
            let id = TextView.hex(vault.vaultID)
            state.paths[Self.absolute(filePath)] = id
            if let pinned = state.keys[id]?.last, !vault.keyChain.allKeys.contains(pinned.key) {
                // An older version of a chain already known: keep the pin.
            } else {
                state.keys[id] = Self.knownKeys(vault.keyChain)
            }
            let key = id + " " + branch
            if !acceptingRollback, let record = state.versions[key], record.generation > vault.generation { return }
            state.versions[key] = Record(
                generation: vault.generation, fingerprint: Self.versionFingerprint(vault), key: vault.verificationKey)
        }
    }

    /// Accepts the vault as it is now (`coffer trust`): its chain pinned, its generation on
    /// `branch` and its path recorded, whatever was remembered before.
    public func trust(_ vault: Vault, at filePath: String, branch: String) throws {
        let state = TrustState(trustStore: self)
        try state.trust(vault, at: filePath, branch: branch)
        try state.write()
    }

    static func trusting(_ vault: Vault, at filePath: String, branch: String) -> (inout State) -> Void {
        { state in
            let id = TextView.hex(vault.vaultID)
            state.paths[Self.absolute(filePath)] = id
            state.keys[id] = Self.knownKeys(vault.keyChain)
            state.versions[id + " " + branch] = Record(
                generation: vault.generation, fingerprint: Self.versionFingerprint(vault), key: vault.verificationKey)
        }
    }

    // MARK: Storage

    /// `path` as one spelling per file: absolute, symbolic links and `.`/`..` resolved. A path
    /// that does not exist is only made absolute.
    static func absolute(_ path: String) -> String {
        if let resolved = FileSystem.realPath(path) { return resolved }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard !path.hasPrefix("/"), let cwd = getcwd(&buffer, buffer.count) else { return path }
        return String(decoding: UnsafeRawBufferPointer(start: cwd, count: strlen(cwd)), as: UTF8.self) + "/" + path
    }

    /// Lines: `keys <id> <hex>[@<superseded at>]...`, `version <generation> <fingerprint> <key> <id> <branch>`,
    /// `path <id> <path>`. A missing file (no bytes) is an empty store; an unreadable or malformed
    /// one is an error, never a reason to trust everything.
    static func parse(_ bytes: [UInt8], path: String) throws -> State {
        var state = State()
        let corrupt = { (index: Int) in CofferError.corrupted(part: "trust store \(path), line \(index + 1)") }
        for (number, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ").map(String.init)
            switch fields.first {
            case "keys" where fields.count >= 3:
                let keys = fields.dropFirst(2).map { field -> KnownKey? in
                    let parts = field.split(separator: "@").map(String.init)
                    guard let key = Self.bytes(fromHex: parts[0]), key.count == VaultFile.keyByteCount else { return nil }
                    if parts.count == 1 { return KnownKey(key: key, supersededAt: nil) }
                    return UInt64(parts[1]).map { KnownKey(key: key, supersededAt: $0) }
                }
                if keys.contains(where: { $0 == nil }) { throw corrupt(number) }
                state.keys[fields[1]] = keys.compactMap { $0 }
            case "version" where fields.count >= 5:
                guard let generation = UInt64(fields[1]), let key = Self.bytes(fromHex: fields[3]) else { throw corrupt(number) }
                let name = line.split(separator: " ", maxSplits: 4).dropFirst(4).first.map(String.init) ?? ""
                state.versions[name] = Record(generation: generation, fingerprint: fields[2], key: key)
            case "path" where fields.count >= 3:
                state.paths[String(line.split(separator: " ", maxSplits: 2)[2])] = fields[1]
            default:
                throw corrupt(number)
            }
        }
        return state
    }

    /// Text that can stand in one line of the store.
    private static func isStorable(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// The file's text for `state`, in a fixed order.
    static func render(_ state: State) -> [UInt8] {
        var text = ""
        for (id, keys) in state.keys.sorted(by: { $0.key < $1.key }) {
            let fields = keys.map { TextView.hex($0.key) + ($0.supersededAt.map { "@\($0)" } ?? "") }
            text += "keys \(id) " + fields.joined(separator: " ") + "\n"
        }
        for (key, record) in state.versions.sorted(by: { $0.key < $1.key }) where Self.isStorable(key) {
            text += "version \(record.generation) \(record.fingerprint) \(TextView.hex(record.key)) \(key)\n"
        }
        for (file, id) in state.paths.sorted(by: { $0.key < $1.key }) where Self.isStorable(file) {
            text += "path \(id) \(file)\n"
        }
        return Array(text.utf8)
    }

    static func bytes(fromHex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
