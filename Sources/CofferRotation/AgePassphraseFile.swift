import CofferCrypto

/// age's passphrase-encrypted file (age v1 with one `scrypt` stanza), binary or armored: what
/// `age -p` writes over an identity file, and what `coffer keygen --protect` writes
/// (Specs/identity-files.md §12).
enum AgePassphraseFile {
    static let versionLine = "age-encryption.org/v1"
    private static let armorBegin = "-----BEGIN AGE ENCRYPTED FILE-----"
    private static let armorEnd = "-----END AGE ENCRYPTED FILE-----"
    /// The highest scrypt work factor (log2 N) read: age's own cap when decrypting.
    static let maxWorkFactor = 22
    /// What `age -p` writes by default.
    static let defaultWorkFactor = 18
    private static let scryptLabel = Array("age-encryption.org/v1/scrypt".utf8)
    private static let chunkSize = 64 * 1024
    private static let fileKeyCount = 16

    static func isEncrypted(_ file: UnsafeRawBufferPointer) -> Bool {
        file.starts(with: (versionLine + "\n").utf8) || file.starts(with: armorBegin.utf8)
    }

    /// The plaintext, in guarded memory. Everything but the passphrase is checked first; without
    /// one, throws `passphraseRequired`. A wrong passphrase and an altered file both give
    /// `wrongPassphrase` or a malformed-file error.
    static func decrypt(_ file: UnsafeRawBufferPointer, path: String, passphrase: SecureBytes?) throws(IdentityError) -> SecureBytes {
        func fail(_ reason: String) -> IdentityError { .malformed(path: path, line: 0, reason: reason) }
        if file.starts(with: armorBegin.utf8) {
            guard let end = firstIndex(of: armorEnd, in: file),
                  let binary = Base64.decodeSecret(UnsafeRawBufferPointer(rebasing: file[armorBegin.utf8.count..<end])) else {
                throw fail("invalid armored age file")
            }
            return try binary.withUnsafeBytes { (bytes) throws(IdentityError) in try decrypt(bytes, path: path, passphrase: passphrase) }
        }
        let header = try parseHeader(file, path: path)
        guard let passphrase else { throw .passphraseRequired(path: path) }
        let wrappingKey: SecureBytes
        do {
            wrappingKey = try AgePrimitives.scrypt(passphrase, salt: scryptLabel + header.salt, logN: header.workFactor)
        } catch {
            throw fail("not enough memory for the scrypt work factor \(header.workFactor)")
        }
        let zeroNonce = [UInt8](repeating: 0, count: AgePrimitives.chachaNonceByteCount)
        guard let fileKey = header.body.withUnsafeBytes({ AgePrimitives.chachaOpen($0, nonce: zeroNonce, key: wrappingKey) }),
              fileKey.count == fileKeyCount else {
            throw .wrongPassphrase(path: path)
        }
        let mac = AgePrimitives.hmacSHA256(key: AgePrimitives.hkdfSHA256(fileKey, salt: [], info: Array("header".utf8)),
                                            Array(file[..<header.macEnd]))
        guard ConstantTime.equals(mac, header.mac) else { throw .wrongPassphrase(path: path) }
        let payload = UnsafeRawBufferPointer(rebasing: file[header.payloadStart...])
        guard payload.count >= 16 else { throw fail("the age payload is truncated") }
        let payloadKey = AgePrimitives.hkdfSHA256(fileKey, salt: Array(payload[..<16]), info: Array("payload".utf8))
        return try openStream(UnsafeRawBufferPointer(rebasing: payload[16...]), key: payloadKey, fail: fail)
    }

    /// Encrypts `plaintext` (at most one 64 KiB chunk: an identity file) to `passphrase`.
    static func encrypt(_ plaintext: SecureBytes, passphrase: SecureBytes, workFactor: Int) throws -> [UInt8] {
        precondition(plaintext.count <= chunkSize)
        let fileKey = SecureBytes.random(count: fileKeyCount)
        let salt = SecureRandom.bytes(16)
        let wrappingKey = try AgePrimitives.scrypt(passphrase, salt: scryptLabel + salt, logN: workFactor)
        let body = AgePrimitives.chachaSeal(fileKey, nonce: [UInt8](repeating: 0, count: AgePrimitives.chachaNonceByteCount), key: wrappingKey)
        let encode = { (bytes: [UInt8]) in Base64.encode(bytes, alphabet: .standardUnpadded) }
        var header = Array("\(versionLine)\n-> scrypt \(encode(salt)) \(workFactor)\n\(encode(body))\n---".utf8)
        let mac = AgePrimitives.hmacSHA256(key: AgePrimitives.hkdfSHA256(fileKey, salt: [], info: Array("header".utf8)), header)
        header += Array(" \(encode(mac))\n".utf8)
        let nonce = SecureRandom.bytes(16)
        let payloadKey = AgePrimitives.hkdfSHA256(fileKey, salt: nonce, info: Array("payload".utf8))
        return header + nonce + AgePrimitives.chachaSeal(plaintext, nonce: chunkNonce(0, last: true), key: payloadKey)
    }

    private struct Header {
        var salt: [UInt8]
        var workFactor: Int
        var body: [UInt8]
        var mac: [UInt8]
        /// The MAC covers the file up to here (through "---").
        var macEnd: Int
        var payloadStart: Int
    }

    /// age's header with exactly one scrypt stanza, as age requires for passphrase files.
    private static func parseHeader(_ file: UnsafeRawBufferPointer, path: String) throws(IdentityError) -> Header {
        func fail(_ reason: String) -> IdentityError { .malformed(path: path, line: 0, reason: reason) }
        var offset = 0
        func nextLine() -> String? {
            guard let end = file[offset...].firstIndex(of: UInt8(ascii: "\n")), end - offset <= 4096 else { return nil }
            defer { offset = end + 1 }
            return String(decoding: file[offset..<end], as: UTF8.self)
        }
        func decode(_ text: String) -> [UInt8]? { Base64.decode(text, alphabet: .standardUnpadded) }
        guard nextLine() == versionLine, let stanza = nextLine(), stanza.hasPrefix("-> ") else { throw fail("not an age file") }
        let arguments = stanza.dropFirst(3).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard arguments.first == "scrypt" else { throw fail("not a passphrase-protected age file (its recipient is not scrypt)") }
        guard arguments.count == 3, let salt = decode(arguments[1]), salt.count == 16,
              arguments[2].allSatisfy(\.isASCII), arguments[2].allSatisfy(\.isNumber), arguments[2].first != "0",
              arguments[2].count <= 2, let workFactor = Int(arguments[2]) else {
            throw fail("malformed scrypt stanza")
        }
        guard workFactor <= maxWorkFactor else {
            throw fail("scrypt work factor \(workFactor) is above \(maxWorkFactor), the most age reads")
        }
        // A body is base64 lines of 64 characters ending with a shorter one; a file key's is one line.
        guard let bodyLine = nextLine(), bodyLine.count < 64, let body = decode(bodyLine), body.count == 32 else {
            throw fail("malformed scrypt stanza")
        }
        let macLineStart = offset
        guard let macLine = nextLine() else { throw fail("not an age file") }
        guard macLine.hasPrefix("--- ") else {
            throw fail(macLine.hasPrefix("-> ") ? "a passphrase-protected age file holds exactly one stanza" : "not an age file")
        }
        guard let mac = decode(String(macLine.dropFirst(4))), mac.count == 32 else { throw fail("malformed age header MAC") }
        return Header(salt: salt, workFactor: workFactor, body: body, mac: mac, macEnd: macLineStart + 3, payloadStart: offset)
    }

    /// age's STREAM: 64 KiB chunks, nonce = 11-byte big-endian counter || 1 for the last chunk.
    private static func openStream(
        _ ciphertext: UnsafeRawBufferPointer, key: SecureBytes, fail: (String) -> IdentityError
    ) throws(IdentityError) -> SecureBytes {
        let sealedChunk = chunkSize + AgePrimitives.chachaTagByteCount
        let chunkCount = max(1, (ciphertext.count + sealedChunk - 1) / sealedChunk)
        var chunks: [SecureBytes] = []
        for index in 0..<chunkCount {
            let start = index * sealedChunk
            let chunk = UnsafeRawBufferPointer(rebasing: ciphertext[start..<min(start + sealedChunk, ciphertext.count)])
            let last = index == chunkCount - 1
            guard let opened = AgePrimitives.chachaOpen(chunk, nonce: chunkNonce(UInt64(index), last: last), key: key),
                  opened.count > 0 || chunkCount == 1 else {
                throw fail("the age payload failed to decrypt (altered or truncated)")
            }
            chunks.append(opened)
        }
        let total = SecureBytes(count: chunks.reduce(0) { $0 + $1.count })
        total.withUnsafeMutableBytes { out in
            var position = 0
            for chunk in chunks {
                chunk.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[position...]).copyMemory(from: $0) }
                position += chunk.count
            }
        }
        return total
    }

    private static func chunkNonce(_ counter: UInt64, last: Bool) -> [UInt8] {
        [0, 0, 0] + withUnsafeBytes(of: counter.bigEndian, Array.init) + [last ? 1 : 0]
    }
}
