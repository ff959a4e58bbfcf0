import CofferCrypto

/// Bytes of a hex string; whitespace is skipped so vectors can be laid out as in their sources.
func hex(_ string: String) -> [UInt8] {
    let digits = string.filter { !$0.isWhitespace }.map { UInt8($0.hexDigitValue!) }
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
}

/// `bytes` with bit `bit` (counted from the start, least significant first) inverted.
func flipping(_ bytes: [UInt8], bit: Int) -> [UInt8] {
    var copy = bytes
    copy[bit / 8] ^= 1 << (bit % 8)
    return copy
}

extension SecureBytes {
    /// The contents as an ordinary array, for comparisons in tests.
    var array: [UInt8] { withUnsafeBytes { Array($0) } }
}

extension CryptoError {
    var isInvalidParameters: Bool {
        if case .invalidParameters = self { true } else { false }
    }
}
