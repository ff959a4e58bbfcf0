import CofferCrypto
import Testing

@Suite struct Base64Tests {
    /// RFC 4648 §10.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: vectors)
    func rfc4648(_ plain: String, _ encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func alphabets() {
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
        #expect(Base64.encode(bytes) == "+/+/")
        #expect(Base64.encode(bytes, alphabet: .urlSafe) == "-_-_")
        #expect(Base64.decode("-_-_", alphabet: .urlSafe) == bytes)
        #expect(Base64.decode("-_-_") == nil)
    }

    @Test(arguments: ["Zg", "Zg=", "Zm9v\n", " Zm9v", "Zm9v!", "Zg==Zg=="])
    func refusesAnythingButExactPaddedBase64(_ text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
