/// Maps secret names to POSIX environment variable names.
public enum EnvironmentName {
    /// `prefix` followed by `secretName` with ASCII letters uppercased and every other Unicode scalar
    /// outside `[A-Z0-9_]` turned into `_`: `pg.user` -> `PG_USER`, `api-key` -> `API_KEY`.
    /// A mapped name starting with a digit (or an empty one) gets a leading `_`, so the mapping
    /// alone is always a valid name. `prefix` is then prepended as given (so `1x` is `_1X` and,
    /// with prefix `APP_`, `APP__1X`); check it first with `validatePrefix(_:)`.
    public static func variableName(for secretName: String, prefix: String = "") -> String {
        var secretName = secretName
        var name: [UInt8] = []
        secretName.withUTF8 { variableName(forUTF8: $0, into: &name) }
        return prefix + String(decoding: name, as: UTF8.self)
    }

    /// `variableName(for:)` without a prefix, of a name given as UTF-8, written over `variable`
    /// (reusing its storage: a scan over every name of a vault makes no String).
    public static func variableName(forUTF8 secretName: UnsafeBufferPointer<UInt8>, into variable: inout [UInt8]) {
        variable.removeAll(keepingCapacity: true)
        if startsWithDigit(secretName) { variable.append(UInt8(ascii: "_")) }
        for byte in secretName {
            if let mapped = mapped(byte) { variable.append(mapped) }
        }
    }

    /// Whether `variableName(forUTF8: secretName)` is `variable`; made byte by byte, not whole,
    /// and given up at the first difference (a scan over every name of a vault).
    public static func variableName(forUTF8 secretName: UnsafeBufferPointer<UInt8>, is variable: [UInt8]) -> Bool {
        var next = 0
        if startsWithDigit(secretName) {
            guard variable.first == UInt8(ascii: "_") else { return false }
            next = 1
        }
        for byte in secretName {
            guard let mapped = mapped(byte) else { continue }
            guard next < variable.count, variable[next] == mapped else { return false }
            next += 1
        }
        return next == variable.count
    }

    /// A mapped name starting with a digit (or an empty one) gets a leading `_`.
    private static func startsWithDigit(_ secretName: UnsafeBufferPointer<UInt8>) -> Bool {
        secretName.first.map { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? true
    }

    /// The variable name's byte for `byte` of a secret name; nil for a byte that continues a
    /// scalar outside ASCII, which is one `_`, made at its first byte.
    @inline(__always)
    private static func mapped(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - 32
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): byte
        case 0x80...0xBF: nil
        default: UInt8(ascii: "_")
        }
    }

    /// The key Kestra knows secret `name` by: the name itself, which `{{ secret('NAME') }}` uses
    /// both in Kestra (reading `SECRET_NAME`) and in `render`, so a template renders the same in
    /// both. A name that is no portable environment variable name (`[A-Za-z_][A-Za-z0-9_]*`),
    /// such as `pg.password`, cannot be held by Kestra and is refused, with the name to use instead.
    public static func kestraKey(for name: String) throws -> String {
        guard isPortableName(name) else {
            throw CofferError.invalidArgument(
                "Kestra cannot hold secret '\(name)': its secrets are environment variables SECRET_<NAME> and templates "
                    + "name them by NAME, so NAME must be letters, digits and _, not starting with a digit; store it as "
                    + "\(variableName(for: name)) to export it to Kestra")
        }
        return name
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`, not empty.
    static func isPortableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Accepts an empty prefix or one that is itself a valid variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    public static func validatePrefix(_ prefix: String) throws {
        for (index, scalar) in prefix.unicodeScalars.enumerated() {
            switch scalar {
            case "A"..."Z", "a"..."z", "_": continue
            case "0"..."9" where index > 0: continue
            default:
                throw CofferError.invalidArgument(
                    "environment prefix '\(prefix)' must start with a letter or '_' and contain only letters, digits and '_'")
            }
        }
    }

    /// The variables for `secrets`, in input order. Throws `.conflict` naming both secrets
    /// when two of them map to the same variable.
    public static func environment(
        for secrets: [(name: String, value: [UInt8])], prefix: String
    ) throws -> [(variable: String, value: [UInt8])] {
        try validatePrefix(prefix)
        var owners: [String: String] = [:]
        return try secrets.map { secret in
            let variable = variableName(for: secret.name, prefix: prefix)
            if let other = owners.updateValue(secret.name, forKey: variable) {
                throw CofferError.conflict(
                    "secrets '\(other)' and '\(secret.name)' both map to environment variable \(variable)")
            }
            return (variable, secret.value)
        }
    }

    /// For each name in `names`, the other names in `existing` that map to the same variable
    /// (`api_key`, `API_KEY` and `api.key` all map to API_KEY), as (name, other, variable).
    public static func collisions(of names: [String], among existing: [String]) -> [(name: String, other: String, variable: String)] {
        var byVariable: [String: [String]] = [:]
        for name in Set(existing + names).sorted() { byVariable[variableName(for: name), default: []].append(name) }
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }.flatMap { name in
            let variable = variableName(for: name)
            return byVariable[variable, default: []].filter { $0 != name }.map { (name, $0, variable) }
        }
    }
}
