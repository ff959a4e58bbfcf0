import CofferCrypto

/// An OpenSSH Ed25519 public key (`ssh-ed25519 AAAA... comment`), usable as a recipient the way
/// age's `ssh-ed25519` recipient type uses it: its X25519 form (`x25519`) is what a slot seals to
/// (Specs/identity-files.md §10).
public struct SSHPublicKey: Hashable, Sendable {
    /// The only SSH key type Coffer takes (age's other one, ssh-rsa, has no X25519 form).
    public static let supportedType = "ssh-ed25519"

    /// The 32-byte Ed25519 public key.
    public let ed25519: [UInt8]
    /// The 32-byte X25519 public key of the same key pair.
    public let x25519: [UInt8]
    public let comment: String

    public init(ed25519: [UInt8], comment: String = "") throws {
        x25519 = try Ed25519.x25519PublicKey(ed25519)
        self.ed25519 = ed25519
        self.comment = comment
    }

    /// Parses one `authorized_keys`-style line: type, base64 key, optional comment. Other SSH key
    /// types are refused naming the supported ones; `isSSHKey(_:)` tells which lines are meant.
    public init(parsing text: String) throws {
        try self.init(parsing: text, path: "", line: 0)
    }

    init(parsing text: String, path: String, line: Int) throws(IdentityError) {
        func fail(_ reason: String) -> IdentityError { .malformed(path: path, line: line, reason: reason) }
        let fields = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        let type = fields.first.map(String.init) ?? ""
        guard type == Self.supportedType else { throw Self.unsupported(type, path: path, line: line) }
        guard fields.count >= 2, let wire = Base64.decode(String(fields[1])) else { throw fail("invalid base64 in the SSH key") }
        var reader = WireReader(wire)
        guard reader.string() == Array(type.utf8), let key = reader.string(), key.count == Ed25519.publicKeyByteCount,
              reader.isAtEnd else {
            throw fail("not a valid ssh-ed25519 public key")
        }
        do {
            try self.init(ed25519: key, comment: fields.count > 2 ? String(fields[2]) : "")
        } catch {
            throw fail("not a valid ssh-ed25519 public key")
        }
    }

    /// Whether `text` looks like an SSH public key of any type (so it gets SSH errors, not age's).
    public static func isSSHKey(_ text: String) -> Bool {
        ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"].contains { text.hasPrefix($0) }
    }

    static func unsupported(_ type: String, path: String, line: Int) -> IdentityError {
        .unsupported(path: path, line: line, reason: "\(type.isEmpty ? "this" : type) keys are not supported; supported: \(supportedType) and age X25519 (age1...)")
    }

    /// The key in OpenSSH's wire form: string "ssh-ed25519", string key.
    static func wire(ed25519: [UInt8]) -> [UInt8] {
        WireWriter.string(Array(supportedType.utf8)) + WireWriter.string(ed25519)
    }

    /// `SHA256:...` exactly as `ssh-keygen -l` prints it: unpadded base64 of SHA-256 of the wire form.
    public static func fingerprint(ed25519: [UInt8]) -> String {
        "SHA256:" + Base64.encode(SHA256.hash(wire(ed25519: ed25519))).filter { $0 != "=" }
    }

    public var fingerprint: String { Self.fingerprint(ed25519: ed25519) }

    /// `ssh-ed25519 AAAA...`, without the comment.
    public var text: String { Self.supportedType + " " + Base64.encode(Self.wire(ed25519: ed25519)) }
}

/// OpenSSH's private key file (PROTOCOL.key in OpenSSH): `-----BEGIN OPENSSH PRIVATE KEY-----`,
/// base64 of "openssh-key-v1\0", cipher, KDF, KDF options, one public key and the private section.
enum SSHPrivateKey {
    static let beginMarker = "-----BEGIN OPENSSH PRIVATE KEY-----"
    static let endMarker = "-----END OPENSSH PRIVATE KEY-----"
    private static let magic = Array("openssh-key-v1\0".utf8)

    static func isPrivateKeyFile(_ file: UnsafeRawBufferPointer) -> Bool {
        file.starts(with: beginMarker.utf8)
    }

    /// The most bcrypt-pbkdf rounds read (ssh-keygen writes 16; `-a` raises it): a bound on the
    /// work a hostile key file can ask for, checked before any derivation.
    static let maxRounds: UInt32 = 1024

    /// The identity of an OpenSSH Ed25519 key file. The decoded key stays in guarded memory; only
    /// the seed is copied out (into guarded memory) to rebuild the key pair. A protected file is
    /// checked, then opened with `passphrase` (`passphraseRequired` without one).
    static func identity(file: UnsafeRawBufferPointer, path: String, passphrase: SecureBytes?) throws(IdentityError) -> Identity {
        func fail(_ reason: String) -> IdentityError { .malformed(path: path, line: 0, reason: reason) }
        let text = UnsafeRawBufferPointer(rebasing: file[beginMarker.utf8.count...])
        guard let endIndex = firstIndex(of: endMarker, in: text) else { throw fail("missing the END OPENSSH PRIVATE KEY line") }
        guard let decoded = Base64.decodeSecret(UnsafeRawBufferPointer(rebasing: text[..<endIndex])) else {
            throw fail("invalid base64 in the OpenSSH private key")
        }
        return try decoded.withUnsafeBytes { (bytes) throws(IdentityError) -> Identity in
            var reader = WireReader(bytes)
            guard reader.bytes(magic.count).map(Array.init) == magic,
                  let cipher = reader.string(), let kdf = reader.string(), let kdfOptions = reader.string(),
                  reader.u32() == 1, let publicBlob = reader.string(), let privateSection = reader.view(),
                  reader.isAtEnd else {
                throw fail("not an OpenSSH private key holding one key")
            }
            var publicReader = WireReader(publicBlob)
            let type = publicReader.string().map { String(decoding: $0, as: UTF8.self) } ?? ""
            guard type == SSHPublicKey.supportedType else { throw SSHPublicKey.unsupported(type, path: path, line: 0) }
            guard cipher == Array("none".utf8), kdf == Array("none".utf8) else {
                var options = WireReader(kdfOptions)
                guard kdf == Array("bcrypt".utf8), options.string()?.count == 16, let rounds = options.u32(), options.isAtEnd else {
                    throw .unsupported(path: path, line: 0, reason: "this OpenSSH key's protection is not supported (only bcrypt)")
                }
                guard (1...maxRounds).contains(rounds) else {
                    throw fail("bcrypt-pbkdf rounds \(rounds) outside 1...\(maxRounds)")
                }
                guard let passphrase else { throw .passphraseRequired(path: path) }
                guard OpenSSHKeyDecryption.isAvailable else {
                    throw .unsupported(path: path, line: 0, reason: "decrypting a protected OpenSSH key needs libssh (libssh.so.4), which is not installed")
                }
                guard let plain = OpenSSHKeyDecryption.decrypt(file, passphrase: passphrase) else { throw .wrongPassphrase(path: path) }
                let identity = try plain.withUnsafeBytes { (plain) throws(IdentityError) in
                    guard isPrivateKeyFile(plain) else { throw fail("the decrypted key is not an OpenSSH key") }
                    return try Self.identity(file: plain, path: path, passphrase: nil)
                }
                let expected = try? Ed25519.x25519PublicKey(publicBlob.suffix(Ed25519.publicKeyByteCount))
                guard identity.recipient.publicKey == expected else { throw fail("the private key does not match its public key") }
                return identity
            }
            var section = WireReader(privateSection)
            guard let check1 = section.u32(), let check2 = section.u32(), check1 == check2,
                  section.string() == Array(SSHPublicKey.supportedType.utf8),
                  let publicKey = section.string(), publicKey.count == Ed25519.publicKeyByteCount,
                  let secret = section.view(), secret.count == 64, section.string() != nil,
                  section.remainingIsPadding else {
                throw fail("not a valid ssh-ed25519 private key")
            }
            let seed = SecureBytes(copying: UnsafeRawBufferPointer(rebasing: secret[..<Ed25519.seedByteCount]))
            do {
                let signingKey = try Ed25519.SigningKey(seed: seed)
                guard signingKey.publicKey == publicKey, Array(secret[Ed25519.seedByteCount...]) == publicKey,
                      publicReader.string() == publicKey else {
                    throw fail("the private key does not match its public key")
                }
                return try Identity(secretKey: signingKey.x25519SecretKey())
            } catch let error as IdentityError {
                throw error
            } catch {
                throw fail("not a valid ssh-ed25519 private key")
            }
        }
    }
}

/// Where `needle` first starts in `haystack`.
func firstIndex(of needle: String, in haystack: UnsafeRawBufferPointer) -> Int? {
    let pattern = Array(needle.utf8)
    guard haystack.count >= pattern.count else { return nil }
    return (0...(haystack.count - pattern.count)).first { haystack[$0..<($0 + pattern.count)].elementsEqual(pattern) }
}

/// Reads OpenSSH's wire encoding (RFC 4251 §5): big-endian u32 and u32-length-prefixed strings.
struct WireReader {
    private let bytes: UnsafeRawBufferPointer?
    private let array: [UInt8]
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        array = []
    }

    init(_ array: [UInt8]) {
        bytes = nil
        self.array = array
    }

    private var count: Int { bytes?.count ?? array.count }
    private func byte(_ index: Int) -> UInt8 { bytes?[index] ?? array[index] }

    var isAtEnd: Bool { offset == count }

    /// OpenSSH pads the private section with 1, 2, 3, ... up to the cipher's block size.
    var remainingIsPadding: Bool {
        (offset..<count).allSatisfy { Int(byte($0)) == $0 - offset + 1 }
    }

    mutating func u32() -> UInt32? {
        guard count - offset >= 4 else { return nil }
        defer { offset += 4 }
        return (0..<4).reduce(0) { $0 << 8 | UInt32(byte(offset + $1)) }
    }

    mutating func bytes(_ length: Int) -> UnsafeRawBufferPointer? {
        guard let bytes, count - offset >= length else { return nil }
        defer { offset += length }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }

    /// A string's bytes as an array (public data only).
    mutating func string() -> [UInt8]? {
        guard let length = u32().map(Int.init), count - offset >= length else { return nil }
        defer { offset += length }
        return (offset..<(offset + length)).map(byte)
    }

    /// A string's bytes in place (secret data stays where it is).
    mutating func view() -> UnsafeRawBufferPointer? {
        guard let length = u32().map(Int.init) else { return nil }
        return bytes(length)
    }
}

enum WireWriter {
    static func string(_ bytes: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init) + bytes
    }
}
