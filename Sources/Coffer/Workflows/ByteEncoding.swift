import CofferCrypto

/// Textual encodings of secret bytes, shared by masking and export.
enum ByteEncoding {
    /// Standard base64 (RFC 4648 §4), padded.
    static func base64(_ bytes: [UInt8]) -> String {
        Base64.encode(bytes)
    }

    /// base64url (RFC 4648 §5), padded.
    static func base64URL(_ bytes: [UInt8]) -> String {
        Base64.encode(bytes, alphabet: .urlSafe)
    }

    /// Two hex digits per byte.
    static func hex(_ bytes: [UInt8], uppercase: Bool) -> [UInt8] {
        let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    /// RFC 3986 percent-encoding: unreserved characters (ALPHA DIGIT - . _ ~) kept, every other byte `%XX`.
    static func percentEncoded(_ bytes: [UInt8], uppercase: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        for byte in bytes {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out += hex([byte], uppercase: uppercase)
            }
        }
        return out
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
