import CofferCodec
import CofferCrypto

/// Errors from reading identities and recipients. Reasons never contain key material.
///
/// `line` is 1-based; 0 means the error is not about one line (a whole file, or a key given as
/// a string, in which case `path` is empty too).
public enum IdentityError: Error, Equatable, Sendable {
    case malformed(path: String, line: Int, reason: String)
    /// The file holds a passphrase-protected identity and no passphrase was given.
    case passphraseRequired(path: String)
    /// The passphrase does not open the protected identity (or the file was altered).
    case wrongPassphrase(path: String)
    /// The file holds no identity at all.
    case noIdentity(path: String)
    /// A key of a type Coffer does not take (ssh-rsa, a protected OpenSSH key).
    case unsupported(path: String, line: Int, reason: String)
}

extension IdentityError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .malformed(path, line, reason), let .unsupported(path, line, reason):
            let place = [path, line > 0 ? "line \(line)" : ""].filter { !$0.isEmpty }.joined(separator: ", ")
            return place.isEmpty ? reason : "\(place): \(reason)"
        case let .passphraseRequired(path): return "\(path): the identity is passphrase-protected"
        case let .wrongPassphrase(path): return "\(path): wrong passphrase"
        case let .noIdentity(path): return "\(path): no identity found"
        }
    }
}

/// An age X25519 recipient: the public key that files and vault slots are sealed to.
public struct Recipient: Hashable, Sendable, CustomStringConvertible {
    static let hrp = "age"

    /// The 32-byte X25519 public key.
    public let publicKey: [UInt8]

    /// A recipient for a 32-byte public key; throws `CryptoError.invalidKey` for other lengths.
    public init(publicKey: [UInt8]) throws {
        guard publicKey.count == X25519.keyByteCount else { throw CryptoError.invalidKey }
        self.publicKey = publicKey
    }

    /// Parses `age1...` (lower-case Bech32, hrp "age", 32 bytes).
    public init(parsing text: String) throws {
        try self.init(parsing: text, path: "", line: 0)
    }

    init(parsing text: String, path: String, line: Int) throws(IdentityError) {
        func fail(_ reason: String) -> IdentityError { .malformed(path: path, line: line, reason: reason) }
        if SSHPublicKey.isSSHKey(text) { throw fail("an SSH key, not an age recipient (age1...)") }
        guard text.lowercased().hasPrefix("age1") else { throw fail("expected an age recipient (age1...)") }
        guard let (hrp, data) = Bech32.decode(text) else {
            throw fail("invalid Bech32 encoding (bad character, mixed case or checksum mismatch)")
        }
        guard hrp.lowercased() == Self.hrp else { throw fail("plugin recipients are not supported") }
        guard hrp == Self.hrp else { throw fail("an age recipient must be lower-case") }
        guard data.count == X25519.keyByteCount else { throw fail("an age recipient holds 32 bytes, not \(data.count)") }
        publicKey = data
    }

    /// `age1...`, 62 characters.
    public var text: String { Bech32.encode(hrp: Self.hrp, data: publicKey) }

    public var description: String { text }
}

/// An age X25519 identity: a secret key and the recipient it opens files for.
public final class Identity {
    static let hrp = "age-secret-key-"
    /// Characters of `AGE-SECRET-KEY-1...`.
    static let encodedCount = Bech32.encodedCount(hrpCount: hrp.utf8.count, byteCount: X25519.keyByteCount)

    /// The 32-byte X25519 secret key, in guarded memory.
    public let secretKey: SecureBytes
    public let recipient: Recipient

    /// The identity of a 32-byte secret key, which it keeps (not a copy); throws
    /// `CryptoError.invalidKey` for other lengths.
    public init(secretKey: SecureBytes) throws {
        recipient = try Recipient(publicKey: X25519.publicKey(for: secretKey))
        self.secretKey = secretKey
    }

    /// A new identity with a random secret key.
    public static func generate() -> Identity {
        // A fresh 32-byte key always has a public key.
        try! Identity(secretKey: X25519.generateSecretKey())
    }

    /// Parses `AGE-SECRET-KEY-1...` (upper-case Bech32, hrp "age-secret-key-", 32 bytes).
    ///
    /// The key is decoded from the string's own storage into guarded memory; a string without
    /// contiguous UTF-8 is first copied into guarded memory.
    public convenience init(parsing text: String) throws {
        let secretKey: SecureBytes
        if let decoded = try text.utf8.withContiguousStorageIfAvailable({
            try Self.decodeSecretKey(UnsafeRawBufferPointer($0), path: "", line: 0)
        }) {
            secretKey = decoded
        } else {
            let copy = SecureBytes(count: text.utf8.count)
            copy.withUnsafeMutableBytes { $0.copyBytes(from: text.utf8) }
            secretKey = try copy.withUnsafeBytes { try Self.decodeSecretKey($0, path: "", line: 0) }
        }
        try self.init(secretKey: secretKey)
    }

    /// The secret key as `AGE-SECRET-KEY-1...` text (74 bytes of UTF-8), in guarded memory.
    public func encodedSecretKey() -> SecureBytes {
        let text = SecureBytes(count: Self.encodedCount)
        text.withUnsafeMutableBytes { writeEncodedSecretKey(into: $0) }
        return text
    }

    /// Writes `AGE-SECRET-KEY-1...` into `output` (`encodedCount` bytes) without intermediate copies.
    func writeEncodedSecretKey(into output: UnsafeMutableRawBufferPointer) {
        secretKey.withUnsafeBytes { key in
            Bech32.encode(hrp: Self.hrp, data: key, uppercase: true, into: output)
        }
    }

    /// Decodes one `AGE-SECRET-KEY-1...` line straight into guarded memory.
    static func decodeSecretKey(_ text: UnsafeRawBufferPointer, path: String, line: Int) throws(IdentityError) -> SecureBytes {
        func fail(_ reason: String) -> IdentityError { .malformed(path: path, line: line, reason: reason) }
        if text.starts(with: "AGE-PLUGIN-".utf8) { throw fail("plugin identities are not supported") }
        let prefix = (Self.hrp + "1").utf8
        guard text.lazy.map(Bech32.lowercased).starts(with: prefix) else {
            throw fail("expected an age secret key (AGE-SECRET-KEY-1...)")
        }
        guard let layout = Bech32.layout(of: text) else {
            throw fail("invalid Bech32 encoding (bad character, mixed case or checksum mismatch)")
        }
        // The separator is the last "1": a longer hrp means a "1" later in the line.
        guard layout.hrp.count == Self.hrp.utf8.count else {
            throw fail("expected an age secret key (AGE-SECRET-KEY-1...)")
        }
        guard layout.isUppercase else { throw fail("an age secret key must be upper-case") }
        guard layout.padsToBytes, layout.byteCount == X25519.keyByteCount else {
            throw fail("an age secret key holds 32 bytes; this one has the wrong length")
        }
        let secretKey = SecureBytes(count: X25519.keyByteCount)
        secretKey.withUnsafeMutableBytes { Bech32.unpack(text, layout, into: $0) }
        return secretKey
    }
}

/// A key a slot can be sealed to: an age recipient or an SSH Ed25519 public key.
public enum RecipientKey: Hashable, Sendable {
    case age(Recipient)
    case ssh(SSHPublicKey)

    /// Parses `age1...` or `ssh-ed25519 AAAA... comment`; other SSH types are `unsupported`.
    public init(parsing text: String) throws {
        try self.init(parsing: text, path: "", line: 0)
    }

    init(parsing text: String, path: String, line: Int) throws(IdentityError) {
        if SSHPublicKey.isSSHKey(text) {
            self = .ssh(try SSHPublicKey(parsing: text, path: path, line: line))
        } else {
            self = .age(try Recipient(parsing: text, path: path, line: line))
        }
    }

    /// The X25519 public key a slot's grant is sealed to.
    public var publicKey: [UInt8] {
        switch self {
        case let .age(recipient): recipient.publicKey
        case let .ssh(key): key.x25519
        }
    }

    public var slotKind: Slot.Kind {
        switch self {
        case .age: .recipient
        case let .ssh(key): .sshEd25519(publicKey: key.ed25519)
        }
    }

    /// The SSH key's comment; nil for age recipients and SSH keys without one.
    public var comment: String? {
        guard case let .ssh(key) = self, !key.comment.isEmpty else { return nil }
        return key.comment
    }
}

/// An age plugin recipient (`age1NAME1...`) or identity (`AGE-PLUGIN-NAME-1...`): text that only
/// the program `age-plugin-NAME` understands (C2SP age-plugin).
public struct PluginKey: Hashable, Sendable {
    /// The plugin's name, lower-case (`yubikey` for `age-plugin-yubikey`).
    public let name: String
    public let text: String

    /// The plugin recipient in `text`, or nil when it is not one (an `age1...` X25519 key, say).
    public static func recipient(_ text: String) -> PluginKey? {
        guard let (hrp, _) = Bech32.decode(text), hrp == hrp.lowercased(), hrp.hasPrefix("age1") else { return nil }
        return PluginKey(name: String(hrp.dropFirst(4)), text: text)
    }

    /// The plugin identity in `text`, or nil when it is not a valid one.
    static func identity(_ text: String) -> PluginKey? {
        guard let (hrp, _) = Bech32.decode(text), hrp == hrp.uppercased(), hrp.hasPrefix("AGE-PLUGIN-"), hrp.hasSuffix("-")
        else { return nil }
        return PluginKey(name: String(hrp.dropFirst(11).dropLast()).lowercased(), text: text)
    }

    init?(name: String, text: String) {
        // age's rule for plugin names: what may follow "age-plugin-" in a file name.
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ "abcdefghijklmnopqrstuvwxyz0123456789+-._".unicodeScalars.contains($0) })
        else { return nil }
        self.name = name
        self.text = text
    }
}
