import ArgumentParser

/// "did you mean" for a mistyped subcommand (`coffer lsit` -> `list`).
enum Suggestion {
    /// A usage failure when `arguments` (without the program name) name an unknown subcommand
    /// of a command that has subcommands; nil when they do not.
    static func unknownSubcommand(in arguments: [String], root: ParsableCommand.Type = CofferCommand.self) -> Failure? {
        var command = root
        var path = ["coffer"]
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !argument.hasPrefix("-") else { return nil }
            if let next = subcommand(named: argument, of: command) {
                command = next
                path.append(next._commandName)
                continue
            }
            if argument == "help" { return nil }
            let candidates = subcommands.flatMap(names(of:))
            let best = candidates.map { ($0, distance(argument, $0)) }.min { $0.1 < $1.1 }
            var message = "unknown command '\(argument)' for '\(path.joined(separator: " "))'"
            if let (name, cost) = best, cost <= max(2, argument.count / 3) { message += ": did you mean '\(name)'?" }
            return Failure(.usage, message)
        }
        return nil
    }

    /// The subcommand of `command` that `name` names: its name or one of its aliases.
    static func subcommand(named name: String, of command: ParsableCommand.Type) -> ParsableCommand.Type? {
        command.configuration.subcommands.first { names(of: $0).contains(name) }
    }

    private static func names(of command: ParsableCommand.Type) -> [String] {
        [command._commandName] + command.configuration.aliases
    }

    /// Edit distance with adjacent transpositions counted as one (optimal string alignment).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
