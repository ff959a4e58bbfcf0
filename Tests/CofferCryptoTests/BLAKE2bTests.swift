import CofferCrypto
import Testing

struct BLAKE2bTests {
    // RFC 7693, Appendix A: BLAKE2b-512("abc").
    @Test func rfc7693Abc() {
        let expected = hex("""
            BA 80 A5 3F 98 1C 4D 0D 6A 27 97 B6 9F 12 F6 E9
            4C 21 2F 14 68 5A C4 B7 4B 12 BB 6F DB FF A2 D1
            7D 87 C5 39 2A AB 79 2D C2 52 D5 DE 45 33 CC 95
            18 D3 8A A8 DB F1 92 5A B9 23 86 ED D4 00 99 23
            """)
        #expect(BLAKE2b.hash(Array("abc".utf8)) == expected)
    }

    // BLAKE2 reference repository (github.com/BLAKE2/BLAKE2), testvectors/blake2b-test.txt, the keyed
    // BLAKE2b KAT: key 00 01 .. 3f, input the first n bytes of 00 01 02 .., 64-byte output. First three entries.
    @Test(arguments: [
        (0, "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
          + "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568"),
        (1, "961f6dd1e4dd30f63901690c512e78e4b45e4742ed197c3c5e45c549fd25f2e4"
          + "187b0bc9fe30492b16b0d0bc4ef9b0f34c7003fac09a5ef1532e69430234cebd"),
        (2, "da2cfbe2d8409a0f38026113884f84b50156371ae304c4430173d08a99d9fb1b"
          + "983164a3770706d537f49e0c916d9f32b95cc37a95b99d857436f0232c88a965"),
    ])
    func keyedKnownAnswer(inputLength: Int, expected: String) {
        let key = SecureBytes(copying: (0..<64).map { UInt8($0) })
        let input = (0..<inputLength).map { UInt8($0) }
        #expect(BLAKE2b.keyedHash(input, key: key, byteCount: 64).array == hex(expected))
    }

    // The hash of pieces is the hash of their concatenation, however it is cut (RFC 7693's "abc" too).
    @Test func piecesHashAsTheirConcatenation() {
        #expect(BLAKE2b.hash(pieces: [Array("a".utf8)[...], [], Array("bc".utf8)[...]]) == BLAKE2b.hash(Array("abc".utf8)))
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for cut in [0, 1, 127, 128, 129, 999, 1000] {
            #expect(BLAKE2b.hash(pieces: [data[..<cut], data[cut...]]) == BLAKE2b.hash(data))
            #expect(BLAKE2b.hash(pieces: [data[..<cut], data[cut...]], byteCount: 32) == BLAKE2b.hash(data, byteCount: 32))
        }
        #expect(BLAKE2b.hash(pieces: []) == BLAKE2b.hash([]))
    }

    @Test func unkeyedOutputLength() {
        let short = BLAKE2b.hash([1, 2, 3], byteCount: 32)
        #expect(short.count == 32)
        #expect(BLAKE2b.hash([1, 2, 3], byteCount: 32) == short)
        // The length is a BLAKE2b parameter, so a shorter digest is not a prefix of a longer one.
        #expect(Array(BLAKE2b.hash([1, 2, 3]).prefix(32)) != short)
        #expect(BLAKE2b.hash([]).count == BLAKE2b.maxByteCount)
    }

    @Test func keyedHashIsDeterministicAndKeySensitive() {
        let key = SecureBytes.random(count: 32)
        let message = Array("recipient slot".utf8)
        let digest = BLAKE2b.keyedHash(message, key: key)
        #expect(digest.count == 32)
        #expect(BLAKE2b.keyedHash(message, key: key) == digest)
        #expect(BLAKE2b.keyedHash(message, key: SecureBytes.random(count: 32)) != digest)
        #expect(BLAKE2b.keyedHash(message + [0], key: key) != digest)
        #expect(BLAKE2b.keyedHash(message, key: key).array != BLAKE2b.hash(message, byteCount: 32))

        let output = SecureBytes(count: 32)
        message.withUnsafeBytes { BLAKE2b.keyedHash($0, key: key, into: output) }
        #expect(output == digest)
    }

    // KeyedHasher (a keyed state set up once, copied per message) gives keyedHash's digests: the
    // reference KAT above, and messages on both sides of BLAKE2b's 128-byte block, several per
    // key, under keys of 16, 32 and 64 bytes set one after the other on one hasher.
    @Test(arguments: [
        (0, "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
          + "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568"),
        (2, "da2cfbe2d8409a0f38026113884f84b50156371ae304c4430173d08a99d9fb1b"
          + "983164a3770706d537f49e0c916d9f32b95cc37a95b99d857436f0232c88a965"),
    ])
    func keyedHasherKnownAnswer(inputLength: Int, expected: String) {
        let hasher = BLAKE2b.KeyedHasher(key: SecureBytes(copying: (0..<64).map { UInt8($0) }), byteCount: 64)
        let output = SecureBytes(count: 64)
        for _ in 0..<2 {
            (0..<inputLength).map { UInt8($0) }.withUnsafeBytes { hasher.hash($0, into: output) }
            #expect(output.array == hex(expected))
        }
    }

    @Test func keyedHasherGivesTheOneShotKeyedHash() {
        let keys = [SecureBytes.random(count: 32), SecureBytes.random(count: 16), SecureBytes.random(count: 64)]
        let hasher = BLAKE2b.KeyedHasher(key: keys[0])
        let output = SecureBytes(count: 32)
        for key in keys {
            hasher.setKey(key)
            for length in [0, 1, 40, 127, 128, 129, 255, 256, 257, 1000] {
                let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ length) }
                message.withUnsafeBytes { hasher.hash($0, into: output) }
                #expect(output == BLAKE2b.keyedHash(message, key: key), "key of \(key.count) bytes, message of \(length)")
            }
        }
    }

    // libsodium test/default/kdf.c and kdf.exp: master key 00 01 .. 1f, context "KDF test",
    // subkey id i of 64 bytes for i < 10, and of i bytes for 16 <= i <= 64.
    @Test(arguments: [
        (0, "a0c724404728c8bb95e5433eb6a9716171144d61efb23e74b873fcbeda51d807"
          + "1b5d70aae12066dfc94ce943f145aa176c055040c3dd73b0a15e36254d450614"),
        (1, "02507f144fa9bf19010bf7c70b235b4c2663cc00e074f929602a5e2c10a78075"
          + "7d2a3993d06debc378a90efdac196dd841817b977d67b786804f6d3cd585bab5"),
        (16, "a529216624ef9161e4cf117272aafff2"),
        (32, "154b291f11196737f8b7f491e4ca11764e0227d34f94295408a869f007aa8618"),
    ])
    func deriveSubkeyKnownAnswer(id: UInt64, expected: String) {
        let master = SecureBytes(copying: (0..<32).map { UInt8($0) })
        let subkey = BLAKE2b.deriveSubkey(from: master, id: id, context: "KDF test", byteCount: hex(expected).count)
        #expect(subkey.array == hex(expected))
    }

    @Test func deriveSubkeyIsDistinctPerIdAndContext() {
        let master = SecureBytes.random(count: 32)
        let subkeys = (0..<16).map { BLAKE2b.deriveSubkey(from: master, id: $0, context: "coffer01").array }
        #expect(Set(subkeys).count == subkeys.count)
        #expect(subkeys.allSatisfy { $0.count == 32 })
        #expect(BLAKE2b.deriveSubkey(from: master, id: 3, context: "coffer01").array == subkeys[3])
        #expect(BLAKE2b.deriveSubkey(from: master, id: 0, context: "coffer02").array != subkeys[0])
        #expect(BLAKE2b.deriveSubkey(from: SecureBytes.random(count: 32), id: 0, context: "coffer01").array != subkeys[0])
    }
}
