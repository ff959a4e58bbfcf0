/// Every failure the Coffer library reports. Each case is something a user can act on,
/// and no case ever carries a secret value or a passphrase.
public enum CofferError: Error, Equatable, Sendable {
    /// No key slot opened with the passphrase or identity given.
    case authenticationFailed
    /// The file does not start with Coffer's magic bytes.
    case notAVault(path: String)
    /// The file's format version is one this build cannot read (or, for writes, write).
    case unsupportedVersion(major: Int, minor: Int)
    /// The file is malformed; `part` names where (header, slot, entry NAME, signature...).
    case corrupted(part: String)
    /// The file parses but fails authentication; `part` names what failed to verify.
    case tampered(part: String)
    /// The vault is well formed and signed, but is not the vault the credential or a pin names:
    /// someone made it from another vault's public parts. The text says what did not match.
    case forged(String)
    /// An entry with this name already exists in this scope, and overwriting was not asked for.
    case entryExists(name: String, scope: String)
    /// No entry with this name in this scope.
    case entryMissing(name: String, scope: String)
    /// Something else named is not there (a git work tree, a commit); the text says what.
    case notFound(String)
    /// The entry is marked no-reveal: it can be used (run, render) but not printed.
    case notRevealable(name: String)
    /// The vault on disk changed since it was read, or another operation conflicts with this one.
    case conflict(String)
    /// A name, scope, description, value or parameter is outside what the format allows.
    case invalidArgument(String)
    /// An input file (import, template, identity) is malformed; `line` is 1-based, 0 when unknown.
    case malformedInput(path: String, line: Int, reason: String)
    /// The vault is not unlocked, or the key in hand does not grant this entry's scope.
    case keyUnavailable(String)
    /// A system call failed; `path` names the file involved and `reason` the system's message.
    case io(path: String, reason: String)
}

extension CofferError {
    /// The exit code of the README's table (the CLI's, and the C library's status).
    public var exitCode: Int32 {
        switch self {
        case .invalidArgument, .malformedInput: 1
        case .entryMissing, .notFound: 2
        case .authenticationFailed, .keyUnavailable: 3
        case .notAVault, .unsupportedVersion, .corrupted, .tampered, .forged: 4
        case .entryExists, .notRevealable, .conflict: 5
        case let .io(_, reason): reason == "no such file" ? 2 : 6
        }
    }

    /// One line for the user; never a value.
    public var message: String {
        switch self {
        case .authenticationFailed: "wrong passphrase or identity: no key slot opened"
        case let .notAVault(path): "\(path) is not a Coffer vault"
        case let .unsupportedVersion(major, minor):
            "vault format \(major).\(minor) is not supported by this version of Coffer (for writing, or at all)"
        case let .corrupted(part): "the vault is corrupted: \(part)"
        case let .tampered(part): "the vault failed verification (\(part)): it was tampered with or corrupted"
        case let .forged(reason): reason
        case let .entryExists(name, scope): "\(name) already exists (\(scope)); use --overwrite to replace it"
        case let .entryMissing(name, scope): "no secret \(name) (\(scope))"
        case let .notFound(reason): reason
        case let .notRevealable(name): "\(name) is no-reveal: it can be used by run and render, never printed"
        case let .conflict(reason): reason
        case let .invalidArgument(reason): reason
        case let .malformedInput(path, line, reason): line > 0 ? "\(path):\(line): \(reason)" : "\(path): \(reason)"
        case let .keyUnavailable(reason): reason
        case let .io(path, reason): path.isEmpty ? reason : "\(path): \(reason)"
        }
    }
}
