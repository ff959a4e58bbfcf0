import CofferCrypto
import Testing

struct X25519Tests {
    // RFC 7748, section 6.1: Alice's and Bob's private keys and their public keys X25519(k, 9).
    @Test(arguments: [
        ("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
         "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
        ("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
         "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
    ])
    func rfc7748PublicKey(secretKey: String, publicKey: String) throws {
        #expect(try X25519.publicKey(for: SecureBytes(copying: hex(secretKey))) == hex(publicKey))
    }

    @Test func publicKeyIsDeterministic() throws {
        let secretKey = X25519.generateSecretKey()
        #expect(secretKey.count == X25519.keyByteCount)
        let publicKey = try X25519.publicKey(for: secretKey)
        #expect(publicKey.count == X25519.keyByteCount)
        #expect(try X25519.publicKey(for: secretKey) == publicKey)
        #expect(try X25519.publicKey(for: secretKey.slice(0..<secretKey.count)) == publicKey)
        #expect(try X25519.publicKey(for: X25519.generateSecretKey()) != publicKey)
    }

    @Test func sealedBoxRoundTrip() throws {
        let secretKey = X25519.generateSecretKey()
        let publicKey = try X25519.publicKey(for: secretKey)
        let message = SecureBytes.random(count: 32)
        let sealed = try X25519.seal(message, to: publicKey)
        #expect(sealed.count == message.count + X25519.sealOverhead)
        #expect(try X25519.open(sealed, secretKey: secretKey) == message)
        #expect(try X25519.seal(message, to: publicKey) != sealed, "each box uses a fresh ephemeral key")
    }

    @Test func emptyPlaintextRoundTrip() throws {
        let secretKey = X25519.generateSecretKey()
        let sealed = try X25519.seal(SecureBytes(count: 0), to: X25519.publicKey(for: secretKey))
        #expect(sealed.count == X25519.sealOverhead)
        #expect(try X25519.open(sealed, secretKey: secretKey).count == 0)
    }

    @Test func wrongSecretKeyFails() throws {
        let sealed = try X25519.seal(SecureBytes.random(count: 32), to: X25519.publicKey(for: X25519.generateSecretKey()))
        #expect(throws: CryptoError.authenticationFailed) { try X25519.open(sealed, secretKey: X25519.generateSecretKey()) }
    }

    @Test func everyAlteredByteFails() throws {
        let secretKey = X25519.generateSecretKey()
        let sealed = try X25519.seal(SecureBytes.random(count: 16), to: X25519.publicKey(for: secretKey))
        for index in sealed.indices {
            #expect(throws: CryptoError.authenticationFailed, "byte \(index)") {
                try X25519.open(flipping(sealed, bit: index * 8), secretKey: secretKey)
            }
        }
    }

    @Test func malformedInputs() throws {
        let secretKey = X25519.generateSecretKey()
        let publicKey = try X25519.publicKey(for: secretKey)
        let message = SecureBytes.random(count: 8)
        #expect(throws: CryptoError.invalidKey) { try X25519.publicKey(for: SecureBytes.random(count: 31)) }
        #expect(throws: CryptoError.invalidKey) { try X25519.seal(message, to: Array(publicKey.dropLast())) }
        #expect(throws: CryptoError.invalidKey) { try X25519.seal(message, to: publicKey + [0]) }
        // The all-zero point has small order: libsodium refuses to derive a shared key with it.
        #expect(throws: CryptoError.invalidKey) { try X25519.seal(message, to: [UInt8](repeating: 0, count: 32)) }

        let sealed = try X25519.seal(message, to: publicKey)
        #expect(throws: CryptoError.authenticationFailed) {
            try X25519.open(Array(sealed.prefix(X25519.sealOverhead - 1)), secretKey: secretKey)
        }
        #expect(throws: CryptoError.invalidKey) { try X25519.open(sealed, secretKey: SecureBytes.random(count: 31)) }
    }
}
