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
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { appendHex(byte, uppercase: uppercase, to: &out) }
        return out
    }

    private static func appendHex(_ byte: UInt8, uppercase: Bool, to out: inout [UInt8]) {
        let letters = uppercase ? UInt8(ascii: "A") - 10 : UInt8(ascii: "a") - 10
        let high = byte >> 4, low = byte & 0x0F
        out.append(high < 10 ? UInt8(ascii: "0") + high : letters + high)
        out.append(low < 10 ? UInt8(ascii: "0") + low : letters + low)
    }

    /// The base64 (or base64url) characters of `bytes` when `offset` (0, 1 or 2) bytes of other data
    /// come before them in the encoded input, without the characters at either end that also
    /// depend on that data or on what follows: what every encoding of a text holding `bytes` at
    /// that alignment contains.
    static func base64Inner(_ bytes: [UInt8], offset: Int, urlSafe: Bool) -> [UInt8] {
        let encoded = Array(Base64.encode(Array(repeating: 0, count: offset) + bytes, alphabet: urlSafe ? .urlSafe : .standard).utf8)
        let first = (8 * offset + 5) / 6, end = 8 * (offset + bytes.count) / 6
        return first < end ? Array(encoded[first..<end]) : []
    }

    /// Percent-encoding conventions.
    enum PercentStyle {
        /// RFC 3986: ALPHA DIGIT - . _ ~ kept.
        case rfc3986
        /// Python's `urllib.parse.quote` with its default `safe='/'`: RFC 3986's set and `/`.
        case pythonQuote
        /// Python's `quote_plus`: RFC 3986's set kept, space as `+`.
        case formPython
        /// HTML forms (WHATWG `application/x-www-form-urlencoded`): ALPHA DIGIT * - . _ kept, space as `+`.
        case formHTML
    }

    /// Every byte outside the style's kept set as `%XX`.
    static func percentEncoded(_ bytes: [UInt8], uppercase: Bool, style: PercentStyle = .rfc3986) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        for byte in bytes {
            if isKept(byte, style) {
                out.append(byte)
            } else if byte == UInt8(ascii: " ") && (style == .formPython || style == .formHTML) {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%"))
                appendHex(byte, uppercase: uppercase, to: &out)
            }
        }
        return out
    }

    private static func isKept(_ byte: UInt8, _ style: PercentStyle) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            true
        case UInt8(ascii: "~"): style != .formHTML
        case UInt8(ascii: "/"): style == .pythonQuote
        case UInt8(ascii: "*"): style == .formHTML
        default: false
        }
    }

    /// The body of a JSON string holding `bytes` as its encoders write it: `"` and `\` escaped,
    /// control characters as `\n`, `\t`... or `\u00XX`; with `escapingSlash`, `/` as `\/` (PHP);
    /// with `asciiOnly`, every non-ASCII character as `\uXXXX` (Python's default). Nil when
    /// `asciiOnly` is asked for and `bytes` is not UTF-8.
    static func jsonEscaped(_ bytes: [UInt8], escapingSlash: Bool = false, asciiOnly: Bool = false) -> [UInt8]? {
        var out: [UInt8] = []
        func unicodeEscape(_ unit: UInt16) {
            out.append(UInt8(ascii: "\\"))
            out.append(UInt8(ascii: "u"))
            appendHex(UInt8(unit >> 8), uppercase: false, to: &out)
            appendHex(UInt8(unit & 0xFF), uppercase: false, to: &out)
        }
        func escape(_ byte: UInt8) {
            let short: UInt8? = switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): byte
            case UInt8(ascii: "/") where escapingSlash: byte
            case 0x0A: UInt8(ascii: "n")
            case 0x0D: UInt8(ascii: "r")
            case 0x09: UInt8(ascii: "t")
            case 0x08: UInt8(ascii: "b")
            case 0x0C: UInt8(ascii: "f")
            default: nil
            }
            if let short {
                out.append(UInt8(ascii: "\\"))
                out.append(short)
            } else if byte < 0x20 {
                unicodeEscape(UInt16(byte))
            } else {
                out.append(byte)
            }
        }
        if asciiOnly {
            guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
            for unit in text.utf16 {
                if unit < 0x80 { escape(UInt8(unit)) } else { unicodeEscape(unit) }
            }
            return out
        }
        for byte in bytes { escape(byte) }
        return out
    }
}
