import CofferCodec
public import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

/// Passphrase-unlocked CLI sessions (Specs/sessions.md): the master key sealed in a small file
/// under the user's runtime folder, under a key derived from a random token that only the
/// shell's environment holds. Neither the file nor the token alone reveals the master key.
public struct SessionStore: Sendable {
    /// Why a session could not be used; the CLI says it and falls back to the passphrase.
    public enum Rejection: Error, Equatable, Sendable {
        case none
        case expired
        case tampered
        case foreign
        case otherVersion
        case malformedToken
    }

    /// A session as read from its file.
    public struct State: Equatable, Sendable {
        public var vaultID: [UInt8]
        public var verificationKey: [UInt8]
        public var slotID: UInt32
        public var created: UInt64
        public var expires: UInt64
        public var idleSeconds: UInt64
        public var lastUsed: UInt64

        /// When the session ends if unused: the earlier of the absolute and idle deadlines.
        public var deadline: UInt64 { min(expires, lastUsed &+ idleSeconds) }
    }

    public static let environmentVariable = "COFFER_SESSION"
    static let magic = Array("COFFSES1".utf8)
    public static let tokenByteCount = 32

    /// The folder session files live in: created 0700 and checked to be the user's own.
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// `$XDG_RUNTIME_DIR/coffer`, else `/tmp/coffer-UID` (checked: a real folder, owned by this user, mode 0700).
    public static func defaultFolder(environment: [String: String]) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/coffer" }
        return "/tmp/coffer-\(getuid())"
    }

    /// The file of `token`'s session on `vaultID`: `<vault id>.<file id>.session`, where the file id
    /// is a keyed hash of the token. Each shell thus has its own file, a wrong token finds none, and
    /// a name reveals nothing of its token. Nil when `token` is not a token.
    public func path(for vaultID: [UInt8], token: String) -> String? {
        Self.tokenKey(token).map { path(for: vaultID, tokenKey: $0) }
    }

    private func path(for vaultID: [UInt8], tokenKey: SecureBytes) -> String {
        let fileID = BLAKE2b.keyedHash(Array("coffer-session-file\0".utf8) + vaultID, key: tokenKey, byteCount: 16)
        return folder + "/" + TextView.hex(vaultID) + "." + fileID.withUnsafeBytes { TextView.hex(Array($0)) } + Self.suffix
    }

    private static let suffix = ".session"

    /// A new random token, as the text that goes in `COFFER_SESSION`.
    public static func newToken() -> SecureBytes {
        let raw = SecureBytes.random(count: tokenByteCount)
        let text = SecureBytes(count: tokenByteCount * 2)
        let digits = Array("0123456789abcdef".utf8)
        raw.withUnsafeBytes { raw in
            text.withUnsafeMutableBytes { out in
                for (index, byte) in raw.enumerated() {
                    out[2 * index] = digits[Int(byte >> 4)]
                    out[2 * index + 1] = digits[Int(byte & 0x0F)]
                }
            }
        }
        return text
    }

    /// Whether `text` has the form of a token.
    public static func isToken(_ text: String) -> Bool { tokenKey(text) != nil }

    /// The token key from its text form, or nil when the text is not a token.
    static func tokenKey(_ text: String) -> SecureBytes? {
        let utf8 = Array(text.utf8)
        guard utf8.count == tokenByteCount * 2 else { return nil }
        let key = SecureBytes(count: tokenByteCount)
        var valid = true
        key.withUnsafeMutableBytes { out in
            for index in 0..<tokenByteCount {
                guard let high = hexValue(utf8[2 * index]), let low = hexValue(utf8[2 * index + 1]) else {
                    valid = false
                    return
                }
                out[index] = high << 4 | low
            }
        }
        return valid ? key : nil
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// The sealing key of one vault's session: BLAKE2b keyed by the token, over the vault id.
    private static func sealingKey(token: SecureBytes, vaultID: [UInt8]) -> SecureBytes {
        BLAKE2b.keyedHash(Array("coffer-session\0".utf8) + vaultID, key: token)
    }

    private static func header(_ state: State) -> [UInt8] {
        var bytes = magic + state.vaultID + state.verificationKey
        for value in [UInt64(state.slotID), state.created, state.expires, state.idleSeconds, state.lastUsed] {
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        }
        return bytes
    }

    private static let headerByteCount = 8 + 16 + 32 + 5 * 8

    // MARK: Writing

    /// Seals `grant`'s master key for `vault` under `token` and writes the session file (0600).
    public func start(
        vault: Vault, token: String, ttl: UInt64, idle: UInt64, now: UInt64
    ) throws {
        guard let tokenKey = Self.tokenKey(token) else { throw CofferError.invalidArgument("COFFER_SESSION is not a session token") }
        guard let grant = vault.keyGrant, let masterKey = grant.masterKey else {
            throw CofferError.keyUnavailable("sessions need a key that opens the whole vault")
        }
        let state = State(
            vaultID: vault.vaultID, verificationKey: vault.verificationKey, slotID: vault.unlockedSlot?.id ?? 0,
            created: now, expires: now &+ ttl, idleSeconds: idle, lastUsed: now)
        try write(state, masterKey: masterKey, tokenKey: tokenKey)
        // Sessions of shells long gone would otherwise stay until logout.
        for (path, other) in files(of: vault.vaultID) where other.map({ now >= $0.deadline }) ?? true { unlink(path) }
    }

    private func write(_ state: State, masterKey: SecureBytes, tokenKey: SecureBytes) throws {
        try prepareFolder()
        let header = Self.header(state)
        let box = XChaCha20Poly1305.seal(
            masterKey, key: Self.sealingKey(token: tokenKey, vaultID: state.vaultID), authenticating: header)
        let path = path(for: state.vaultID, tokenKey: tokenKey)
        try FileSystem.atomicReplace(path, with: header + box.combined, mode: 0o600, durable: false)
    }

    /// Creates the folder 0700, or checks that an existing one is a real folder of ours with mode 0700.
    func prepareFolder() throws {
        if mkdir(folder, 0o700) != 0 && errno != EEXIST { throw FileSystem.ioError(folder) }
        guard folderIsSafe else {
            throw CofferError.io(path: folder, reason: "the session folder must be a folder of yours with mode 0700")
        }
    }

    /// Whether the folder is a real folder (not a link) of this user with no group or other access.
    /// Nothing is read from or removed in a folder that is not.
    var folderIsSafe: Bool {
        var info = stat()
        return lstat(folder, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR && info.st_uid == getuid()
            && info.st_mode & 0o077 == 0
    }

    // MARK: Reading

    /// Opens `vault` with this token's session if its file allows; updates the idle deadline.
    /// Throws `Rejection`; the file is removed when expired, tampered or foreign, and kept when it
    /// fits another version of the vault. Other tokens' sessions are never touched.
    public func resume(_ vault: Vault, token: String, now: UInt64) throws {
        guard let tokenKey = Self.tokenKey(token) else { throw Rejection.malformedToken }
        let path = path(for: vault.vaultID, tokenKey: tokenKey)
        do {
            let (state, masterKey) = try load(path, for: vault, tokenKey: tokenKey, now: now)
            try vault.unlock(grant: KeyGrant(masterKey: masterKey), slot: vault.slots.first { $0.id == state.slotID })
            // Within the same second the deadlines would not move: no rewrite. A failed rewrite (a
            // full disk) leaves the idle deadline where it was and the session usable.
            if state.lastUsed != now {
                var touched = state
                touched.lastUsed = now
                try? write(touched, masterKey: masterKey, tokenKey: tokenKey)
            }
        } catch let rejection as Rejection {
            if rejection != .otherVersion && rejection != .none { unlink(path) }
            throw rejection
        } catch {
            unlink(path)
            throw Rejection.foreign
        }
    }

    /// This token's session on `vault` if it is valid now (verified, not used and not changed).
    public func session(for vault: Vault, token: String, now: UInt64) -> State? {
        guard let tokenKey = Self.tokenKey(token) else { return nil }
        return try? load(path(for: vault.vaultID, tokenKey: tokenKey), for: vault, tokenKey: tokenKey, now: now).0
    }

    /// Reads and opens a session file, then checks its deadlines and that it fits `vault`'s version.
    private func load(_ path: String, for vault: Vault, tokenKey: SecureBytes, now: UInt64) throws -> (State, SecureBytes) {
        guard folderIsSafe, let bytes = try? FileSystem.read(path, limit: 4096) else { throw Rejection.none }
        let (state, masterKey) = try Self.open(bytes, tokenKey: tokenKey, vaultID: vault.vaultID)
        guard now < state.deadline, now >= state.created else { throw Rejection.expired }
        // Another version of the vault (a checkout, a pull): keep the session for the version it fits.
        guard state.verificationKey == vault.verificationKey else { throw Rejection.otherVersion }
        return (state, masterKey)
    }

    private static func open(_ bytes: [UInt8], tokenKey: SecureBytes, vaultID: [UInt8]) throws -> (State, SecureBytes) {
        guard let state = plaintextState(bytes) else { throw Rejection.tampered }
        guard state.vaultID == vaultID else { throw Rejection.foreign }
        do {
            let box = try XChaCha20Poly1305.SealedBox(combined: Array(bytes[headerByteCount...]))
            let key = try XChaCha20Poly1305.openKey(
                box, key: sealingKey(token: tokenKey, vaultID: vaultID), authenticating: Array(bytes[..<headerByteCount]))
            return (state, key)
        } catch {
            throw Rejection.tampered
        }
    }

    /// The header of a session file of the right size, unverified; nil for anything else.
    private static func plaintextState(_ bytes: [UInt8]) -> State? {
        guard bytes.count == headerByteCount + XChaCha20Poly1305.overhead + 32, bytes.starts(with: magic) else { return nil }
        func u64(_ offset: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) } }
        return State(
            vaultID: Array(bytes[8..<24]), verificationKey: Array(bytes[24..<56]), slotID: UInt32(truncatingIfNeeded: u64(56)),
            created: u64(64), expires: u64(72), idleSeconds: u64(80), lastUsed: u64(88))
    }

    /// How many sessions of `vaultID`, any shell's, have not passed their deadlines (headers unverified).
    public func openCount(of vaultID: [UInt8], now: UInt64) -> Int {
        files(of: vaultID).filter { $0.state.map { now < $0.deadline } ?? false }.count
    }

    /// Every session file of `vaultID` (any token), with its unverified header (nil if unreadable).
    private func files(of vaultID: [UInt8]) -> [(path: String, state: State?)] {
        let prefix = TextView.hex(vaultID) + "."
        return names().filter { $0.hasPrefix(prefix) && $0.hasSuffix(Self.suffix) }.map { name in
            let path = folder + "/" + name
            return (path, (try? FileSystem.read(path, limit: 4096)).flatMap(Self.plaintextState))
        }
    }

    /// The names in the folder; none when it is not safe.
    private func names() -> [String] {
        guard folderIsSafe else { return [] }
        return Folder.entryNames(folder) ?? []
    }

    // MARK: Ending

    /// Ends every session of one vault, whichever shell holds it. Returns how many there were.
    @discardableResult
    public func end(vaultID: [UInt8]) -> Int {
        files(of: vaultID).filter { unlink($0.path) == 0 }.count
    }

    /// Ends every session in the folder, and removes the verified file states; returns how many sessions.
    @discardableResult
    public func endAll() -> Int {
        var count = 0
        for name in names() {
            if name.hasSuffix(Self.suffix), unlink(folder + "/" + name) == 0 { count += 1 }
            if name.contains(Self.suffix + ".tmp-") { unlink(folder + "/" + name) }
            if VerifiedStates.isRecord(name) { unlink(folder + "/" + name) }
        }
        return count
    }

    /// After the master key changed (rotate, slot removal): re-seal this token's session with the
    /// new key when it was valid, and end every other session of the vault.
    public func refresh(after vault: Vault, token: String?, now: UInt64) {
        let kept = token.flatMap(Self.tokenKey).flatMap { tokenKey -> String? in
            let path = path(for: vault.vaultID, tokenKey: tokenKey)
            guard let masterKey = vault.keyGrant?.masterKey, let bytes = try? FileSystem.read(path, limit: 4096),
                  var state = try? Self.open(bytes, tokenKey: tokenKey, vaultID: vault.vaultID).0, now < state.deadline
            else { return nil }
            state.verificationKey = vault.verificationKey
            state.lastUsed = now
            return (try? write(state, masterKey: masterKey, tokenKey: tokenKey)) == nil ? nil : path
        }
        for (path, _) in files(of: vault.vaultID) where path != kept { unlink(path) }
    }
}
