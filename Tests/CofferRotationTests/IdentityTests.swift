import CofferCrypto
import Foundation
import Testing
@testable import CofferRotation

/// Helpers for the identity tests (in a namespace of their own, so other test files are free
/// to use any names).
private enum IdentityTestKit {
    /// A key pair written by the real `age-keygen` 1.1.1, kept as a fixed vector.
    static let ageSecretKey = "AGE-SECRET-KEY-1DNL9WXHH0Q4WG749UCDC9R7Q0N8P68ZWF9X904H53L2JP0NEG3HQATTQXY"
    static let agePublicKey = "age1n3uz42szyvns6s2nyx6yr3yzm3d99twuwr7mmrwxgtthz2kxaydqqv87xa"

    /// The vector above, protected with "correct horse battery staple" at opslimit 1, memlimit
    /// 8 KiB (Specs/identity-files.md; checked independently against libsodium from Python).
    static let protectedVector = """
        # coffer protected identity
        # public key: age1n3uz42szyvns6s2nyx6yr3yzm3d99twuwr7mmrwxgtthz2kxaydqqv87xa
        COFFER-PROTECTED-IDENTITY-1AROxEbu6k4g4S5VZ6hcy0rABAAAAAAAAAAAgAAAAAAAAmLfAYdRAqC/D3QiU4JLrSAB7uNKDP5Hv76mHFH+9RxqT0rEJeD39frlfKRyM7+OSkF5hQbwrEX2V8Zi2rVukEDe39txszGKD

        """

    static let tinyKDF = try! Argon2id.Parameters(opsLimit: 1, memLimit: 8192)

    static func bytes(_ secure: SecureBytes) -> [UInt8] { secure.withUnsafeBytes { Array($0) } }
    static func text(_ secure: SecureBytes) -> String { String(decoding: bytes(secure), as: UTF8.self) }
    static func passphrase(_ text: String) -> SecureBytes { SecureBytes(copying: Array(text.utf8)) }

    static func malformedLine(_ error: any Error) -> Int? {
        if case let IdentityError.malformed(_, line, _) = error { line } else { nil }
    }

    static func malformedReason(_ error: any Error) -> String? {
        if case let IdentityError.malformed(_, _, reason) = error { reason } else { nil }
    }

    /// A fresh directory, removed after `body`.
    static func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coffer-identity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    /// Runs an installed tool and returns its standard output; fails the test when the tool is
    /// missing or exits with an error.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let result = try runAllowingFailure(tool, arguments)
        try #require(result.status == 0, "\(tool) \(arguments.joined(separator: " ")) failed: \(result.errors)")
        return result.output
    }

    static func runAllowingFailure(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try #require(
            FileManager.default.isExecutableFile(atPath: tool),
            "\(tool) is not installed; the age interoperability tests need it (apt-get install age)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// The protected identity `file` with bytes `range` of its payload replaced by `replacement`.
    static func patchingPayload(_ file: [UInt8], _ range: Range<Int>, with replacement: [UInt8]) throws -> [UInt8] {
        try patchingPayload(file, range) { _ in replacement }
    }

    /// The payload's bytes in `range` replaced by what `replacement` makes of them.
    static func patchingPayload(_ file: [UInt8], _ range: Range<Int>, by replacement: ([UInt8]) -> [UInt8]) throws -> [UInt8] {
        var lines = String(decoding: file, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let index = try #require(lines.firstIndex { $0.hasPrefix("COFFER-PROTECTED-IDENTITY-1") })
        var payload = try #require(Data(base64Encoded: String(lines[index].dropFirst("COFFER-PROTECTED-IDENTITY-1".count))))
        payload.replaceSubrange(range, with: replacement(Array(payload[range])))
        lines[index] = "COFFER-PROTECTED-IDENTITY-1" + payload.base64EncodedString()
        return Array(lines.joined(separator: "\n").utf8)
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
}

@Suite struct Bech32Tests {
    fileprivate typealias Kit = IdentityTestKit

    /// BIP-173's strings with a valid checksum.
    static let validChecksums = [
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        "?1ezyfcl",
    ]

    /// BIP-173's invalid strings, except the one over 90 characters (see `noLengthLimit`).
    static let invalid = [
        "\u{20}1nwldj5",  // hrp character out of range
        "\u{7F}1axkwrx",  // hrp character out of range
        "\u{80}1eym55h",  // hrp character out of range
        "pzry9x0s0muk",  // no separator
        "1pzry9x0s0muk",  // empty hrp
        "x1b4n0q5v",  // invalid data character
        "li1dgmt3",  // checksum too short
        "de1lg7wt\u{FF}",  // invalid character in checksum
        "A1G7SGD8",  // checksum computed over the upper-case hrp
        "10a06t8",  // empty hrp
        "1qzzfhee",  // empty hrp
    ]

    static func layout(_ text: String) -> Bech32.Layout? {
        var text = text
        return text.withUTF8 { Bech32.layout(of: UnsafeRawBufferPointer($0)) }
    }

    @Test(arguments: validChecksums)
    func validChecksum(_ text: String) throws {
        #expect(Self.layout(text) != nil)
        // Strings whose values make whole bytes decode, and encode back to themselves.
        if let (hrp, data) = Bech32.decode(text) {
            #expect(Bech32.encode(hrp: hrp, data: data) == text)
        }
    }

    @Test func bip173ByteStrings() throws {
        let decoded = try #require(Bech32.decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"))
        #expect(decoded.hrp == "abcdef")
        #expect(decoded.data == [0x00, 0x44, 0x32, 0x14, 0xc7, 0x42, 0x54, 0xb6, 0x35, 0xcf,
                                 0x84, 0x65, 0x3a, 0x56, 0xd7, 0xc6, 0x75, 0xbe, 0x77, 0xdf])
        let empty = try #require(Bech32.decode("A12UEL5L"))
        #expect(empty.hrp == "A" && empty.data.isEmpty)
        // 82 zero values are 51 zero bytes and 2 zero bits of padding.
        #expect(Bech32.decode(Self.validChecksums[4])?.data == [UInt8](repeating: 0, count: 51))
    }

    @Test(arguments: invalid)
    func invalidString(_ text: String) {
        #expect(Self.layout(text) == nil)
        #expect(Bech32.decode(text) == nil)
    }

    /// age drops BIP-173's 90-character limit (its keys are longer), and so does Coffer.
    @Test func noLengthLimit() throws {
        let long = "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx"
        #expect(long.count == 91)
        #expect(Bech32.decode(long)?.hrp == "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio")
        let data = SecureRandom.bytes(100)
        #expect(Bech32.decode(Bech32.encode(hrp: "age", data: data))?.data == data)
    }

    @Test func mixedCaseIsRejected() {
        #expect(Bech32.decode("a12UEL5L") == nil)
        #expect(Bech32.decode("A12uel5l") == nil)
        #expect(Bech32.decode(IdentityTestKit.agePublicKey.replacingOccurrences(of: "age1n", with: "age1N")) == nil)
    }

    @Test(arguments: 0...40)
    func roundTrip(count: Int) throws {
        let data = SecureRandom.bytes(count)
        for (hrp, uppercase) in [("age", false), ("AGE-SECRET-KEY-", true), ("x", false)] {
            let text = Bech32.encode(hrp: hrp, data: data)
            #expect(text.utf8.count == Bech32.encodedCount(hrpCount: hrp.utf8.count, byteCount: count))
            #expect(text == (uppercase ? text.uppercased() : text.lowercased()))
            let decoded = try #require(Bech32.decode(text))
            #expect(decoded.hrp == hrp && decoded.data == data)
        }
    }

    @Test func everySingleCharacterChangeIsDetected() {
        let text = Array(IdentityTestKit.agePublicKey.utf8)
        let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
        for position in 4..<text.count {
            for replacement in alphabet where replacement != text[position] {
                var changed = text
                changed[position] = replacement
                #expect(Bech32.decode(String(decoding: changed, as: UTF8.self)) == nil)
            }
        }
    }

    /// Values that leave 5 or more bits, or non-zero bits, over do not decode to bytes.
    /// (Strings with valid checksums, computed for this test.)
    @Test func paddingMustBeShortAndZero() throws {
        #expect(Bech32.encode(hrp: "a", data: [0xff]) == "a1lu9cgf6y")  // values 31, 28: zero padding
        #expect(Bech32.decode("a1lu9cgf6y")?.data == [0xff])
        for text in ["a1llttal5m", "a1q3g6mn3", "a1qqqd87cpp"] {  // 31, 31 / one value / three values
            #expect(Self.layout(text)?.padsToBytes == false)
            #expect(Bech32.decode(text) == nil)
        }
    }
}

@Suite struct IdentityKeyTests {
    fileprivate typealias Kit = IdentityTestKit

    @Test func ageKeygenVector() throws {
        let identity = try Identity(parsing: Kit.ageSecretKey)
        #expect(identity.recipient.text == Kit.agePublicKey)
        #expect(try Recipient(parsing: Kit.agePublicKey) == identity.recipient)
        #expect(Kit.text(identity.encodedSecretKey()) == Kit.ageSecretKey)
    }

    @Test func generatedIdentityRoundTrips() throws {
        let identity = Identity.generate()
        let encoded = identity.encodedSecretKey()
        #expect(encoded.count == 74)
        #expect(Kit.text(encoded).hasPrefix("AGE-SECRET-KEY-1"))
        #expect(identity.recipient.text.count == 62 && identity.recipient.text.hasPrefix("age1"))
        let parsed = try Identity(parsing: Kit.text(encoded))
        #expect(parsed.secretKey == identity.secretKey)
        #expect(parsed.recipient == identity.recipient)
        #expect(try Recipient(parsing: identity.recipient.text) == identity.recipient)
        #expect(identity.recipient.publicKey == (try X25519.publicKey(for: identity.secretKey)))
    }

    @Test func secretKeyLengthIsChecked() {
        #expect(throws: CryptoError.invalidKey) { try Identity(secretKey: SecureBytes(count: 31)) }
        #expect(throws: CryptoError.invalidKey) { try Recipient(publicKey: [UInt8](repeating: 1, count: 33)) }
    }

    @Test(arguments: [
        (Kit.ageSecretKey.lowercased(), "an age secret key must be upper-case"),
        (Kit.agePublicKey, "expected an age secret key (AGE-SECRET-KEY-1...)"),
        (" " + Kit.ageSecretKey, "expected an age secret key (AGE-SECRET-KEY-1...)"),
        (Kit.ageSecretKey + " ", "invalid Bech32 encoding (bad character, mixed case or checksum mismatch)"),
        (String(Kit.ageSecretKey.dropLast()) + "Z", "invalid Bech32 encoding (bad character, mixed case or checksum mismatch)"),
        (Bech32.encode(hrp: "AGE-SECRET-KEY-", data: [UInt8](repeating: 7, count: 31)),
         "an age secret key holds 32 bytes; this one has the wrong length"),
        (Bech32.encode(hrp: "AGE-SECRET-KEY-1X", data: [UInt8](repeating: 7, count: 32)),
         "expected an age secret key (AGE-SECRET-KEY-1...)"),
        (Bech32.encode(hrp: "AGE-PLUGIN-YUBIKEY-", data: [1, 2, 3]), "plugin identities are not supported"),
    ])
    func malformedSecretKey(text: String, reason: String) {
        #expect(throws: IdentityError.malformed(path: "", line: 0, reason: reason)) { try Identity(parsing: text) }
    }

    @Test(arguments: [
        (Kit.agePublicKey.uppercased(), "an age recipient must be lower-case"),
        (Kit.ageSecretKey, "expected an age recipient (age1...)"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG", "an SSH key, not an age recipient (age1...)"),
        (String(Kit.agePublicKey.dropLast()) + "q", "invalid Bech32 encoding (bad character, mixed case or checksum mismatch)"),
        (Bech32.encode(hrp: "age", data: [UInt8](repeating: 7, count: 33)), "an age recipient holds 32 bytes, not 33"),
        (Bech32.encode(hrp: "age1yubikey", data: [UInt8](repeating: 7, count: 33)), "plugin recipients are not supported"),
    ])
    func malformedRecipient(text: String, reason: String) {
        #expect(throws: IdentityError.malformed(path: "", line: 0, reason: reason)) { try Recipient(parsing: text) }
    }
}

@Suite struct IdentityFileTests {
    fileprivate typealias Kit = IdentityTestKit

    @Test func renderMatchesAgeKeygenLayout() throws {
        let identity = try Identity(parsing: Kit.ageSecretKey)
        let file = IdentityFile.render(identity, created: 1_700_000_000)
        #expect(Kit.text(file) == """
            # created: 2023-11-14T22:13:20Z
            # public key: \(Kit.agePublicKey)
            \(Kit.ageSecretKey)

            """)
        let parsed = try IdentityFile.parse(Kit.bytes(file), path: "key.txt", passphrase: nil)
        #expect(parsed.map(\.recipient) == [identity.recipient])
        let parsedInPlace = try IdentityFile.parse(file, path: "key.txt", passphrase: nil)
        #expect(parsedInPlace.map(\.secretKey) == [identity.secretKey])
    }

    @Test func severalIdentitiesCommentsBlankLinesAndCRLF() throws {
        let first = Identity.generate(), second = Identity.generate()
        let text = "# created: now\r\n\r\n# public key: \(first.recipient.text)\r\n"
            + Kit.text(first.encodedSecretKey()) + "\r\n\n#\n" + Kit.text(second.encodedSecretKey())
        let parsed = try IdentityFile.parse(Array(text.utf8), path: "keys.txt", passphrase: nil)
        #expect(parsed.map(\.recipient) == [first.recipient, second.recipient])
        #expect(parsed[1].secretKey == second.secretKey)
    }

    @Test func malformedLineIsNamedWithoutKeyMaterial() throws {
        let identity = Identity.generate()
        let key = Kit.text(identity.encodedSecretKey())
        let damaged = String(key.dropLast()) + (key.hasSuffix("Q") ? "P" : "Q")
        let text = "# keys\n\(key)\n\n\(damaged)\n"
        let error = try #require(throws: IdentityError.self) {
            try IdentityFile.parse(Array(text.utf8), path: "keys.txt", passphrase: nil)
        }
        #expect(Kit.malformedLine(error) == 4)
        let message = "\(error)"
        #expect(message.hasPrefix("keys.txt, line 4: invalid Bech32"))
        #expect(!message.contains(String(key.dropFirst(16).prefix(8))))
    }

    @Test func indentedCommentsAndTrailingSpacesAreErrorsAsInAge() throws {
        let key = Kit.text(Identity.generate().encodedSecretKey())
        for text in ["  # indented\n\(key)\n", "\(key) \n", "\(key)\n \n"] {
            let error = try #require(throws: IdentityError.self) {
                try IdentityFile.parse(Array(text.utf8), path: "f", passphrase: nil)
            }
            #expect(Kit.malformedLine(error) != nil)
        }
    }

    @Test func fileWithoutIdentities() {
        #expect(throws: IdentityError.noIdentity(path: "empty.txt")) {
            try IdentityFile.parse(Array("# nothing here\n\n".utf8), path: "empty.txt", passphrase: nil)
        }
        #expect(throws: IdentityError.noIdentity(path: "empty.txt")) {
            try IdentityFile.parse([], path: "empty.txt", passphrase: nil)
        }
    }

    @Test func protectedRoundTrip() throws {
        let identity = Identity.generate()
        let file = try IdentityFile.renderProtected(identity, passphrase: Kit.passphrase("correct horse"), parameters: Kit.tinyKDF)
        let text = String(decoding: file, as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == "# coffer protected identity")
        #expect(lines[1] == "# public key: \(identity.recipient.text)")
        #expect(lines[2].hasPrefix("COFFER-PROTECTED-IDENTITY-1") && lines[2].count == 27 + 140)
        #expect(!text.contains(String(Kit.text(identity.encodedSecretKey()).dropFirst(16))))

        let opened = try IdentityFile.parse(file, path: "p.txt", passphrase: Kit.passphrase("correct horse"))
        #expect(opened.count == 1)
        #expect(opened[0].secretKey == identity.secretKey)
        #expect(opened[0].recipient == identity.recipient)
        // CRLF line ends are accepted here too.
        let crlf = Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        #expect(try IdentityFile.parse(crlf, path: "p.txt", passphrase: Kit.passphrase("correct horse"))[0].recipient == identity.recipient)
    }

    @Test func protectedVector() throws {
        let opened = try IdentityFile.parse(
            Array(Kit.protectedVector.utf8), path: "v.txt", passphrase: Kit.passphrase("correct horse battery staple"))
        #expect(opened.count == 1)
        #expect(Kit.text(opened[0].encodedSecretKey()) == Kit.ageSecretKey)
    }

    @Test func protectedNeedsTheRightPassphrase() throws {
        let file = try IdentityFile.renderProtected(Identity.generate(), passphrase: Kit.passphrase("right"), parameters: Kit.tinyKDF)
        #expect(throws: IdentityError.passphraseRequired(path: "p.txt")) {
            try IdentityFile.parse(file, path: "p.txt", passphrase: nil)
        }
        #expect(throws: IdentityError.wrongPassphrase(path: "p.txt")) {
            try IdentityFile.parse(file, path: "p.txt", passphrase: Kit.passphrase("wrong"))
        }
    }

    /// The public key line is authenticated: swapping it makes the box fail to open.
    @Test func protectedPublicKeyIsBound() throws {
        let identity = Identity.generate()
        let file = try IdentityFile.renderProtected(identity, passphrase: Kit.passphrase("pw"), parameters: Kit.tinyKDF)
        let swapped = String(decoding: file, as: UTF8.self)
            .replacingOccurrences(of: identity.recipient.text, with: Identity.generate().recipient.text)
        #expect(throws: IdentityError.wrongPassphrase(path: "p")) {
            try IdentityFile.parse(Array(swapped.utf8), path: "p", passphrase: Kit.passphrase("pw"))
        }
        let withoutKey = String(decoding: file, as: UTF8.self).replacingOccurrences(of: "# public key:", with: "# key:")
        let error = try #require(throws: IdentityError.self) {
            try IdentityFile.parse(Array(withoutKey.utf8), path: "p", passphrase: Kit.passphrase("pw"))
        }
        #expect(Kit.malformedLine(error) == 3)
    }

    /// Costs over the caps are refused before any derivation: with a passphrase or without, and
    /// even for 1 TiB of memory, the answer is immediate.
    @Test(arguments: [
        (17, 8192), (0, 8192), (1, 8191), (1, 8192 + 512), (1, 4 << 30 + 1024), (1, 1 << 40), (UInt64.max, UInt64.max),
    ] as [(UInt64, UInt64)])
    func protectedCostsAreCapped(opsLimit: UInt64, memLimit: UInt64) throws {
        let file = try IdentityFile.renderProtected(Identity.generate(), passphrase: Kit.passphrase("pw"), parameters: Kit.tinyKDF)
        let patched = try Kit.patchingPayload(file, 17..<33, with: Kit.littleEndian(opsLimit) + Kit.littleEndian(memLimit))
        for passphrase in [nil, Kit.passphrase("pw")] {
            let error = try #require(throws: IdentityError.self) {
                try IdentityFile.parse(patched, path: "p", passphrase: passphrase)
            }
            #expect(Kit.malformedLine(error) == 3)
            #expect(Kit.malformedReason(error)?.hasPrefix("Argon2id parameters") == true)
        }
    }

    @Test func protectedPayloadIsChecked() throws {
        let file = try IdentityFile.renderProtected(Identity.generate(), passphrase: Kit.passphrase("pw"), parameters: Kit.tinyKDF)
        let badVersion = try Kit.patchingPayload(file, 0..<1, with: [2])
        let truncated = try Kit.patchingPayload(file, 100..<105, with: [])
        let tampered = try Kit.patchingPayload(file, 50..<51) { $0.map { $0 ^ 0x55 } }  // always a change
        #expect(Kit.malformedReason(try #require(throws: IdentityError.self) {
            try IdentityFile.parse(badVersion, path: "p", passphrase: nil)
        }) == "unsupported protected identity version")
        #expect(Kit.malformedReason(try #require(throws: IdentityError.self) {
            try IdentityFile.parse(truncated, path: "p", passphrase: nil)
        }) == "protected identity has the wrong length")
        #expect(throws: IdentityError.wrongPassphrase(path: "p")) {
            try IdentityFile.parse(tampered, path: "p", passphrase: Kit.passphrase("pw"))
        }
        let notBase64 = Array((String(decoding: file, as: UTF8.self).dropLast(3) + "!=\n").utf8)
        #expect(Kit.malformedReason(try #require(throws: IdentityError.self) {
            try IdentityFile.parse(notBase64, path: "p", passphrase: nil)
        }) == "invalid base64")
        let mixed = file + Array(Kit.text(Identity.generate().encodedSecretKey()).utf8) + [10]
        #expect(Kit.malformedLine(try #require(throws: IdentityError.self) {
            try IdentityFile.parse(mixed, path: "p", passphrase: nil)
        }) == 3)
    }

    @Test func renderProtectedRefusesCostsReadersWouldRefuse() throws {
        #expect(throws: CryptoError.self) {
            try IdentityFile.renderProtected(
                Identity.generate(), passphrase: Kit.passphrase("pw"),
                parameters: Argon2id.Parameters(opsLimit: 17, memLimit: 8192))
        }
    }

    @Test func ageProtectedIdentityRoundTripsAndNeedsItsPassphrase() throws {
        let identity = Identity.generate()
        let file = try IdentityFile.renderAgeProtected(identity, passphrase: Kit.passphrase("pw"), workFactor: 4)
        #expect(throws: IdentityError.passphraseRequired(path: "k.age")) {
            try IdentityFile.parse(file, path: "k.age", passphrase: nil)
        }
        #expect(throws: IdentityError.wrongPassphrase(path: "k.age")) {
            try IdentityFile.parse(file, path: "k.age", passphrase: Kit.passphrase("other"))
        }
        let opened = try IdentityFile.parse(file, path: "k.age", passphrase: Kit.passphrase("pw"))
        #expect(opened.map(\.recipient) == [identity.recipient])
        #expect(throws: CryptoError.self) {
            try IdentityFile.renderAgeProtected(identity, passphrase: Kit.passphrase("pw"), workFactor: 23)
        }
    }

    @Test func recipientsFile() throws {
        let first = Identity.generate().recipient, second = Identity.generate().recipient
        let text = "# team\r\n\(first.text)\r\n\r\n\(second.text)\n# end"
        #expect(try IdentityFile.parseRecipients(text, path: "r.txt").keys == [.age(first), .age(second)])
        #expect(try IdentityFile.parseRecipients("# none\n\n", path: "r.txt").keys == [])
        #expect(throws: IdentityError.malformed(path: "r.txt", line: 3, reason: "an age recipient must be lower-case")) {
            try IdentityFile.parseRecipients("\(first.text)\n\n\(second.text.uppercased())\n", path: "r.txt")
        }
        #expect(throws: IdentityError.malformed(path: "r.txt", line: 2, reason: "not a valid ssh-ed25519 public key")) {
            try IdentityFile.parseRecipients("\(first.text)\nssh-ed25519 AAAA\n", path: "r.txt")
        }
        // Plugin recipients (age1<name>1...), as age's -R takes them.
        let plugin = Bech32.encode(hrp: "age1yubikey", data: Array(repeating: 7, count: 33))
        let mixed = try IdentityFile.parseRecipients("\(first.text)\n\(plugin)\n", path: "r.txt")
        #expect(mixed.keys == [.age(first)])
        #expect(mixed.plugins.map(\.name) == ["yubikey"] && mixed.plugins.map(\.text) == [plugin])
    }
}

/// Interoperability with the real `age` and `age-keygen` (installed by CI; missing tools fail).
@Suite struct AgeInteropTests {
    fileprivate typealias Kit = IdentityTestKit

    @Test func ageKeygenFileParses() throws {
        try Kit.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("key.txt").path
            try Kit.run("/usr/bin/age-keygen", ["-o", path])
            let contents = try #require(FileManager.default.contents(atPath: path))
            let identities = try IdentityFile.parse(Array(contents), path: path, passphrase: nil)
            #expect(identities.count == 1)
            let comment = try #require(String(decoding: contents, as: UTF8.self)
                .split(separator: "\n").first { $0.hasPrefix("# public key: ") })
            #expect(identities[0].recipient.text == comment.dropFirst("# public key: ".count))
            let derived = try Kit.run("/usr/bin/age-keygen", ["-y", path])
            #expect(identities[0].recipient.text + "\n" == derived)
        }
    }

    @Test func cofferIdentityWorksWithAge() throws {
        try Kit.withTemporaryDirectory { directory in
            let identity = Identity.generate()
            let keyPath = directory.appendingPathComponent("identity.txt").path
            let plainPath = directory.appendingPathComponent("plain.txt").path
            let sealedPath = directory.appendingPathComponent("plain.txt.age").path
            try Data(Kit.bytes(IdentityFile.render(identity))).write(to: URL(fileURLWithPath: keyPath))
            let message = "coffer ↔ age \(UUID().uuidString)\n"
            try Data(message.utf8).write(to: URL(fileURLWithPath: plainPath))

            #expect(try Kit.run("/usr/bin/age-keygen", ["-y", keyPath]) == identity.recipient.text + "\n")
            try Kit.run("/usr/bin/age", ["-r", identity.recipient.text, "-o", sealedPath, plainPath])
            #expect(try Kit.run("/usr/bin/age", ["-d", "-i", keyPath, sealedPath]) == message)
        }
    }

    /// Both read the same variants of an identity file the same way.
    @Test(arguments: [
        ("# c\r\nKEY\r\n", true), ("KEY", true), ("#\n\nKEY\n#", true), ("KEY \n", false), (" KEY\n", false),
        ("  # c\nKEY\n", false), ("KEY\n \n", false), ("LOWER\n", false),
    ])
    func lineRulesMatchAge(template: String, accepted: Bool) throws {
        try Kit.withTemporaryDirectory { directory in
            let identity = Identity.generate()
            let key = Kit.text(identity.encodedSecretKey())
            let text = template.replacingOccurrences(of: "KEY", with: key).replacingOccurrences(of: "LOWER", with: key.lowercased())
            let keyPath = directory.appendingPathComponent("identity.txt").path
            let plainPath = directory.appendingPathComponent("plain.txt").path
            let sealedPath = directory.appendingPathComponent("plain.txt.age").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: keyPath))
            try Data("x".utf8).write(to: URL(fileURLWithPath: plainPath))
            try Kit.run("/usr/bin/age", ["-r", identity.recipient.text, "-o", sealedPath, plainPath])

            let age = try Kit.runAllowingFailure("/usr/bin/age", ["-d", "-i", keyPath, sealedPath])
            #expect((age.status == 0) == accepted, "age: \(age.errors)")
            let ours = Result { try IdentityFile.parse(Array(text.utf8), path: keyPath, passphrase: nil) }
            #expect((try? ours.get().map(\.recipient)) == (accepted ? [identity.recipient] : nil))
        }
    }
}
