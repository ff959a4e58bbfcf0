import ArgumentParser
import Coffer
#if canImport(Glibc)
import Glibc
#endif

@main
struct CofferCommand: ParsableCommand {
    static let version = "1.0.0"

    static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "Encrypted secret vaults for teams and workflow engines.",
        discussion: """
            Which vault: --vault PATH, else $COFFER_VAULT, else the nearest secrets.coffer from the \
            current folder up to the repository root, else (or with --local) the local vault under \
            $XDG_DATA_HOME/coffer/.

            Exit codes: 0 ok, 1 usage or bad input, 2 not found (vault or entry), 3 authentication \
            failed or no key available, 4 corrupted or tampered, 5 conflict (exists, no-reveal, \
            concurrent change), 6 I/O or permissions.
            """,
        version: version,
        subcommands: [
            Init.self, Edit.self, SetSecret.self, Get.self, List.self, Delete.self, Move.self, Copy.self, Describe.self,
            History.self,
            Import.self, Generate.self,
            Inspect.self, Verify.self, Passwd.self, Slots.self, Keygen.self, Rotate.self, Run.self, Render.self, Export.self,
            Unlock.self, Lock.self, Status.self, Git.self, Trust.self, Upgrade.self, Pin.self,
        ]
    )

    /// Runs the command line, printing one line on stderr and exiting with a documented code on failure.
    static func main() {
        Terminal.hardenProcess()
        if let unknown = Suggestion.unknownSubcommand(in: Array(CommandLine.arguments.dropFirst())) {
            Glibc.exit(report(unknown))
        }
        do {
            let arguments = Array(CommandLine.arguments.dropFirst())
            var command = try HotCommands.parse(arguments) ?? parseAsRoot(arguments)
            try command.run()
            try VaultOptions.trust.finish()
        } catch {
            // What the command learned of the vaults it opened stands even when it failed after
            // (a vault seen is remembered); a failure to write that is not the error reported.
            try? VaultOptions.trust.finish()
            Glibc.exit(report(error))
        }
    }

    /// Prints `error` as one line and returns its exit code.
    static func report(_ error: Error) -> Int32 {
        if let exit = error as? ExitCode { return exit.rawValue }
        let (code, text) = outcome(of: error)
        if code == 0 { print(text) } else { Terminal.printError(text) }
        return code
    }

    /// The exit code `error` ends the process with, and the text said: one line on stderr, or
    /// (help and version, exit 0) the whole text on stdout.
    static func outcome(of error: Error) -> (code: Int32, text: String) {
        if let failure = error as? Failure { return (failure.code.rawValue, failure.message) }
        if let error = error as? CofferError {
            let failure = Failure(error)
            return (failure.code.rawValue, failure.message)
        }
        if let exit = error as? ExitCode { return (exit.rawValue, "") }
        let code = exitCode(for: error)
        if code == .success { return (0, fullMessage(for: error)) }
        return (ExitStatus.usage.rawValue, message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage")
    }
}
