import CofferCrypto
import Testing

struct Argon2idVector: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let passphrase: [UInt8]
    let salt: [UInt8]
    let opsLimit: UInt64
    let memLimit: UInt64
    let expected: [UInt8]
}

struct Argon2idTests {
    // libsodium test/default/pwhash_argon2id.c (inputs) and pwhash_argon2id.exp (outputs), run through
    // crypto_pwhash with the default algorithm, Argon2id v1.3. Each source salt is 32 bytes of hex
    // decoded into a crypto_pwhash_SALTBYTES buffer, so only its first 16 bytes (given here) are used.
    // The published memlimits are not multiples of 1024; libsodium hashes with memlimit / 1024 KiB,
    // so the value rounded down to a multiple of 1024 (which Parameters requires) gives the same output.
    static let vectors = [
        Argon2idVector(
            testDescription: "pwhash_argon2id tv[4]",
            passphrase: hex("""
                4a857e2ee8aa9b6056f2424e84d24a72473378906ee04a46cb05311502d5250b82
                ad86b83c8f20a23dbb74f6da60b0b6ecffd67134d45946ac8ebfb3064294bc097d
                43ced68642bfb8bbbdd0f50b30118f5e
                """),
            salt: hex("39d82eef32010b8b79cc5ba88ed539fb"),
            opsLimit: 3, memLimit: 1_432_947,
            expected: hex("""
                08d8cd330c57e1b4643241d05bb468ba4ee4e932cd0858816be9ef15360b27bbd06a87130ee92222be267a29b81f5ae8
                fe8613324cfc4832dc49387fd0602f1c57b4d0f3855db94fb7e12eb05f9a484aed4a4307abf586cd3d55c809bc081541
                e00b682772fb2066504ff935b8ebc551a2083882f874bc0fae68e56848ae34c91097c3bf0cca8e75c0797eef3efde3f7
                5e005815018db3cf7c109a812264c4de69dcb22322dbbcfa447f5b00ecd1b04a7be1569c8e556adb7bba48adf81d
                """)),
        Argon2idVector(
            testDescription: "pwhash_argon2id tv[5]",
            passphrase: hex("""
                c7b09aec680e7b42fedd7fc792e78b2f6c1bea8f4a884320b648f81e8cf515e8ba
                9dcfb11d43c4aae114c1734aa69ca82d44998365db9c93744fa28b63fd16000e82
                61cbbe083e7e2da1e5f696bde0834fe53146d7e0e35e7de9920d041f5a5621aabe
                02da3e2b09b405b77937efef3197bd5772e41fdb73fb5294478e45208063b5f58e
                089dbeb6d6342a909c1307b3fff5fe2cf4da56bdae50848f
                """),
            salt: hex("039c056d933b475032777edbaffac50f"),
            opsLimit: 3, memLimit: 4_886_999,
            expected: hex("""
                d6e9d6cabd42fb9ba7162fe9b8e41d59d3c7034756cb460c9affe393308bd0225ce0371f2e6c3ca32aca2002bf2d3909
                c6b6e7dfc4a00e850ff4f570f8f749d4bb6f0091e554be67a9095ae1eefaa1a933316cbec3c2fd4a14a5b6941bda9b7e
                abd821d79abde2475a53af1a8571c7ee46460be415882e0b393f48c12f740a6a72cba9773000602e13b40d3dfa6ac1d4
                ec43a838b7e3e165fecad4b2498389e60a3ff9f0f8f4b9fca1126e64f49501e38690
                """)),
        Argon2idVector(
            testDescription: "pwhash_argon2id tv[6]",
            passphrase: hex("b540beb016a5366524d4605156493f9874514a5aa58818cd0c6dfffaa9e90205f17b"),
            salt: hex("44071f6d181561670bda728d43fb79b4"),
            opsLimit: 1, memLimit: 1_631_659,
            expected: hex("""
                7fb72409b0987f8190c3729710e98c3f80c5a8727d425fdcde7f3644d467fe973f5b5fee683bd3fce812cb9ae5e9921a
                2d06c2f1905e4e839692f2b934b682f11a2fe2b90482ea5dd234863516dba6f52dc0702d324ec77d860c2e181f84472b
                d7104fedce071ffa93c5309494ad51623d214447a7b2b1462dc7d5d55a1f6fd5b54ce024118d86f0c6489d16545aaa87
                b6689dad9f2fb47fda9894f8e12b87d978b483ccd4cc5fd9595cdc7a818452f915ce2f7df95ec12b1c72e3788d473441
                d884f9748eb14703c21b45d82fd667b85f5b2d98c13303b3fe76285531a826b6fc0fe8e3dddecf
                """)),
    ]

    static let salt = [UInt8](repeating: 0x5a, count: Argon2id.saltByteCount)

    /// Derives with the smallest parameters libsodium accepts: one pass over 8 KiB.
    static func derive(_ passphrase: String, salt: [UInt8] = salt, byteCount: Int = 32) throws -> [UInt8] {
        try Argon2id.deriveKey(
            passphrase: SecureBytes(copying: Array(passphrase.utf8)), salt: salt,
            parameters: Argon2id.Parameters(opsLimit: 1, memLimit: 8192), byteCount: byteCount
        ).array
    }

    @Test(arguments: vectors)
    func libsodiumVector(_ vector: Argon2idVector) throws {
        let parameters = try Argon2id.Parameters(opsLimit: vector.opsLimit, memLimit: vector.memLimit / 1024 * 1024)
        let key = try Argon2id.deriveKey(
            passphrase: SecureBytes(copying: vector.passphrase), salt: vector.salt, parameters: parameters,
            byteCount: vector.expected.count)
        #expect(key.array == vector.expected)
    }

    @Test func presets() {
        #expect(Argon2id.Parameters.interactive.opsLimit == 2)
        #expect(Argon2id.Parameters.interactive.memLimit == 64 << 20)
        #expect(Argon2id.Parameters.moderate.opsLimit == 3)
        #expect(Argon2id.Parameters.moderate.memLimit == 256 << 20)
        #expect(Argon2id.Parameters.sensitive.opsLimit == 4)
        #expect(Argon2id.Parameters.sensitive.memLimit == 1 << 30)
        #expect(Argon2id.saltByteCount == 16)
    }

    @Test func parameterBounds() throws {
        let accepted = try Argon2id.Parameters(opsLimit: 1, memLimit: 8192)
        #expect(accepted.opsLimit == 1 && accepted.memLimit == 8192)
        #expect(try Argon2id.Parameters(opsLimit: 2, memLimit: 64 << 20) == .interactive)

        for (opsLimit, memLimit): (UInt64, UInt64) in [
            (0, 8192),  // no passes
            (UInt64(UInt32.max) + 1, 8192),  // more passes than libsodium accepts
            (1, 7168),  // below 8 KiB
            (1, 0),
            (1, 8193),  // not a multiple of 1024
            (1, 65_000),
        ] {
            let error = #expect(throws: CryptoError.self, "ops \(opsLimit), mem \(memLimit)") {
                try Argon2id.Parameters(opsLimit: opsLimit, memLimit: memLimit)
            }
            #expect(error?.isInvalidParameters == true)
        }
    }

    @Test func deriveIsDeterministic() throws {
        let key = try Self.derive("correct horse battery staple")
        #expect(key.count == 32)
        #expect(try Self.derive("correct horse battery staple") == key)
        #expect(try Self.derive("correct horse battery staple", byteCount: 64).count == 64)
    }

    @Test func deriveDependsOnSaltAndPassphrase() throws {
        let key = try Self.derive("correct horse battery staple")
        var otherSalt = Self.salt
        otherSalt[15] ^= 1
        #expect(try Self.derive("correct horse battery staple", salt: otherSalt) != key)
        #expect(try Self.derive("correct horse battery stapler") != key)
        #expect(try Self.derive("") != key)
    }

    @Test func deriveRejectsBadSaltAndLength() throws {
        #expect(throws: CryptoError.invalidKey) { try Self.derive("pw", salt: [UInt8](repeating: 0, count: 15)) }
        #expect(throws: CryptoError.invalidKey) { try Self.derive("pw", salt: [UInt8](repeating: 0, count: 17)) }
        #expect(throws: CryptoError.invalidKey) { try Self.derive("pw", salt: []) }
        let error = #expect(throws: CryptoError.self) { try Self.derive("pw", byteCount: 15) }
        #expect(error?.isInvalidParameters == true)
    }
}
