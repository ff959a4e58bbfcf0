import CofferCrypto
import Testing

struct Ed25519Vector: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let seed: [UInt8]
    let publicKey: [UInt8]
    let message: [UInt8]
    let signature: [UInt8]
}

struct Ed25519Tests {
    // RFC 8032, section 7.1 (Test Vectors for Ed25519): TEST 1, TEST 2 and TEST 3.
    // The RFC's SECRET KEY is the 32-byte seed libsodium's crypto_sign_seed_keypair takes.
    static let vectors = [
        Ed25519Vector(
            testDescription: "RFC 8032 TEST 1",
            seed: hex("9d61b19deffd5a60ba844af492ec2cc4 4449c5697b326919703bac031cae7f60"),
            publicKey: hex("d75a980182b10ab7d54bfed3c964073a 0ee172f3daa62325af021a68f707511a"),
            message: [],
            signature: hex("""
                e5564300c360ac729086e2cc806e828a 84877f1eb8e5d974d873e06522490155
                5fb8821590a33bacc61e39701cf9b46b d25bf5f0595bbe24655141438e7a100b
                """)),
        Ed25519Vector(
            testDescription: "RFC 8032 TEST 2",
            seed: hex("4ccd089b28ff96da9db6c346ec114e0f 5b8a319f35aba624da8cf6ed4fb8a6fb"),
            publicKey: hex("3d4017c3e843895a92b70aa74d1b7ebc 9c982ccf2ec4968cc0cd55f12af4660c"),
            message: hex("72"),
            signature: hex("""
                92a009a9f0d4cab8720e820b5f642540 a2b27b5416503f8fb3762223ebdb69da
                085ac1e43e15996e458f3613d0f11d8c 387b2eaeb4302aeeb00d291612bb0c00
                """)),
        Ed25519Vector(
            testDescription: "RFC 8032 TEST 3",
            seed: hex("c5aa8df43f9f837bedb7442f31dcb7b1 66d38535076f094b85ce3a2e0b4458f7"),
            publicKey: hex("fc51cd8e6218a1a38da47ed00230f058 0816ed13ba3303ac5deb911548908025"),
            message: hex("af82"),
            signature: hex("""
                6291d657deec24024827e69c3abe01a3 0ce548a284743a445e3680d7db5ac3ac
                18ff9b538d16f290ae67f760984dc659 4a7c15e9716ed28dc027beceea1ec40a
                """)),
    ]

    @Test(arguments: vectors)
    func rfc8032Vector(_ vector: Ed25519Vector) throws {
        let key = try Ed25519.SigningKey(seed: SecureBytes(copying: vector.seed))
        #expect(key.publicKey == vector.publicKey)
        #expect(key.signature(for: vector.message) == vector.signature)
        #expect(Ed25519.isValidSignature(vector.signature, for: vector.message, publicKey: vector.publicKey))
    }

    @Test(arguments: vectors)
    func oneBitFlipsFailVerification(_ vector: Ed25519Vector) {
        // TEST 1 signs the empty message, which has no bit to flip; a one-byte message stands in.
        let alteredMessage = vector.message.isEmpty ? [0] : flipping(vector.message, bit: 0)
        #expect(!Ed25519.isValidSignature(vector.signature, for: alteredMessage, publicKey: vector.publicKey))
        for bit in [0, 255, 256, 511] {
            #expect(!Ed25519.isValidSignature(
                flipping(vector.signature, bit: bit), for: vector.message, publicKey: vector.publicKey), "signature bit \(bit)")
        }
        for bit in [0, 128, 255] {
            #expect(!Ed25519.isValidSignature(
                vector.signature, for: vector.message, publicKey: flipping(vector.publicKey, bit: bit)), "key bit \(bit)")
        }
    }

    @Test func signAndVerifyWithRandomSeed() throws {
        let key = try Ed25519.SigningKey(seed: SecureBytes.random(count: Ed25519.seedByteCount))
        let message = Array("vault header".utf8)
        let signature = key.signature(for: message)
        #expect(signature.count == Ed25519.signatureByteCount)
        #expect(key.publicKey.count == Ed25519.publicKeyByteCount)
        #expect(key.signature(for: message) == signature)
        #expect(message.withUnsafeBytes { key.signature(for: $0) } == signature)
        #expect(Ed25519.isValidSignature(signature, for: message, publicKey: key.publicKey))

        let other = try Ed25519.SigningKey(seed: SecureBytes.random(count: Ed25519.seedByteCount))
        #expect(!Ed25519.isValidSignature(signature, for: message, publicKey: other.publicKey))
    }

    @Test func malformedInputs() throws {
        #expect(throws: CryptoError.invalidKey) { try Ed25519.SigningKey(seed: SecureBytes.random(count: 31)) }
        #expect(throws: CryptoError.invalidKey) { try Ed25519.SigningKey(seed: SecureBytes.random(count: 64)) }

        let vector = try #require(Self.vectors.last)
        #expect(!Ed25519.isValidSignature(Array(vector.signature.dropLast()), for: vector.message, publicKey: vector.publicKey))
        #expect(!Ed25519.isValidSignature(vector.signature + [0], for: vector.message, publicKey: vector.publicKey))
        #expect(!Ed25519.isValidSignature(vector.signature, for: vector.message, publicKey: Array(vector.publicKey.dropLast())))
        #expect(!Ed25519.isValidSignature([], for: vector.message, publicKey: []))
    }
}
