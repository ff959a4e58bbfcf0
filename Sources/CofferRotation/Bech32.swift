/// Bech32 as defined by BIP-173 (not Bech32m), with age's one change: no 90-character limit.
///
/// A string is `hrp "1" data`: a human-readable part of ASCII 33...126, the separator (the
/// last "1" in the string), then 5-bit values written in a 32-letter alphabet, of which the last
/// six are a BCH checksum over the hrp and the values. A string is all lower-case or all
/// upper-case; the checksum is computed on its lower-case form.
///
/// Secret keys go between guarded memory and text through the buffer functions (`layout(of:)`,
/// `unpack`, `encode(hrp:data:uppercase:into:)`), which read and write the caller's buffers in
/// place: they make no `Array` or `String` copy of key bits, and only a few bits at a time pass
/// through local integers. The `String` functions are for public data.
enum Bech32 {
    private static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let checksumCount = 6
    private static let generators: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]

    /// The value of each lower-case ASCII character in the alphabet, -1 for the others.
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = Int8(value) }
        return table
    }()

    /// Where the parts of a string with a valid checksum are, as byte offsets.
    struct Layout {
        let hrp: Range<Int>
        /// The data values, without the checksum.
        let data: Range<Int>
        let isUppercase: Bool
        /// Whether the values convert to whole bytes: fewer than 5 bits left over, all zero.
        let padsToBytes: Bool

        var byteCount: Int { data.count * 5 / 8 }
    }

    /// `hrp` and `data`, upper-case when `hrp` is (age secret keys), else lower-case.
    /// `hrp` must be 1 or more characters of ASCII 33...126, not of mixed case.
    static func encode(hrp: String, data: [UInt8]) -> String {
        let uppercase = hrp.utf8.contains { isUpper($0) }
        precondition(!hrp.isEmpty && hrp.utf8.allSatisfy { (33...126).contains($0) }, "invalid Bech32 hrp")
        precondition(!(uppercase && hrp.utf8.contains { isLower($0) }), "mixed-case Bech32 hrp")
        let lowercaseHRP = hrp.lowercased()
        let count = encodedCount(hrpCount: hrp.utf8.count, byteCount: data.count)
        return String(unsafeUninitializedCapacity: count) { output in
            data.withUnsafeBytes { data in
                encode(hrp: lowercaseHRP, data: data, uppercase: uppercase, into: UnsafeMutableRawBufferPointer(output))
            }
            return count
        }
    }

    /// The hrp (in the case it was written) and the data bytes of `text`; nil unless the
    /// characters, case, separator, checksum and padding are all valid.
    static func decode(_ text: String) -> (hrp: String, data: [UInt8])? {
        var text = text
        return text.withUTF8 { utf8 in
            let text = UnsafeRawBufferPointer(utf8)
            guard let layout = layout(of: text), layout.padsToBytes else { return nil }
            let data = [UInt8](unsafeUninitializedCapacity: layout.byteCount) { output, initialized in
                unpack(text, layout, into: UnsafeMutableRawBufferPointer(output))
                initialized = layout.byteCount
            }
            return (String(decoding: text[layout.hrp], as: UTF8.self), data)
        }
    }

    /// Characters needed for `byteCount` bytes under an hrp of `hrpCount` characters.
    static func encodedCount(hrpCount: Int, byteCount: Int) -> Int {
        hrpCount + 1 + (byteCount * 8 + 4) / 5 + checksumCount
    }

    /// Writes `hrp` (lower-case) and `data` into `output`, which holds exactly `encodedCount` bytes.
    static func encode(hrp: String, data: UnsafeRawBufferPointer, uppercase: Bool, into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count == encodedCount(hrpCount: hrp.utf8.count, byteCount: data.count))
        var checksum = Checksum()
        checksum.add(hrp: hrp.utf8)
        var index = 0
        func write(_ character: UInt8) {
            output[index] = uppercase && isLower(character) ? character - 32 : character
            index += 1
        }
        func writeValue(_ value: UInt8) {
            checksum.add(value)
            write(alphabet[Int(value)])
        }
        hrp.utf8.forEach(write)
        write(UInt8(ascii: "1"))
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in data {
            accumulator = (accumulator << 8 | UInt32(byte)) & 0xfff
            bits += 8
            while bits >= 5 {
                bits -= 5
                writeValue(UInt8(accumulator >> bits & 31))
            }
        }
        if bits > 0 { writeValue(UInt8(accumulator << (5 - bits) & 31)) }
        for _ in 0..<checksumCount { checksum.add(0) }
        let final = checksum.state ^ 1
        for position in 0..<checksumCount {
            write(alphabet[Int(final >> (5 * (checksumCount - 1 - position)) & 31)])
        }
    }

    /// Checks `text`'s characters, case, separator and checksum; nil when any is invalid.
    static func layout(of text: UnsafeRawBufferPointer) -> Layout? {
        guard let separator = text.lastIndex(of: UInt8(ascii: "1")), separator > 0,
              text.count - separator - 1 >= checksumCount else { return nil }
        guard text.allSatisfy({ (33...126).contains($0) }) else { return nil }
        let isUppercase = text.contains { isUpper($0) }
        guard !(isUppercase && text.contains { isLower($0) }) else { return nil }

        var checksum = Checksum()
        checksum.add(hrp: text[..<separator].lazy.map(lowercased))
        for character in text[(separator + 1)...] {
            guard let value = value(of: character) else { return nil }
            checksum.add(value)
        }
        guard checksum.state == 1 else { return nil }

        let data = (separator + 1)..<(text.count - checksumCount)
        let leftover = data.count * 5 % 8
        let last = data.isEmpty ? 0 : value(of: text[data.upperBound - 1])!
        let padsToBytes = leftover < 5 && last & ((1 << leftover) - 1) == 0
        return Layout(hrp: 0..<separator, data: data, isUppercase: isUppercase, padsToBytes: padsToBytes)
    }

    /// Writes the data bytes of a string whose layout pads to bytes into `output`
    /// (`layout.byteCount` bytes).
    static func unpack(_ text: UnsafeRawBufferPointer, _ layout: Layout, into output: UnsafeMutableRawBufferPointer) {
        precondition(layout.padsToBytes && output.count == layout.byteCount)
        var accumulator: UInt32 = 0
        var bits = 0
        var index = 0
        for character in text[layout.data] {
            accumulator = (accumulator << 5 | UInt32(value(of: character)!)) & 0xfff
            bits += 5
            if bits >= 8 {
                bits -= 8
                output[index] = UInt8(truncatingIfNeeded: accumulator >> bits)
                index += 1
            }
        }
    }

    /// The BIP-173 checksum, fed one 5-bit value at a time; a valid string leaves the state at 1.
    private struct Checksum {
        private(set) var state: UInt32 = 1

        mutating func add(_ value: UInt8) {
            let top = state >> 25
            state = (state & 0x1ff_ffff) << 5 ^ UInt32(value)
            for (bit, generator) in generators.enumerated() where top >> bit & 1 == 1 {
                state ^= generator
            }
        }

        /// The hrp's contribution: each character's high 3 bits, a zero, then each one's low 5 bits.
        mutating func add(hrp: some Collection<UInt8>) {
            for character in hrp { add(character >> 5) }
            add(0)
            for character in hrp { add(character & 31) }
        }
    }

    private static func value(of character: UInt8) -> UInt8? {
        guard character < 128 else { return nil }
        let value = values[Int(lowercased(character))]
        return value < 0 ? nil : UInt8(value)
    }

    private static func isUpper(_ character: UInt8) -> Bool { (65...90).contains(character) }
    private static func isLower(_ character: UInt8) -> Bool { (97...122).contains(character) }
    static func lowercased(_ character: UInt8) -> UInt8 { isUpper(character) ? character + 32 : character }
}
