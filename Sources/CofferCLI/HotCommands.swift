import ArgumentParser

/// Every command parsed on its own: swift-argument-parser's `parseAsRoot` builds the whole
/// command tree, reflects the chosen command twice (once to look for pass-through arguments,
/// once to parse it) and parses the arguments a second and third time looking for a
/// completion-script request: 37% of a small `get`'s CPU time, 15% in the completion check
/// alone (perf). Here the chosen command is the only one reflected, once; a `get` with a
/// session takes about 1 ms less CPU, `slots list` about 0.6 ms (Benchmarks/README.md).
///
/// The same parser does the work, on the same declarations: `Alone<Command>` holds the command
/// as an option group, so every option, flag, argument, default and `validate()` is the
/// command's own. Anything whose handling depends on the tree (help, version, completion
/// scripts and requests, dumps of the help, `coffer help ...`) goes to the full parser.
/// The hot commands (`get`, `set`, `list`) in their plain spellings skip the parser (`Plain`).
/// The tests parse every argument list they run with both and expect the same outcome
/// (`HotCommandTests`, and `CofferProcess.run` for every command the CLI tests run).
enum HotCommands {
    /// The command parsed from `arguments` (without the program name), or nil when the full
    /// parser must decide.
    static func parse(_ arguments: [String]) throws -> ParsableCommand? {
        guard let name = arguments.first, !arguments.contains(where: needsFullParser) else { return nil }
        let rest = Array(arguments.dropFirst())
        if let command = Plain.parse(name, rest) { return command }
        guard let (command, depth) = chosen(arguments) else { return nil }
        return try parsedAlone(command, Array(arguments.dropFirst(depth)))
    }

    /// The command `arguments` choose under `coffer`, as the full parser descends: by name or
    /// alias, into a subcommand's own subcommands, or to its default one when the next argument
    /// names none; and how many arguments named it. Nil when the first names no command.
    static func chosen(_ arguments: [String]) -> (command: ParsableCommand.Type, depth: Int)? {
        var command: ParsableCommand.Type = CofferCommand.self
        var depth = 0
        while !command.configuration.subcommands.isEmpty {
            if depth < arguments.count, let named = Suggestion.subcommand(named: arguments[depth], of: command) {
                command = named
                depth += 1
            } else if depth > 0, let fallback = command.configuration.defaultSubcommand {
                command = fallback
            } else {
                return nil
            }
        }
        return depth > 0 ? (command, depth) : nil
    }

    private static func parsedAlone<Command: ParsableCommand>(_ command: Command.Type, _ arguments: [String]) throws -> ParsableCommand {
        try Alone<Command>.parse(arguments).command
    }

    /// Help (hidden help too), version and completion requests, in every spelling the parser
    /// accepts: long options exactly or with `=value`, and short-option clusters holding `h` (`-vh`).
    static func needsFullParser(_ argument: String) -> Bool {
        if argument.hasPrefix("--") {
            let option = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            return ["--help", "--help-hidden", "--version", "--generate-completion-script", "--experimental-dump-help"].contains(option)
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

    /// The hot commands in their plain spellings, without swift-argument-parser at all: even one
    /// command's reflection (`Alone`) builds type metadata from mangled names and scans the
    /// binary's protocol conformances, about 9 million instructions of a 20 million `coffer list`
    /// (callgrind, Benchmarks/README.md "Start-up"). Every option is given once at most (`--pin`
    /// may repeat), as `--name value`, `--name=value` or `-v`/`-i value`, no value begins with
    /// "-", no argument is empty or "help", no "--". Anything else, or anything the declarations'
    /// `validate()` refuses, returns nil and goes to the parser, which then decides (and words
    /// any error). The tests hold this against the full parser (`HotCommandTests`).
    enum Plain {
        static func parse(_ name: String, _ arguments: [String]) -> ParsableCommand? {
            switch name {
            case CofferCommand.Get._commandName:
                guard let scanned = Scanned(arguments, flags: [], options: []), scanned.positionals.count == 1 else { return nil }
                var command = CofferCommand.Get()
                command.name = scanned.positionals[0]
                return scanned.completed(command)
            case CofferCommand.SetSecret._commandName:
                guard let scanned = Scanned(
                    arguments, flags: ["overwrite", "no-reveal", "once"], options: ["description", "from-file", "value"]),
                    scanned.positionals.count == 1 else { return nil }
                var command = CofferCommand.SetSecret()
                command.name = scanned.positionals[0]
                command.overwrite = scanned.flags.contains("overwrite")
                command.description = scanned.values["description"]
                command.fromFile = scanned.values["from-file"]
                command.value = scanned.values["value"]
                command.noReveal = scanned.flags.contains("no-reveal")
                command.once = scanned.flags.contains("once")
                return scanned.completed(command)
            case CofferCommand.List._commandName, "ls":
                guard let scanned = Scanned(arguments, flags: ["values", "json"], options: []) else { return nil }
                var command = CofferCommand.List()
                command.patterns = scanned.positionals
                command.values = scanned.flags.contains("values")
                command.json = scanned.flags.contains("json")
                return scanned.completed(command)
            default:
                return nil
            }
        }

        /// The arguments sorted into flags, option values and positionals, by long name; nil for
        /// any spelling outside the plain ones.
        struct Scanned {
            /// VaultOptions, ScopeOptions and UnlockOptions, which every hot command has.
            static let commonFlags: Set<String> = ["local", "verbose", "allow-rollback", "no-default-identities"]
            static let commonOptions: Set<String> = ["vault", "project", "domain", "passphrase-file", "passphrase-fd", "identity"]
            static let repeatable: Set<String> = ["pin"]
            static let shortNames = ["-v": "verbose", "-i": "identity"]

            var flags: Set<String> = []
            var values: [String: String] = [:]
            var pins: [String] = []
            var positionals: [String] = []

            init?(_ arguments: [String], flags: Set<String>, options: Set<String>) {
                var index = arguments.startIndex
                while index < arguments.endIndex {
                    let argument = arguments[index]
                    index += 1
                    guard !argument.isEmpty, argument != "help" else { return nil }
                    guard argument.hasPrefix("-") else {
                        positionals.append(argument)
                        continue
                    }
                    var name: String
                    var inline: String?
                    if argument.hasPrefix("--") {
                        let parts = argument.dropFirst(2).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                        name = String(parts[0])
                        inline = parts.count == 2 ? String(parts[1]) : nil
                    } else {
                        guard let long = Self.shortNames[argument] else { return nil }
                        name = long
                    }
                    if flags.contains(name) || Self.commonFlags.contains(name) {
                        guard inline == nil, self.flags.insert(name).inserted else { return nil }
                        continue
                    }
                    let repeats = Self.repeatable.contains(name)
                    guard repeats || options.contains(name) || Self.commonOptions.contains(name) else { return nil }
                    let value: String
                    if let inline {
                        value = inline
                    } else {
                        guard index < arguments.endIndex else { return nil }
                        value = arguments[index]
                        index += 1
                    }
                    guard !value.isEmpty, !value.hasPrefix("-"), value != "help" else { return nil }
                    if repeats {
                        pins.append(value)
                    } else {
                        guard values.updateValue(value, forKey: name) == nil else { return nil }
                    }
                }
            }

            /// `command` with the option groups every hot command has, validated as the parser
            /// validates (each group, then the command); nil when a `validate()` refuses it or
            /// --passphrase-fd is not a plain decimal number.
            func completed<Command: HotCommand>(_ command: Command) -> Command? {
                guard let unlock else { return nil }
                var command = command
                command.location = location
                command.scopeOptions = scopeOptions
                command.unlock = unlock
                do {
                    try command.location.validate()
                    try command.scopeOptions.validate()
                    try command.unlock.validate()
                    try command.validate()
                } catch {
                    return nil
                }
                return command
            }

            var location: VaultOptions {
                var options = VaultOptions()
                options.vault = values["vault"]
                options.local = flags.contains("local")
                options.verbose = flags.contains("verbose")
                options.allowRollback = flags.contains("allow-rollback")
                options.pin = pins
                return options
            }

            var scopeOptions: ScopeOptions {
                var options = ScopeOptions()
                options.project = values["project"]
                options.domain = values["domain"]
                return options
            }

            var unlock: UnlockOptions? {
                var options = UnlockOptions()
                options.passphraseFile = values["passphrase-file"]
                if let text = values["passphrase-fd"] {
                    guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let descriptor = Int32(text) else { return nil }
                    options.passphraseFD = descriptor
                } else {
                    options.passphraseFD = nil
                }
                options.identity = values["identity"]
                options.noDefaultIdentities = flags.contains("no-default-identities")
                return options
            }
        }
    }
}

/// What the hot commands have in common: the option groups `HotCommands.Plain` fills.
protocol HotCommand: ParsableCommand {
    var location: VaultOptions { get set }
    var scopeOptions: ScopeOptions { get set }
    var unlock: UnlockOptions { get set }
}

extension CofferCommand.Get: HotCommand {}
extension CofferCommand.SetSecret: HotCommand {}
extension CofferCommand.List: HotCommand {}
