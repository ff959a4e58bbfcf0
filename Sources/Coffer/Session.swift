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

    public func path(for vaultID: [UInt8]) -> String {
        folder + "/" + TextView.hex(vaultID) + ".session"
    }

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
    }

    private func write(_ state: State, masterKey: SecureBytes, tokenKey: SecureBytes) throws {
        try prepareFolder()
        let header = Self.header(state)
        let box = XChaCha20Poly1305.seal(
            masterKey, key: Self.sealingKey(token: tokenKey, vaultID: state.vaultID), authenticating: header)
        let path = path(for: state.vaultID)
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

    /// Opens `vault` with its session if the token and file allow; updates the idle deadline.
    /// Throws `Rejection` (the file is removed when expired, tampered or foreign).
    public func resume(_ vault: Vault, token: String, now: UInt64) throws {
        guard let tokenKey = Self.tokenKey(token) else { throw Rejection.malformedToken }
        guard folderIsSafe else { throw Rejection.none }
        let path = path(for: vault.vaultID)
        guard let bytes = try? FileSystem.read(path, limit: 4096) else { throw Rejection.none }
        do {
            let (state, masterKey) = try Self.open(bytes, tokenKey: tokenKey, vaultID: vault.vaultID)
            guard now < state.deadline, now >= state.created else { throw Rejection.expired }
            // Another version of the vault (a checkout, a pull): keep the session for the version it fits.
            guard state.verificationKey == vault.verificationKey else { throw Rejection.otherVersion }
            let grant = KeyGrant(masterKey: masterKey)
            try vault.unlock(grant: grant, slot: vault.slots.first { $0.id == state.slotID })
            // Within the same second the deadlines would not move: no rewrite.
            if state.lastUsed != now {
                var touched = state
                touched.lastUsed = now
                try write(touched, masterKey: masterKey, tokenKey: tokenKey)
            }
        } catch let rejection as Rejection {
            if rejection != .otherVersion { unlink(path) }
            throw rejection
        } catch {
            unlink(path)
            throw Rejection.foreign
        }
    }

    private static func open(_ bytes: [UInt8], tokenKey: SecureBytes, vaultID: [UInt8]) throws -> (State, SecureBytes) {
        guard bytes.count == headerByteCount + XChaCha20Poly1305.overhead + 32, bytes.starts(with: magic) else {
            throw Rejection.tampered
        }
        let fileVaultID = Array(bytes[8..<24])
        guard fileVaultID == vaultID else { throw Rejection.foreign }
        func u64(_ offset: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) } }
        let state = State(
            vaultID: fileVaultID, verificationKey: Array(bytes[24..<56]), slotID: UInt32(truncatingIfNeeded: u64(56)),
            created: u64(64), expires: u64(72), idleSeconds: u64(80), lastUsed: u64(88))
        let header = Array(bytes[..<headerByteCount])
        do {
            let box = try XChaCha20Poly1305.SealedBox(combined: Array(bytes[headerByteCount...]))
            let key = try XChaCha20Poly1305.openKey(box, key: sealingKey(token: tokenKey, vaultID: vaultID), authenticating: header)
            return (state, key)
        } catch {
            throw Rejection.tampered
        }
    }

    /// The session of `vaultID` as its file says, without a token (no key is read).
    public func peek(vaultID: [UInt8]) -> State? {
        guard folderIsSafe, let bytes = try? FileSystem.read(path(for: vaultID), limit: 4096),
              bytes.count == Self.headerByteCount + XChaCha20Poly1305.overhead + 32, bytes.starts(with: Self.magic) else {
            return nil
        }
        func u64(_ offset: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) } }
        return State(
            vaultID: Array(bytes[8..<24]), verificationKey: Array(bytes[24..<56]),
            slotID: UInt32(truncatingIfNeeded: u64(56)), created: u64(64), expires: u64(72), idleSeconds: u64(80), lastUsed: u64(88))
    }

    // MARK: Ending

    /// Ends one vault's session. Returns whether there was one.
    @discardableResult
    public func end(vaultID: [UInt8]) -> Bool {
        folderIsSafe && unlink(path(for: vaultID)) == 0
    }

    /// Ends every session in the folder; returns how many.
    @discardableResult
    public func endAll() -> Int {
        guard folderIsSafe, let dir = opendir(folder) else { return 0 }
        defer { closedir(dir) }
        var count = 0
        while let item = readdir(dir) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".session"), unlink(folder + "/" + name) == 0 { count += 1 }
            if name.contains(".session.tmp-") { unlink(folder + "/" + name) }
        }
        return count
    }

    /// After the master key changed (rotate, slot removal): re-seal the session with the new key
    /// when the token is in hand, else end it.
    public func refresh(after vault: Vault, token: String?, now: UInt64) {
        guard let old = peek(vaultID: vault.vaultID) else { return }
        guard let token, let tokenKey = Self.tokenKey(token), let masterKey = vault.keyGrant?.masterKey,
              (try? FileSystem.read(path(for: vault.vaultID), limit: 4096)).flatMap({ try? Self.open($0, tokenKey: tokenKey, vaultID: vault.vaultID) }) != nil
        else {
            end(vaultID: vault.vaultID)
            return
        }
        var state = old
        state.verificationKey = vault.verificationKey
        state.lastUsed = now
        if (try? write(state, masterKey: masterKey, tokenKey: tokenKey)) == nil { end(vaultID: vault.vaultID) }
    }
}
