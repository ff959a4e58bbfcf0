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
    }

    struct State {
        var keys: [String: [[UInt8]]] = [:]
        var versions: [String: Record] = [:]
        var paths: [String: String] = [:]
    }

    public enum Finding: Equatable, Sendable {
        case rollback(seen: UInt64, file: UInt64)
        case fork(generation: UInt64)
        case unknownKey(pinned: String, file: String)
        case substituted(path: String, seenID: String, fileID: String)

        public var blocksReads: Bool {
            switch self {
            case .rollback, .fork: false
            case .unknownKey, .substituted: true
            }
        }

        public var message: String {
            switch self {
            case let .rollback(seen, file):
                "rollback: this vault is at generation \(file), but generation \(seen) was seen before (an older copy was restored?)"
            case let .fork(generation):
                "fork: generation \(generation) was seen before with different content"
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
    public static func fingerprint(_ bytes: [UInt8]) -> String {
        TextView.hex(BLAKE2b.hash(bytes, byteCount: 16).prefix(8))
    }

    /// The fingerprint of a vault version: of its signature, which is unique to its content.
    public static func versionFingerprint(_ vault: Vault) -> String { fingerprint(vault.file.signature) }

    // MARK: Checking

    /// The problems with opening `vault` from `filePath` on `branch` ("" outside git).
    public func findings(for vault: Vault, at filePath: String, branch: String) -> [Finding] {
        let state = load()
        var findings: [Finding] = []
        let id = TextView.hex(vault.vaultID)
        if let seenID = state.paths[Self.absolute(filePath)], seenID != id {
            findings.append(.substituted(path: filePath, seenID: seenID, fileID: id))
        }
        if let known = state.keys[id], let pinned = known.last,
           !vault.file.keyChain.allKeys.contains(pinned), !known.contains(vault.verificationKey) {
            findings.append(.unknownKey(pinned: Self.fingerprint(pinned), file: Self.fingerprint(vault.verificationKey)))
        }
        if let record = state.versions[id + " " + branch] {
            if vault.generation < record.generation {
                findings.append(.rollback(seen: record.generation, file: vault.generation))
            } else if vault.generation == record.generation && Self.versionFingerprint(vault) != record.fingerprint {
                findings.append(.fork(generation: vault.generation))
            }
        }
        return findings
    }

    /// What is remembered of `vault`'s id on `branch`.
    public func record(for vault: Vault, branch: String) -> Record? {
        load().versions[TextView.hex(vault.vaultID) + " " + branch]
    }

    /// The pinned verification key of `vault`'s id.
    public func pinnedKey(for vault: Vault) -> [UInt8]? {
        load().keys[TextView.hex(vault.vaultID)]?.last
    }

    /// Remembers `vault` as seen at `filePath` on `branch`: the generation only moves up, and the
    /// pin only forward along the (verified) key chain.
    public func remember(_ vault: Vault, at filePath: String, branch: String) throws {
        try update { state in
            let id = TextView.hex(vault.vaultID)
            state.paths[Self.absolute(filePath)] = id
            let chain = vault.file.keyChain.allKeys
            if let pinned = state.keys[id]?.last, !chain.contains(pinned) {
                // An older version of a chain already known: keep the pin.
            } else {
                state.keys[id] = chain
            }
            let key = id + " " + branch
            if let record = state.versions[key], record.generation > vault.generation { return }
            state.versions[key] = Record(generation: vault.generation, fingerprint: Self.versionFingerprint(vault))
        }
    }

    /// Accepts the vault as it is now (`coffer trust`): its chain pinned, its generation on
    /// `branch` and its path recorded, whatever was remembered before.
    public func trust(_ vault: Vault, at filePath: String, branch: String) throws {
        try update { state in
            let id = TextView.hex(vault.vaultID)
            state.paths[Self.absolute(filePath)] = id
            state.keys[id] = vault.file.keyChain.allKeys
            state.versions[id + " " + branch] = Record(generation: vault.generation, fingerprint: Self.versionFingerprint(vault))
        }
    }

    // MARK: Storage

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard let resolved = realpath(path, &buffer) else { return path }
        return String(decoding: UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)), as: UTF8.self)
    }

    /// Lines: `keys <id> <hex>...`, `version <generation> <fingerprint> <id> <branch>`, `path <id> <path>`.
    private func load() -> State {
        var state = State()
        guard let bytes = try? FileSystem.read(path, limit: 16 << 20) else { return state }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            switch fields.first {
            case "keys" where fields.count >= 3:
                state.keys[fields[1]] = fields.dropFirst(2).compactMap(Self.bytes(fromHex:))
            case "version" where fields.count >= 4:
                guard let generation = UInt64(fields[1]) else { continue }
                let key = line.split(separator: " ", maxSplits: 3).dropFirst(3).first.map(String.init) ?? ""
                state.versions[key] = Record(generation: generation, fingerprint: fields[2])
            case "path" where fields.count >= 3:
                state.paths[String(line.split(separator: " ", maxSplits: 2)[2])] = fields[1]
            default:
                continue
            }
        }
        return state
    }

    private func update(_ change: (inout State) -> Void) throws {
        let folder = FileSystem.directory(of: path)
        var prefix = ""
        for component in folder.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw FileSystem.ioError(prefix) }
        }
        let lock = try FolderLock(forVaultAt: path)
        defer { withExtendedLifetime(lock) {} }
        FileSystem.removeStaleTemporaries(for: path)
        var state = load()
        change(&state)
        var text = ""
        for (id, keys) in state.keys.sorted(by: { $0.key < $1.key }) {
            text += "keys \(id) " + keys.map { TextView.hex($0) }.joined(separator: " ") + "\n"
        }
        for (key, record) in state.versions.sorted(by: { $0.key < $1.key }) {
            text += "version \(record.generation) \(record.fingerprint) \(key)\n"
        }
        for (file, id) in state.paths.sorted(by: { $0.key < $1.key }) { text += "path \(id) \(file)\n" }
        try FileSystem.atomicReplace(path, with: Array(text.utf8), mode: 0o600) { _ in }
    }

    private static func bytes(fromHex text: String) -> [UInt8]? {
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
