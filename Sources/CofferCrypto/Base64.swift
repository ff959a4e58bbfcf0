internal import CSodium

/// RFC 4648 base64 through libsodium, whose encoder and decoder run in constant time: secret
/// values are encoded for exports and masking.
public enum Base64 {
    public enum Alphabet: Sendable {
        /// `+` and `/` (RFC 4648 §4).
        case standard
        /// `-` and `_` (RFC 4648 §5).
        case urlSafe
        /// `+` and `/` without `=` padding (age's headers); `decode` also refuses non-zero
        /// trailing bits, so each byte string has one text.
        case standardUnpadded

        var variant: Int32 {
            switch self {
            case .standard: sodium_base64_VARIANT_ORIGINAL
            case .urlSafe: sodium_base64_VARIANT_URLSAFE
            case .standardUnpadded: sodium_base64_VARIANT_ORIGINAL_NO_PADDING
            }
        }
    }

    /// The padded encoding of `bytes`, written straight into the string (no other copy is left).
    public static func encode(_ bytes: [UInt8], alphabet: Alphabet = .standard) -> String {
        Sodium.ensureInitialized()
        let length = sodium_base64_encoded_len(bytes.count, alphabet.variant)
        return String(unsafeUninitializedCapacity: length) { text in
            bytes.withUnsafeBufferPointer { input in
                text.withMemoryRebound(to: CChar.self) { text in
                    _ = sodium_bin2base64(text.baseAddress!, length, input.baseAddress, input.count, alphabet.variant)
                }
            }
            return length - 1  // without the terminating NUL
        }
    }

    /// The bytes of padded base64 `text`; nil if it is not exactly that (no spaces, no missing padding).
    public static func decode(_ text: String, alphabet: Alphabet = .standard) -> [UInt8]? {
        Sodium.ensureInitialized()
        let input = Array(text.utf8)
        var output = [UInt8](repeating: 0, count: (input.count + 3) / 4 * 3)
        var length = 0
        // With no end pointer, libsodium fails unless it consumed every character.
        let status = input.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { input in
                sodium_base642bin(&output, output.count, input.baseAddress, input.count, nil, &length, nil, alphabet.variant)
            }
        }
        guard status == 0 else { return nil }
        return Array(output.prefix(length))
    }

    /// The bytes of padded base64 `text`, skipping CR and LF, decoded straight into guarded memory
    /// (OpenSSH private keys); nil if it is not base64.
    public static func decodeSecret(_ text: UnsafeRawBufferPointer) -> SecureBytes? {
        Sodium.ensureInitialized()
        let output = SecureBytes(count: text.count / 4 * 3 + 3)
        var length = 0
        let status = output.withUnsafeMutableBytes { output in
            sodium_base642bin(
                output.baseAddress!.assumingMemoryBound(to: UInt8.self), output.count,
                text.baseAddress?.assumingMemoryBound(to: CChar.self), text.count, "\r\n", &length, nil,
                Alphabet.standard.variant)
        }
        guard status == 0 else { return nil }
        return output.slice(0..<length)
    }
}
