/// A strict JSON (RFC 8259) reader that keeps key order, key lines and numbers' source text.
struct JSONTreeParser {
    private let path: String
    private let text: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    /// Deeper nesting than this is refused rather than risking the stack.
    private static let maxDepth = 256

    init(_ text: [Unicode.Scalar], path: String) {
        self.text = text
        self.path = path
        if text.first == "\u{FEFF}" { index = 1 }
    }

    /// Parses the whole document; returns its value and the line where that value starts.
    mutating func parse() throws -> (ImportTree, line: Int) {
        skipWhitespace()
        let start = line
        let tree = try parseValue(depth: 0)
        skipWhitespace()
        guard index == text.count else { throw failure("unexpected text after the top-level value") }
        return (tree, start)
    }

    private var peek: Unicode.Scalar? { index < text.count ? text[index] : nil }

    private func failure(_ reason: String) -> CofferError {
        .malformedInput(path: path, line: line, reason: "invalid JSON: \(reason)")
    }

    private mutating func next() -> Unicode.Scalar? {
        guard let scalar = peek else { return nil }
        index += 1
        if scalar == "\n" { line += 1 }
        return scalar
    }

    private mutating func skipWhitespace() {
        while let scalar = peek, scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
            _ = next()
        }
    }

    private mutating func expect(_ scalar: Unicode.Scalar, _ reason: String) throws {
        skipWhitespace()
        guard next() == scalar else { throw failure(reason) }
    }

    private mutating func parseValue(depth: Int) throws -> ImportTree {
        guard depth < Self.maxDepth else { throw failure("nested too deeply") }
        skipWhitespace()
        guard let scalar = peek else { throw failure("unexpected end of input, expected a value") }
        switch scalar {
        case "{":
            return .map(try parseObject(depth: depth))
        case "[":
            try parseArray(depth: depth)
            return .list
        case "\"":
            return .text(try parseString())
        case "t":
            try parseLiteral("true")
            return .text("true")
        case "f":
            try parseLiteral("false")
            return .text("false")
        case "n":
            try parseLiteral("null")
            return .null
        case "-", "0"..."9":
            return .text(try parseNumber())
        default:
            throw failure("expected a value")
        }
    }

    private mutating func parseObject(depth: Int) throws -> [ImportTree.Entry] {
        _ = next()
        skipWhitespace()
        if peek == "}" {
            _ = next()
            return []
        }
        var entries: [ImportTree.Entry] = []
        while true {
            skipWhitespace()
            guard peek == "\"" else { throw failure("expected a string key") }
            let keyLine = line
            let key = try parseString()
            try expect(":", "expected ':' after a key")
            entries.append(ImportTree.Entry(key: key, line: keyLine, value: try parseValue(depth: depth + 1)))
            skipWhitespace()
            switch next() {
            case ",": continue
            case "}": return entries
            default: throw failure("expected ',' or '}' after a value in an object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws {
        _ = next()
        skipWhitespace()
        if peek == "]" {
            _ = next()
            return
        }
        while true {
            _ = try parseValue(depth: depth + 1)
            skipWhitespace()
            switch next() {
            case ",": continue
            case "]": return
            default: throw failure("expected ',' or ']' after a value in an array")
            }
        }
    }

    private mutating func parseLiteral(_ word: String) throws {
        for expected in word.unicodeScalars {
            guard next() == expected else { throw failure("expected a value") }
        }
    }

    /// Returns the number exactly as written, after checking it against JSON's grammar.
    private mutating func parseNumber() throws -> String {
        let start = index
        func isDigit(_ scalar: Unicode.Scalar?) -> Bool { scalar.map { ("0"..."9").contains($0) } ?? false }
        func digits() throws {
            guard isDigit(peek) else { throw failure("invalid number") }
            while isDigit(peek) { index += 1 }
        }
        if peek == "-" { index += 1 }
        if peek == "0" {
            index += 1
        } else {
            try digits()
        }
        if peek == "." {
            index += 1
            try digits()
        }
        if peek == "e" || peek == "E" {
            index += 1
            if peek == "+" || peek == "-" { index += 1 }
            try digits()
        }
        var number = String.UnicodeScalarView()
        number.append(contentsOf: text[start..<index])
        return String(number)
    }

    private mutating func parseString() throws -> String {
        _ = next()
        var result = String.UnicodeScalarView()
        while true {
            guard let scalar = peek else { throw failure("unterminated string") }
            guard scalar.value >= 0x20 else { throw failure("control character inside a string (escape it)") }
            _ = next()
            switch scalar {
            case "\"":
                return String(result)
            case "\\":
                result.append(try parseEscape())
            default:
                result.append(scalar)
            }
        }
    }

    private mutating func parseEscape() throws -> Unicode.Scalar {
        switch next() {
        case "\"": return "\""
        case "\\": return "\\"
        case "/": return "/"
        case "b": return "\u{8}"
        case "f": return "\u{C}"
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "u":
            let unit = try parseHex4()
            switch unit {
            case 0xD800...0xDBFF:
                guard next() == "\\", next() == "u" else { throw failure("unpaired surrogate in a \\u escape") }
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate in a \\u escape") }
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
            case 0xDC00...0xDFFF:
                throw failure("unpaired surrogate in a \\u escape")
            default:
                return Unicode.Scalar(unit)!
            }
        default:
            throw failure("invalid escape in a string")
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let scalar = next(), let digit = Int(String(scalar), radix: 16) else {
                throw failure("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
