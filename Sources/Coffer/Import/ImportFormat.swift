/// A file format that `SecretImport` can read.
public enum ImportFormat: String, CaseIterable, Sendable {
    case yaml, json, dotenv

    /// Infers the format from a file name: `.yml` and `.yaml` are YAML, `.json` is JSON, and `.env`,
    /// `.env.*` (such as `.env.local`) or `*.env` is dotenv. Case does not matter; anything else is nil.
    public init?(inferringFrom path: String) {
        let name = path.split(separator: "/").last.map { $0.lowercased() } ?? ""
        if name.hasSuffix(".yml") || name.hasSuffix(".yaml") {
            self = .yaml
        } else if name.hasSuffix(".json") {
            self = .json
        } else if name.hasSuffix(".env") || name.hasPrefix(".env.") {
            self = .dotenv
        } else {
            return nil
        }
    }
}

/// One secret read from an import file.
public struct ImportedSecret: Equatable, Sendable {
    /// The secret's name; nested YAML and JSON keys are joined with dots (`pg.user`).
    public var name: String
    /// The value's bytes, as the file gives them once quoting and escapes are undone.
    public var value: [UInt8]
    /// The 1-based line where the name is written, or 0 when unknown.
    public var line: Int

    public init(name: String, value: [UInt8], line: Int) {
        self.name = name
        self.value = value
        self.line = line
    }
}

/// Reads secrets in bulk from YAML, JSON and dotenv files.
public enum SecretImport {
    /// Parses a whole file. All or nothing: the first problem throws `CofferError.malformedInput`
    /// naming `path` and the line, and the error never quotes a value.
    public static func parse(_ bytes: [UInt8], format: ImportFormat, path: String) throws -> [ImportedSecret] {
        switch format {
        case .dotenv:
            var parser = DotenvParser(try decodeUTF8(bytes, path: path), path: path)
            return try parser.parse()
        case .json:
            var parser = JSONTreeParser(try decodeUTF8(bytes, path: path), path: path)
            let (tree, line) = try parser.parse()
            return try tree.flattened(line: line, path: path)
        case .yaml:
            try decodeUTF8(bytes, path: path) { _ in }
            guard let (tree, line) = try YAMLReader.read(bytes, path: path) else { return [] }
            return try tree.flattened(line: line, path: path)
        }
    }

    private static func decodeUTF8(_ bytes: [UInt8], path: String) throws -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(bytes.count)
        try decodeUTF8(bytes, path: path) { scalars.append($0) }
        return scalars
    }

    /// Decodes strict UTF-8, naming the line of the first invalid byte.
    private static func decodeUTF8(_ bytes: [UInt8], path: String, _ body: (Unicode.Scalar) -> Void) throws {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var line = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" { line += 1 }
                body(scalar)
            case .emptyInput:
                return
            case .error:
                throw CofferError.malformedInput(path: path, line: line, reason: "the file is not valid UTF-8")
            }
        }
    }
}
