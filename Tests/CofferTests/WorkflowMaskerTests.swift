import Foundation
import Testing
@testable import Coffer

@Suite struct WorkflowMaskerTests {
    private let secret = Array("hunter2-Sekret".utf8)

    @Test func masksValueSplitAtEveryPairOfBoundaries() {
        let text = bytes("log: hunter2-Sekret, again hunter2-Sekrethunter2-Sekret!")
        let expected = bytes("log: ****, again ****!")
        for first in 0...text.count {
            for second in first...text.count {
                let chunks = [Array(text[..<first]), Array(text[first..<second]), Array(text[second...])]
                #expect(mask(chunks, values: [secret]) == expected, "split at \(first), \(second)")
            }
        }
        #expect(mask(text.map { [$0] }, values: [secret]) == expected)
    }

    @Test func masksEveryEncodedForm() throws {
        let value = bytes("p@ss w/rd+?\u{E9}~*!")
        let encoded = forms(of: value)
        #expect(Set(encoded).count == encoded.count, "the forms should all differ for this value")
        for form in encoded {
            let text = bytes("before ") + form + bytes(" after")
            #expect(mask([text], values: [value]) == bytes("before **** after"), "\(String(decoding: form, as: UTF8.self))")
            #expect(mask(text.map { [$0] }, values: [value]) == bytes("before **** after"))
        }
    }

    @Test func mergesOverlappingAndAdjacentOccurrences() {
        let values = [bytes("abcdef"), bytes("defghi"), bytes("zzzz")]
        #expect(mask([bytes("xabcdefghix")], values: values) == bytes("x****x"))
        #expect(mask([bytes("xabcdefzzzzdefghiy")], values: values) == bytes("x****y"))
        #expect(mask([bytes("xzzzzzzzzzzzzy")], values: values) == bytes("x****y"))
        // One secret inside another: the longer one is hidden whole.
        #expect(mask([bytes("-secret-inner-secret-")], values: [bytes("inner"), bytes("secret-inner-secret")]) == bytes("-****-"))
    }

    @Test func leavesShortValuesAlone() {
        let text = bytes("yes, abc and 1 are common; abcd is not")
        #expect(mask([text], values: [bytes("abc"), bytes("1"), bytes("yes"), []]) == text)
        #expect(mask([text], values: [bytes("abcd")]) == bytes("yes, abc and 1 are common; **** is not"))
        #expect(mask([text], values: [bytes("abc")], minimumLength: 3) == bytes("yes, **** and 1 are common; ****d is not"))
    }

    @Test func noFalsePositivesAndIdenticalOutputWithoutMatches() {
        var generator = SeededGenerator(state: 7)
        let text = (0..<20_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let near = bytes("hunter2-Sekre hunter2-Sekrex unter2-Sekret HUNTER2-SEKRET aHVudGVyMi1TZWty")
        for input in [text, near, []] {
            #expect(mask([input], values: [secret]) == input)
            #expect(mask(randomChunks(input, maxSize: 300, using: &generator), values: [secret]) == input)
        }
        #expect(mask([text], values: []) == text)
    }

    @Test func emitsPromptlyHoldingOnlyAPossibleSecretStart() {
        var masker = SecretMasker(values: [secret])
        #expect(masker.process(bytes("hello world\n")) == bytes("hello world\n"))
        #expect(masker.process(bytes("value: hunt")) == bytes("value: "))
        #expect(masker.process(bytes("er2-Sekret")) == bytes("****"))
        #expect(masker.process(bytes(" then hunter")) == bytes(" then "))
        #expect(masker.finish() == bytes("hunter"))
        // finish() resets the masker for a new stream.
        #expect(masker.process(bytes("er2-Sekret")) == bytes("er2-Sekret"))
    }

    @Test func holdsBackExactlyTheLongestSuffixThatStartsAPattern() {
        var generator = SeededGenerator(state: 11)
        let patterns = forms(of: secret)
        let pieces = patterns.map { Array($0.prefix(Int.random(in: 1..<$0.count, using: &generator))) } + [bytes(" x\n")]
        let text = (0..<400).flatMap { _ in pieces.randomElement(using: &generator)! }
        var masker = SecretMasker(values: [secret])
        var emitted: [UInt8] = []
        var fed = 0
        for chunk in randomChunks(text, maxSize: 40, using: &generator) {
            emitted += masker.process(chunk)
            fed += chunk.count
            #expect(text[..<emitted.count].elementsEqual(emitted))
            let held = text[emitted.count..<fed]
            let startsPattern = { (suffix: ArraySlice<UInt8>) in
                patterns.contains { $0.count > suffix.count && $0.starts(with: suffix) }
            }
            #expect(held.isEmpty || startsPattern(held))
            for start in max(0, fed - 64)..<emitted.count {
                #expect(!startsPattern(text[start..<fed]))
            }
        }
        emitted += masker.finish()
        #expect(emitted == text)
    }

    @Test(arguments: [1, 2, 3, 5, 17, 4096])
    func matchesReferenceOnRandomStreams(maxChunk: Int) {
        var generator = SeededGenerator(state: UInt64(maxChunk))
        for _ in 0..<30 {
            let values = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
                (0..<Int.random(in: 3...8, using: &generator)).map { _ in bytes("ab/+=\u{1}").randomElement(using: &generator)! }
            }
            let pieces = values.flatMap(forms).flatMap { [$0, Array($0.prefix($0.count / 2)), Array($0.suffix($0.count / 2))] }
                + bytes("abc%2F =").map { [$0] }
            let text = (0..<200).flatMap { _ in pieces.randomElement(using: &generator)! }
            let expected = reference(text, values: values.filter { $0.count >= 4 })
            #expect(mask(randomChunks(text, maxSize: maxChunk, using: &generator), values: values) == expected)
        }
    }

    @Test func copiesAreIndependentStreams() {
        var stdout = SecretMasker(values: [secret])
        var stderr = stdout
        #expect(stdout.process(bytes("out hunter2")) == bytes("out "))
        #expect(stderr.process(bytes("-Sekret err")) == bytes("-Sekret err"))
        #expect(stdout.process(bytes("-Sekret")) + stdout.finish() == bytes("****"))
        #expect(stderr.finish() == [])
    }

    /// base64 of a text holding the secret after a prefix of any length (`curl -u user:password`'s
    /// Basic header): every character that depends on the secret alone is hidden.
    @Test(arguments: 0..<9) func masksBase64AfterAnyPrefix(prefixLength: Int) {
        let value = bytes("hunter2-Sekret!")
        let prefix = bytes(String("user:abc".prefix(prefixLength))), suffix: [UInt8] = [0xFF, 0xFE]
        for encode in [{ (data: Data) in data.base64EncodedString() }, { (data: Data) in
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }] {
            let encoded = bytes(encode(Data(prefix + value + suffix)))
            // Characters wholly inside the secret's bits: from ceil(8p/6) to floor(8(p+n)/6).
            let first = (8 * prefix.count + 5) / 6, end = 8 * (prefix.count + value.count) / 6
            let expected = Array(encoded[..<first]) + bytes("****") + Array(encoded[end...])
            #expect(mask(encoded.map { [$0] }, values: [value]) == expected, "\(String(decoding: encoded, as: UTF8.self))")
        }
    }

    @Test func masksJSONEscapes() throws {
        let value = bytes("pa\"ss\\w/rd\n\u{1}\u{E9}")
        for escaping in [false, true] {
            let encoder = JSONEncoder()
            if !escaping { encoder.outputFormatting = .withoutEscapingSlashes }
            let json = try encoder.encode(["token": String(decoding: value, as: UTF8.self)])
            #expect(mask([Array(json)], values: [value]) == bytes(#"{"token":"****"}"#), "\(String(decoding: json, as: UTF8.self))")
        }
        // Python's json.dumps writes non-ASCII as \uXXXX.
        #expect(mask([bytes(#""pa\"ss\\w/rd\n\u0001\u00e9""#)], values: [value]) == bytes(#""****""#))
    }

    @Test func masksEachLineOfAMultiLineValueButNotPEMArmor() {
        let key = bytes("-----BEGIN TEST KEY-----\r\nMIIBOgIBAAJBAKj34GkxFhD9\r\n9Cnzj4p4WGeKLs1P\r\nshort\r\n-----END TEST KEY-----\r\n")
        let log = bytes("-----BEGIN TEST KEY-----\nline MIIBOgIBAAJBAKj34GkxFhD9 and 9Cnzj4p4WGeKLs1P; short\n-----END TEST KEY-----\n")
        #expect(mask(log.map { [$0] }, values: [key])
                == bytes("-----BEGIN TEST KEY-----\nline **** and ****; short\n-----END TEST KEY-----\n"))
    }

    /// Hex as `xxd -p` (or `xxd -p -u`) prints it, 60 digits a line, with the secret starting at
    /// each byte of a line: the secret's digits are hidden on every line they reach, the line
    /// breaks stay; also byte by byte, and with a terminal's `\r\n`.
    @Test(arguments: [false, true]) func masksHexWrappedAsXxdPrintsIt(uppercase: Bool) {
        var generator = SeededGenerator(state: uppercase ? 5 : 6)
        let value = (0..<45).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for prefixLength in 0..<31 {
            let data = (0..<prefixLength).map { _ in UInt8.random(in: 0...255, using: &generator) } + value
                + (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let digits = Array(data.map { String(format: uppercase ? "%02X" : "%02x", $0) }.joined().utf8)
            let secretDigits = 2 * prefixLength..<2 * (prefixLength + value.count)
            for lineBreak in [bytes("\n"), bytes("\r\n")] {
                var text: [UInt8] = [], expected: [UInt8] = []
                for lineStart in stride(from: 0, to: digits.count, by: 60) {
                    let line = lineStart..<min(lineStart + 60, digits.count)
                    text += digits[line] + lineBreak
                    let hidden = line.clamped(to: secretDigits)
                    expected += hidden.isEmpty
                        ? Array(digits[line])
                        : Array(digits[line.lowerBound..<hidden.lowerBound]) + bytes("****") + Array(digits[hidden.upperBound..<line.upperBound])
                    expected += lineBreak
                }
                #expect(mask([text], values: [value]) == expected, "prefix \(prefixLength)")
                #expect(mask(text.map { [$0] }, values: [value]) == expected, "prefix \(prefixLength), byte by byte")
            }
        }
    }

    /// Only xxd's width is looked through: hex broken after a line of other length stays as it is.
    @Test func joinsOnlyLinesOfXxdWidth() {
        let value = bytes("hunter2-Sekret")
        let hex = Array(value.map { String(format: "%02x", $0) }.joined().utf8)
        for filler in [58, 59, 61, 62] {
            let line = [UInt8](repeating: UInt8(ascii: "0"), count: filler - 10) + hex[..<10]
            let text = line + bytes("\n") + hex[10...] + bytes("\n")
            #expect(mask([text], values: [value]) == text)
        }
        let notHex = bytes("x") + [UInt8](repeating: UInt8(ascii: "0"), count: 49) + hex[..<10] + bytes("\n") + hex[10...]
        #expect(mask([notHex], values: [value]) == notHex)
    }

    @Test func handlesLargeChunks() {
        var generator = SeededGenerator(state: 3)
        let values = (0..<50).map { index in
            bytes("secret-value-\(index)-") + (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        var text: [UInt8] = []
        var expected: [UInt8] = []
        for index in 0..<24 {
            let filler = (0..<Int.random(in: 0...40_000, using: &generator)).map { _ in
                UInt8.random(in: 32...126, using: &generator)
            }
            text += filler + forms(of: values[index % 50])[index % 12]
            expected += filler + bytes("****")
        }
        #expect(mask(randomChunks(text, maxSize: 1 << 16, using: &generator), values: values) == expected)
        #expect(mask([text], values: values) == expected)
    }
}

private extension WorkflowMaskerTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// A seeded generator (SplitMix64) so failures reproduce.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Every whole form the masker must hide, computed independently of the library (the forms
    /// at other base64 alignments, JSON's and the lines are tested on their own).
    func forms(of value: [UInt8]) -> [[UInt8]] {
        let base64 = Data(value).base64EncodedString()
        let base64URL = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._"
        func percent(_ format: String, keeping kept: String, space: String? = nil) -> [UInt8] {
            bytes(value.map { byte in
                if byte == 0x20, let space { return space }
                return Set(bytes(kept)).contains(byte) ? String(UnicodeScalar(byte)) : String(format: format, byte)
            }.joined())
        }
        return [
            value, bytes(base64), bytes(base64.replacingOccurrences(of: "=", with: "")),
            bytes(base64URL), bytes(base64URL.replacingOccurrences(of: "=", with: "")),
            bytes(value.map { String(format: "%02x", $0) }.joined()), bytes(value.map { String(format: "%02X", $0) }.joined()),
            percent("%%%02X", keeping: unreserved + "~"), percent("%%%02x", keeping: unreserved + "~"),
            percent("%%%02X", keeping: unreserved + "~/"), percent("%%%02X", keeping: unreserved + "~", space: "+"),
            percent("%%%02X", keeping: unreserved + "*", space: "+"),
        ]
    }

    /// The expected output: every byte inside any occurrence of any of the masker's forms (found
    /// by naive search) hidden, each run of hidden bytes as one `****`.
    func reference(_ text: [UInt8], values: [[UInt8]]) -> [UInt8] {
        var hidden = [Bool](repeating: false, count: text.count)
        for pattern in values.flatMap(SecretMasker.forms) where !pattern.isEmpty && pattern.count <= text.count {
            for start in 0...(text.count - pattern.count) where text[start..<start + pattern.count].elementsEqual(pattern) {
                for index in start..<start + pattern.count { hidden[index] = true }
            }
        }
        var out: [UInt8] = []
        for (index, byte) in text.enumerated() {
            if !hidden[index] {
                out.append(byte)
            } else if index == 0 || !hidden[index - 1] {
                out += bytes("****")
            }
        }
        return out
    }

    /// Runs `text` through a fresh masker in the given chunks.
    func mask(_ chunks: [[UInt8]], values: [[UInt8]], minimumLength: Int = 4) -> [UInt8] {
        var masker = SecretMasker(values: values, minimumLength: minimumLength)
        return chunks.flatMap { masker.process($0) } + masker.finish()
    }

    func randomChunks(_ text: [UInt8], maxSize: Int, using generator: inout SeededGenerator) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var start = 0
        while start < text.count {
            let end = min(text.count, start + Int.random(in: 0...maxSize, using: &generator))
            chunks.append(Array(text[start..<end]))
            start = end
        }
        return chunks
    }
}
