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
        case let .unsupportedVersion(major, minor):
            self.init(.corrupted, "vault format \(major).\(minor) is not supported by coffer \(CofferCommand.version) (for writing, or at all)")
        default:
            self.init(ExitStatus(rawValue: error.exitCode) ?? .io, error.message)
        }
    }
}
