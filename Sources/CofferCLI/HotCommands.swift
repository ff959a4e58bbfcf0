import ArgumentParser

/// The hot commands (`get`, `set`, `list`), parsed on their own: swift-argument-parser's
/// `parseAsRoot` builds the whole command tree, reflects the chosen command twice (once to look
/// for pass-through arguments, once to parse it) and parses the arguments a second and third
/// time looking for a completion-script request: 37% of a small `get`'s CPU time, 15% in the
/// completion check alone (perf). Here the chosen command is the only one reflected, once; a
/// `get` with a session takes about 1 ms less CPU (Benchmarks/README.md).
///
/// The same parser does the work, on the same declarations: `Alone<Command>` holds the command
/// as an option group, so every option, flag, argument, default and `validate()` is the
/// command's own. Anything whose handling depends on the tree (help, version, completion
/// scripts and requests, dumps of the help) goes to the full parser; so do all other commands.
/// The tests parse every argument list they run with both and expect the same outcome
/// (`HotCommandTests`, and `CofferProcess.run` for every command the CLI tests run).
enum HotCommands {
    /// The command parsed from `arguments` (without the program name), or nil when the full
    /// parser must decide.
    static func parse(_ arguments: [String]) throws -> ParsableCommand? {
        guard let name = arguments.first, !arguments.contains(where: needsFullParser) else { return nil }
        let rest = Array(arguments.dropFirst())
        switch name {
        case CofferCommand.Get._commandName: return try Alone<CofferCommand.Get>.parse(rest).command
        case CofferCommand.SetSecret._commandName: return try Alone<CofferCommand.SetSecret>.parse(rest).command
        case CofferCommand.List._commandName, "ls": return try Alone<CofferCommand.List>.parse(rest).command
        default: return nil
        }
    }

    /// Help, version and completion requests, in every spelling the parser accepts: long
    /// options exactly or with `=value`, and short-option clusters holding `h` (`-vh`).
    static func needsFullParser(_ argument: String) -> Bool {
        if argument.hasPrefix("--") {
            let option = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            return ["--help", "--version", "--generate-completion-script", "--experimental-dump-help"].contains(option)
                || argument.hasPrefix("---")
        }
        return argument.hasPrefix("-") && argument.dropFirst().contains("h") || argument == "-help"
    }

    /// `Command` as a root command of its own, named as it is under `coffer` (in usage lines).
    struct Alone<Command: ParsableCommand>: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: Command.configuration.commandName, _superCommandName: CofferCommand._commandName)
        }

        @OptionGroup var command: Command
    }
}
