import CofferCodec
import CofferCrypto

/// age identity files, Coffer's passphrase-protected identity files and age recipients files
/// (Specs/identity-files.md).
public enum IdentityFile {
    /// Larger files are refused (age's limit for identity files).
    static let maxFileSize = 16 << 20

    private static let protectedMarker = "COFFER-PROTECTED-IDENTITY-1"
    private static let publicKeyComment = "# public key: "
    private static let protectedVersion: UInt8 = 1
    /// version, salt, opslimit, memlimit, then the sealed secret key.
    private static let payloadCount = 1 + Argon2id.saltByteCount + 8 + 8 + XChaCha20Poly1305.overhead + X25519.keyByteCount

    /// Parses an age identity file: one `AGE-SECRET-KEY-1...` per line, lines starting with `#`
    /// and empty lines ignored, CRLF accepted; returns every identity, in file order.
    ///
    /// A Coffer passphrase-protected file is opened with `passphrase`; without one it throws
    /// `IdentityError.passphraseRequired` (after checking everything but the passphrase).
    /// Secret keys are decoded from `bytes` straight into guarded memory.
    public static func parse(_ bytes: [UInt8], path: String, passphrase: SecureBytes?) throws -> [Identity] {
        try bytes.withUnsafeBytes { try parse(file: $0, path: path, passphrase: passphrase) }
    }

    /// `parse` for a file read into guarded memory, so its text is never copied out of it.
    public static func parse(_ contents: SecureBytes, path: String, passphrase: SecureBytes?) throws -> [Identity] {
        try contents.withUnsafeBytes { try parse(file: $0, path: path, passphrase: passphrase) }
    }

    /// `parse`, also taking age plugin identities (`AGE-PLUGIN-NAME-1...` lines), returned in
    /// `plugins`; the file may then hold no X25519 identity.
    public static func parse(
        _ contents: SecureBytes, path: String, passphrase: SecureBytes?, plugins: inout [PluginKey]
    ) throws -> [Identity] {
        var collected: [PluginKey]? = []
        defer { plugins += collected ?? [] }
        return try contents.withUnsafeBytes { try parse(file: $0, path: path, passphrase: passphrase, plugins: &collected) }
    }

    private static func parse(file: UnsafeRawBufferPointer, path: String, passphrase: SecureBytes?) throws -> [Identity] {
        var refused: [PluginKey]?
        return try parse(file: file, path: path, passphrase: passphrase, plugins: &refused)
    }

    /// With `plugins` nil, plugin identities are refused.
    private static func parse(
        file: UnsafeRawBufferPointer, path: String, passphrase: SecureBytes?, plugins: inout [PluginKey]?
    ) throws -> [Identity] {
        guard file.count <= maxFileSize else {
            throw IdentityError.malformed(path: path, line: 0, reason: "larger than 16 MiB")
        }
        if SSHPrivateKey.isPrivateKeyFile(file) { return [try SSHPrivateKey.identity(file: file, path: path, passphrase: passphrase)] }
        if AgePassphraseFile.isEncrypted(file) {
            let plaintext = try AgePassphraseFile.decrypt(file, path: path, passphrase: passphrase)
            return try plaintext.withUnsafeBytes { plain in
                guard !AgePassphraseFile.isEncrypted(plain), !SSHPrivateKey.isPrivateKeyFile(plain) else {
                    throw IdentityError.malformed(path: path, line: 0, reason: "the protected file holds no age identity file")
                }
                return try parse(file: plain, path: path, passphrase: nil, plugins: &plugins)
            }
        }
        var identities: [Identity] = []
        var publicKeys: [(line: Int, text: String)] = []
        var protected: (line: Int, payload: String)?
        try forEachLine(of: file) { number, line in
            if line.isEmpty { return }
            if line.first == UInt8(ascii: "#") {
                if line.starts(with: publicKeyComment.utf8) {
                    publicKeys.append((number, String(decoding: line.dropFirst(publicKeyComment.utf8.count), as: UTF8.self)))
                }
            } else if line.starts(with: protectedMarker.utf8) {
                guard protected == nil else {
                    throw IdentityError.malformed(path: path, line: number, reason: "more than one protected identity")
                }
                protected = (number, String(decoding: line.dropFirst(protectedMarker.utf8.count), as: UTF8.self))
            } else if plugins != nil, line.starts(with: "AGE-PLUGIN-".utf8) {
                guard let plugin = PluginKey.identity(String(decoding: line, as: UTF8.self)) else {
                    throw IdentityError.malformed(path: path, line: number, reason: "invalid age plugin identity")
                }
                plugins!.append(plugin)
            } else {
                identities.append(try Identity(secretKey: Identity.decodeSecretKey(line, path: path, line: number)))
            }
        }
        guard let protected else {
            guard !identities.isEmpty || !(plugins ?? []).isEmpty else { throw IdentityError.noIdentity(path: path) }
            return identities
        }
        guard identities.isEmpty else {
            throw IdentityError.malformed(
                path: path, line: protected.line, reason: "a protected identity file cannot also hold plain secret keys")
        }
        return [try openProtected(protected, publicKeys: publicKeys, passphrase: passphrase, path: path)]
    }

    /// The file `age-keygen` writes: `# created:` (RFC 3339, UTC; `created` in Unix seconds) and
    /// `# public key:` comments, then the secret key, as guarded bytes.
    public static func render(_ identity: Identity, created: UInt64 = Timestamp.now()) -> SecureBytes {
        let header = Array("# created: \(Timestamp.rfc3339(created))\n\(publicKeyComment)\(identity.recipient.text)\n".utf8)
        let text = SecureBytes(count: header.count + Identity.encodedCount + 1)
        text.withUnsafeMutableBytes { output in
            output.copyBytes(from: header)
            identity.writeEncodedSecretKey(into: UnsafeMutableRawBufferPointer(rebasing: output[header.count..<(output.count - 1)]))
            output[output.count - 1] = UInt8(ascii: "\n")
        }
        return text
    }

    /// age's passphrase-protected identity file (what `age -p` makes of `render(identity)`): an age
    /// file with one scrypt stanza of work factor `workFactor` (log2 N, at most 22, as age reads).
    public static func renderAgeProtected(_ identity: Identity, passphrase: SecureBytes, workFactor: Int) throws -> [UInt8] {
        guard (1...AgePassphraseFile.maxWorkFactor).contains(workFactor) else {
            throw CryptoError.invalidParameters("the scrypt work factor is 1...\(AgePassphraseFile.maxWorkFactor)")
        }
        return try AgePassphraseFile.encrypt(render(identity), passphrase: passphrase, workFactor: workFactor)
    }

    /// What `age -p` uses: scrypt N = 2^18.
    public static let defaultWorkFactor = AgePassphraseFile.defaultWorkFactor

    /// Coffer's passphrase-protected identity file. Throws `CryptoError.invalidParameters` when
    /// `parameters` exceed what readers accept (opslimit 16, memlimit 4 GiB).
    public static func renderProtected(_ identity: Identity, passphrase: SecureBytes, parameters: Argon2id.Parameters) throws -> [UInt8] {
        guard Limits.acceptsArgon2id(opsLimit: parameters.opsLimit, memLimit: parameters.memLimit) else {
            throw CryptoError.invalidParameters("protected identities take Argon2id opslimit 1...16 and memlimit 8 KiB...4 GiB")
        }
        let salt = SecureRandom.bytes(Argon2id.saltByteCount)
        let key = try Argon2id.deriveKey(passphrase: passphrase, salt: salt, parameters: parameters)
        let box = XChaCha20Poly1305.seal(identity.secretKey, key: key, authenticating: associatedData(identity.recipient))
        let payload = [protectedVersion] + salt + littleEndian(parameters.opsLimit) + littleEndian(parameters.memLimit) + box.combined
        let text = """
            # coffer protected identity
            \(publicKeyComment)\(identity.recipient.text)
            \(protectedMarker)\(Base64.encode(payload))

            """
        return Array(text.utf8)
    }

    /// Parses a recipients file: one `age1...`, age plugin (`age1<plugin>1...`) or SSH public key
    /// per line, as age's `-R` takes (GitHub's `.keys` format is one), lines starting with `#` and
    /// empty lines ignored, CRLF accepted. Errors name the 1-based line. SSH keys of unsupported
    /// types are returned in `skipped` ("line N: type"), or refused when `strict`. The result may be empty.
    public static func parseRecipients(
        _ text: String, path: String, strict: Bool = false
    ) throws -> (keys: [RecipientKey], plugins: [PluginKey], skipped: [String]) {
        var text = text
        guard text.utf8.count <= maxFileSize else {
            throw IdentityError.malformed(path: path, line: 0, reason: "larger than 16 MiB")
        }
        var keys: [RecipientKey] = []
        var plugins: [PluginKey] = []
        var skipped: [String] = []
        try text.withUTF8 { utf8 in
            try forEachLine(of: UnsafeRawBufferPointer(utf8)) { number, line in
                guard !line.isEmpty, line.first != UInt8(ascii: "#") else { return }
                let text = String(decoding: line, as: UTF8.self)
                if let plugin = PluginKey.recipient(text) { return plugins.append(plugin) }
                do {
                    keys.append(try RecipientKey(parsing: text, path: path, line: number))
                } catch IdentityError.unsupported where !strict {
                    skipped.append("line \(number): \(text.prefix { $0 != " " })")
                }
            }
        }
        return (keys, plugins, skipped)
    }

    /// Checks a protected identity's payload, then opens it with `passphrase`.
    private static func openProtected(
        _ protected: (line: Int, payload: String), publicKeys: [(line: Int, text: String)],
        passphrase: SecureBytes?, path: String
    ) throws -> Identity {
        func malformed(_ line: Int, _ reason: String) -> IdentityError { .malformed(path: path, line: line, reason: reason) }
        guard let payload = Base64.decode(protected.payload) else {
            throw malformed(protected.line, "invalid base64")
        }
        guard payload.first == protectedVersion else { throw malformed(protected.line, "unsupported protected identity version") }
        guard payload.count == payloadCount else { throw malformed(protected.line, "protected identity has the wrong length") }
        let saltEnd = 1 + Argon2id.saltByteCount
        let opsLimit = readLittleEndian(payload[saltEnd..<(saltEnd + 8)])
        let memLimit = readLittleEndian(payload[(saltEnd + 8)..<(saltEnd + 16)])
        guard Limits.acceptsArgon2id(opsLimit: opsLimit, memLimit: memLimit) else {
            throw malformed(protected.line, "Argon2id parameters outside opslimit 1...16, memlimit 8 KiB...4 GiB in KiB steps")
        }
        guard let publicKey = publicKeys.first else { throw malformed(protected.line, "missing the '# public key:' line") }
        guard publicKeys.count == 1 else { throw malformed(publicKeys[1].line, "more than one '# public key:' line") }
        let recipient = try Recipient(parsing: publicKey.text, path: path, line: publicKey.line)
        guard let passphrase else { throw IdentityError.passphraseRequired(path: path) }

        let key = try Argon2id.deriveKey(
            passphrase: passphrase, salt: Array(payload[1..<saltEnd]),
            parameters: Argon2id.Parameters(opsLimit: opsLimit, memLimit: memLimit))
        let box = try XChaCha20Poly1305.SealedBox(combined: Array(payload[(saltEnd + 16)...]))
        let secretKey: SecureBytes
        do {
            secretKey = try XChaCha20Poly1305.openKey(box, key: key, authenticating: associatedData(recipient))
        } catch CryptoError.authenticationFailed {
            throw IdentityError.wrongPassphrase(path: path)
        }
        let identity = try Identity(secretKey: secretKey)
        guard identity.recipient == recipient else {
            throw malformed(publicKey.line, "the public key does not belong to the protected secret key")
        }
        return identity
    }

    /// Binds the sealed key to its public key and to this format.
    private static func associatedData(_ recipient: Recipient) -> [UInt8] {
        Array("coffer-identity-v1".utf8) + recipient.publicKey
    }

    private static func littleEndian(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    private static func readLittleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Calls `body` with each line's 1-based number and bytes, without "\n" or "\r\n".
    private static func forEachLine(
        of text: UnsafeRawBufferPointer, _ body: (Int, UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        var number = 0
        var start = 0
        while start < text.count {
            let end = text[start...].firstIndex(of: UInt8(ascii: "\n")) ?? text.count
            var line = UnsafeRawBufferPointer(rebasing: text[start..<end])
            if line.last == UInt8(ascii: "\r") { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
            number += 1
            try body(number, line)
            start = end + 1
        }
    }
}
