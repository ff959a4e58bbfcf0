import Coffer

/// The documented exit codes.
enum ExitStatus: Int32 {
    case ok = 0, usage = 1, notFound = 2, authentication = 3, corrupted = 4, conflict = 5, io = 6
}

/// A failure the CLI reports: one line on stderr (never a secret) and an exit code.
struct Failure: Error {
    let code: ExitStatus
    let message: String

    init(_ code: ExitStatus, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: CofferError) {
        switch error {
        case .authenticationFailed:
            self.init(.authentication, "wrong passphrase or identity: no key slot opened")
        case let .notAVault(path):
            self.init(.corrupted, "\(path) is not a Coffer vault")
        case let .unsupportedVersion(major, minor):
            self.init(.corrupted, "vault format \(major).\(minor) is not supported by coffer \(CofferCommand.version) (for writing, or at all)")
        case let .corrupted(part):
            self.init(.corrupted, "the vault is corrupted: \(part)")
        case let .tampered(part):
            self.init(.corrupted, "the vault failed verification (\(part)): it was tampered with or corrupted")
        case let .entryExists(name, scope):
            self.init(.conflict, "\(name) already exists (\(scope)); use --overwrite to replace it")
        case let .entryMissing(name, scope):
            self.init(.notFound, "no secret \(name) (\(scope))")
        case let .notRevealable(name):
            self.init(.conflict, "\(name) is no-reveal: it can be used by run and render, never printed")
        case let .conflict(reason):
            self.init(.conflict, reason)
        case let .invalidArgument(reason):
            self.init(.usage, reason)
        case let .malformedInput(path, line, reason):
            self.init(.usage, line > 0 ? "\(path):\(line): \(reason)" : "\(path): \(reason)")
        case let .keyUnavailable(reason):
            self.init(.authentication, reason)
        case let .io(path, reason):
            self.init(reason == "no such file" ? .notFound : .io, path.isEmpty ? reason : "\(path): \(reason)")
        }
    }
}
