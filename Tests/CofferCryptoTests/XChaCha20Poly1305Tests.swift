import CofferCrypto
import Testing

struct XChaCha20Poly1305Tests {
    // draft-irtf-cfrg-xchacha-03, Appendix A.3.1 (Example and Test Vector for AEAD_XChaCha20_Poly1305).
    static let key = hex("808182838485868788898a8b8c8d8e8f 909192939495969798999a9b9c9d9e9f")
    static let nonce = hex("404142434445464748494a4b4c4d4e4f 5051525354555657")
    static let associatedData = hex("50515253c0c1c2c3c4c5c6c7")
    static let plaintext = Array(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
            .utf8)
    static let ciphertext = hex("""
        bd6d179d3e83d43b9576579493c0e939 572a1700252bfaccbed2902c21396cbb
        731c7f1b0b4aa6440bf3a82f4eda7e39 ae64c6708c54c216cb96b72e1213b452
        2f8c9ba40db5d945b11b69b982c1bb9e 3f3fac2bc369488f76b2383565d3fff9
        21f9664c97637da9768812f615c68b13 b52e
        """)
    static let tag = hex("c0875924c1c7987947deafd8780acf49")

    @Test func draftTestVector() throws {
        let key = SecureBytes(copying: Self.key)
        let box = XChaCha20Poly1305.seal(Self.plaintext, key: key, nonce: Self.nonce, authenticating: Self.associatedData)
        #expect(box.combined == Self.nonce + Self.ciphertext + Self.tag)
        #expect(Array(box.nonce) == Self.nonce)
        #expect(Array(box.ciphertext) == Self.ciphertext)
        #expect(Array(box.tag) == Self.tag)
        #expect(box.plaintextCount == Self.plaintext.count)

        let parsed = try XChaCha20Poly1305.SealedBox(combined: Self.nonce + Self.ciphertext + Self.tag)
        #expect(try XChaCha20Poly1305.open(parsed, key: key, authenticating: Self.associatedData) == Self.plaintext)
    }

    @Test func roundTripWithRandomNonce() throws {
        let key = SecureBytes.random(count: XChaCha20Poly1305.keyByteCount)
        let message = Array("attack at dawn".utf8)
        let first = XChaCha20Poly1305.seal(message, key: key, authenticating: [1, 2, 3])
        let second = XChaCha20Poly1305.seal(message, key: key, authenticating: [1, 2, 3])
        #expect(first.combined.count == message.count + XChaCha20Poly1305.overhead)
        #expect(first.nonce != second.nonce)
        #expect(try XChaCha20Poly1305.open(first, key: key, authenticating: [1, 2, 3]) == message)
        #expect(try XChaCha20Poly1305.open(second, key: key, authenticating: [1, 2, 3]) == message)
    }

    @Test func emptyPlaintextAndAssociatedData() throws {
        let key = SecureBytes.random(count: XChaCha20Poly1305.keyByteCount)
        let box = XChaCha20Poly1305.seal([], key: key, authenticating: [])
        #expect(box.combined.count == XChaCha20Poly1305.overhead)
        #expect(box.plaintextCount == 0)
        #expect(try XChaCha20Poly1305.open(box, key: key, authenticating: []) == [])
    }

    @Test func keyMaterialRoundTripsThroughGuardedMemory() throws {
        let key = SecureBytes.random(count: XChaCha20Poly1305.keyByteCount)
        let secret = SecureBytes.random(count: 32)
        let box = XChaCha20Poly1305.seal(secret, key: key, authenticating: Array("slot".utf8))
        let opened = try XChaCha20Poly1305.openKey(box, key: key, authenticating: Array("slot".utf8))
        #expect(opened == secret)
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.openKey(box, key: key, authenticating: Array("other".utf8))
        }
    }

    @Test func everyAlteredByteIsRejected() throws {
        let key = SecureBytes(copying: Self.key)
        let combined = XChaCha20Poly1305.seal(
            Self.plaintext, key: key, nonce: Self.nonce, authenticating: Self.associatedData
        ).combined
        for index in combined.indices {
            let altered = try XChaCha20Poly1305.SealedBox(combined: flipping(combined, bit: index * 8))
            #expect(throws: CryptoError.authenticationFailed, "byte \(index)") {
                try XChaCha20Poly1305.open(altered, key: key, authenticating: Self.associatedData)
            }
        }
    }

    @Test func wrongAssociatedDataIsRejected() {
        let key = SecureBytes.random(count: XChaCha20Poly1305.keyByteCount)
        let box = XChaCha20Poly1305.seal([42], key: key, authenticating: [1])
        #expect(throws: CryptoError.authenticationFailed) { try XChaCha20Poly1305.open(box, key: key, authenticating: [2]) }
        #expect(throws: CryptoError.authenticationFailed) { try XChaCha20Poly1305.open(box, key: key, authenticating: []) }
    }

    @Test func wrongKeyIsRejected() {
        let box = XChaCha20Poly1305.seal(
            [42], key: SecureBytes.random(count: XChaCha20Poly1305.keyByteCount), authenticating: [])
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(
                box, key: SecureBytes.random(count: XChaCha20Poly1305.keyByteCount), authenticating: [])
        }
        #expect(throws: CryptoError.invalidKey) {
            try XChaCha20Poly1305.open(box, key: SecureBytes.random(count: 31), authenticating: [])
        }
    }

    @Test func truncatedBoxes() throws {
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.SealedBox(combined: [UInt8](repeating: 0, count: XChaCha20Poly1305.overhead - 1))
        }
        #expect(throws: CryptoError.authenticationFailed) { try XChaCha20Poly1305.SealedBox(combined: []) }

        let key = SecureBytes(copying: Self.key)
        let combined = Self.nonce + Self.ciphertext + Self.tag
        let shortened = try XChaCha20Poly1305.SealedBox(combined: Array(combined.dropLast()))
        #expect(shortened.plaintextCount == Self.plaintext.count - 1)
        #expect(throws: CryptoError.authenticationFailed) {
            try XChaCha20Poly1305.open(shortened, key: key, authenticating: Self.associatedData)
        }
    }
}
