/// Formats `SecretExport` can write.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// `VAR="value"` lines, readable by python-dotenv and compatible loaders. `$` is written as is,
    /// so a value holding `${...}` needs a loader with interpolation off (python-dotenv's `interpolate=False`).
    case dotenv
    /// A flat JSON object of secret names to values, keys sorted.
    case json
    /// A flat YAML map of secret names to double-quoted values.
    case yaml
    /// `SECRET_NAME=base64` lines: Kestra's open-source convention for secrets in environment
    /// variables. NAME is the secret's name as it is, the key `{{ secret('NAME') }}` uses in
    /// Kestra and in `render` alike; names Kestra cannot hold are refused (`EnvironmentName.kestraKey`).
    case kestra
    /// A Kubernetes v1 `Secret` manifest with base64 `data`.
    case k8s
}

/// Writes decrypted secrets in an `ExportFormat`. Secrets are written in input order
/// (JSON keys excepted, which are sorted); every non-empty output ends with a newline.
public enum SecretExport {
    /// `dotenv`, `json` and `yaml` need UTF-8 values; `kestra` and `k8s` take any bytes.
    /// `k8sName` (a DNS-1123 subdomain) and `k8sNamespace` (a DNS-1123 label) are for `k8s` only.
    public static func render(
        _ secrets: [(name: String, value: [UInt8])],
        format: ExportFormat,
        k8sName: String = "coffer-secrets",
        k8sNamespace: String? = nil
    ) throws -> [UInt8] {
        var out = ""
        switch format {
        case .dotenv:
            let texts = try textValues(of: secrets, format: format)
            for (entry, text) in zip(try EnvironmentName.environment(for: secrets, prefix: ""), texts) {
                out += "\(entry.variable)=\"\(dotenvEscaped(text))\"\n"
            }
        case .kestra:
            for secret in secrets {
                out += "SECRET_\(try EnvironmentName.kestraKey(for: secret.name))=\(ByteEncoding.base64(secret.value))\n"
            }
        case .json:
            try checkUniqueNames(secrets)
            let entries = zip(secrets.map(\.name), try textValues(of: secrets, format: format))
                .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
                .map { name, text in "  \(jsonQuoted(name)): \(jsonQuoted(text))" }
            out = entries.isEmpty ? "{}\n" : "{\n" + entries.joined(separator: ",\n") + "\n}\n"
        case .yaml:
            try checkUniqueNames(secrets)
            let texts = try textValues(of: secrets, format: format)
            out = secrets.isEmpty ? "{}\n" : zip(secrets, texts)
                .map { secret, text in "\(yamlQuoted(secret.name)): \(yamlQuoted(text))\n" }.joined()
        case .k8s:
            try checkUniqueNames(secrets)
            guard isDNSSubdomain(k8sName) else {
                throw CofferError.invalidArgument(
                    "Kubernetes name '\(k8sName)' must be a DNS-1123 subdomain: at most 253 characters of a-z, 0-9, "
                        + "'-' and '.', each dot-separated part starting and ending with a letter or digit")
            }
            if let k8sNamespace, !isDNSLabel(k8sNamespace) {
                throw CofferError.invalidArgument(
                    "Kubernetes namespace '\(k8sNamespace)' must be a DNS-1123 label: at most 63 characters of a-z, 0-9 "
                        + "and '-', starting and ending with a letter or digit")
            }
            out = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \(yamlQuoted(k8sName))\n"
            if let k8sNamespace {
                out += "  namespace: \(yamlQuoted(k8sNamespace))\n"
            }
            out += "type: Opaque\ndata:" + (secrets.isEmpty ? " {}\n" : "\n")
            for secret in secrets {
                guard !secret.name.isEmpty, secret.name.unicodeScalars.allSatisfy(isSecretKeyCharacter) else {
                    throw CofferError.invalidArgument(
                        "secret name '\(secret.name)' is not a valid Kubernetes data key ([-._a-zA-Z0-9]+)")
                }
                // Quoted: a base64 string such as `1234` would otherwise load as a number.
                out += "  \(yamlQuoted(secret.name)): \(yamlQuoted(ByteEncoding.base64(secret.value)))\n"
            }
        }
        return Array(out.utf8)
    }

    private static func textValues(
        of secrets: [(name: String, value: [UInt8])], format: ExportFormat
    ) throws -> [String] {
        try secrets.map { secret in
            guard let text = String(validating: secret.value, as: UTF8.self) else {
                throw CofferError.invalidArgument(
                    "secret '\(secret.name)' is not UTF-8 text and cannot be exported as \(format.rawValue); "
                        + "use kestra or k8s, which encode values in base64")
            }
            return text
        }
    }

    private static func checkUniqueNames(_ secrets: [(name: String, value: [UInt8])]) throws {
        var seen: Set<String> = []
        for secret in secrets where !seen.insert(secret.name).inserted {
            throw CofferError.invalidArgument("secret name '\(secret.name)' appears more than once")
        }
    }

    /// Escapes for a double-quoted python-dotenv value (`$` left as is; see `ExportFormat.dotenv`).
    static func dotenvEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A JSON string literal (RFC 8259), shared with the CLI's JSON output.
    public static func jsonQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}": out += "\\u" + hex4(scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A YAML double-quoted scalar; everything outside YAML's printable set, and every line break, escaped.
    static func yamlQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{00}"..."\u{1F}", "\u{7F}"..."\u{9F}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}":
                out += "\\u" + hex4(scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    private static func isSecretKeyCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "-", ".", "_": true
        default: false
        }
    }

    private static func isDNSSubdomain(_ name: String) -> Bool {
        name.utf8.count <= 253 && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
            isLabel($0)
        }
    }

    private static func isDNSLabel(_ name: String) -> Bool {
        name.utf8.count <= 63 && isLabel(Substring(name))
    }

    /// Non-empty `[a-z0-9-]`, starting and ending with a letter or digit.
    private static func isLabel(_ label: Substring) -> Bool {
        let scalars = label.unicodeScalars
        func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) }
        guard let first = scalars.first, let last = scalars.last,
              isAlphanumeric(first), isAlphanumeric(last)
        else { return false }
        return scalars.allSatisfy { isAlphanumeric($0) || $0 == "-" }
    }
}
