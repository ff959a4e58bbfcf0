import ArgumentParser
@testable import CofferCLI
import Testing

/// The hot commands' own parse (`HotCommands`) against swift-argument-parser's full parse of the
/// whole command tree: for every argument list, the same command with the same values, or the
/// same error line and exit code. Every command line the CLI tests run is checked the same way
/// (`CofferProcess.start`); the lists here add the forms a user might type that they do not.
@Suite struct HotCommandTests {
    /// What the CLI does with `arguments` after parsing: the parsed command, dumped with every
    /// value it holds, or the exit code and text of the parse error.
    static func outcome(_ parse: () throws -> ParsableCommand?) -> String? {
        do {
            guard let command = try parse() else { return nil }
            var text = ""
            dump(command, to: &text)
            return text
        } catch {
            let (code, text) = CofferCommand.outcome(of: error)
            return "exit \(code): \(text)"
        }
    }

    /// Expects the hot path, where it takes `arguments`, to end as the full parser does.
    static func expectBothParsersAgree(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let hot = outcome({ try HotCommands.parse(arguments) }) else { return }
        let full = outcome { try CofferCommand.parseAsRoot(arguments) }
        #expect(hot == full, "coffer \(arguments.joined(separator: " "))", sourceLocation: sourceLocation)
    }

    static let forms: [[String]] = [
        ["get", "pg.password"], ["get", "pg.password", "--project", "shop", "--domain", "prod"],
        ["get", "--vault=v.coffer", "x", "--passphrase-file", "pw"], ["get", "x", "-i", "id.key"], ["get", "x", "-v"],
        ["get", "x", "--local"], ["get", "--", "-odd"], ["get"], ["get", "a", "b"], ["get", "x", "--unknown"],
        ["get", "x", "--project"], ["get", "x", "--passphrase-fd", "three"], ["get", "help"], ["get", "x", "--allow-rollback"],
        ["set", "x"], ["set", "x", "--overwrite", "--from-file", "value"], ["set", "x", "--no-reveal", "--description", "d"],
        ["set", "x", "--overwrite", "--project", "p", "--vault", "v"], ["set"], ["set", "x", "--from-file"],
        ["set", "x", "extra"], ["set", "x", "--reveal"],
        ["list"], ["ls"], ["list", "--values"], ["list", "--project", "p", "--domain", "d"], ["ls", "--bogus"], ["list", "extra"],
        // Every other command, through `Alone`: subcommands of subcommands, default ones, aliases.
        ["rotate"], ["rotate", "--vault", "v", "--passphrase-file", "pw"], ["rotate", "extra"],
        ["slots"], ["slots", "list"], ["slots", "--vault", "v"], ["slots", "list", "--vault=v"], ["slots", "bogus"], ["slots", "help"], ["slots", "list", "help"],
        ["slots", "remove", "3"], ["slots", "remove"], ["slots", "add-recipient", "age1x", "--project", "p"],
        ["run", "--", "env"], ["run", "--only", "a", "--", "sh", "-c", "echo $A"], ["run", "env"], ["run"],
        ["run", "--env", "V=pg.password", "--", "env", "-x"],
        ["rm", "x"], ["delete", "x", "y"], ["copy", "a", "b"], ["cp", "a"], ["rename", "a", "b"], ["mv", "a", "b", "--force"],
        ["git", "merge", "%O", "%A", "%B"], ["git", "textconv", "f"], ["git", "setup"], ["git", "resolve", "--ours"],
        ["init", "--kdf-ops", "1", "--kdf-memory", "8"], ["init", "--kdf-ops", "x"], ["unlock", "--ttl", "5m"], ["lock", "--all"],
        ["status"], ["export", "--format", "dotenv"], ["render", "t.tmpl"], ["import", "a.env", "--overwrite"], ["verify"],
        ["pin"], ["trust"], ["history", "x"], ["describe", "x", "--json"], ["edit"], ["inspect"], ["keygen", "-o", "k"],
        ["passwd"], ["upgrade"], ["generate", "x", "--length", "12"],
    ]

    @Test(arguments: forms)
    func theHotPathEndsAsTheFullParserDoes(_ arguments: [String]) {
        #expect(Self.outcome({ try HotCommands.parse(arguments) }) != nil, "not taken: \(arguments)")
        Self.expectBothParsersAgree(arguments)
    }

    /// The spellings the plain path (`HotCommands.Plain`, no swift-argument-parser) takes.
    static let plainForms: [[String]] = [
        ["get", "pg.password"], ["get", "pg.password", "--project", "shop", "--domain", "prod"],
        ["get", "--vault=v.coffer", "x", "--passphrase-file", "pw"], ["get", "x", "-i", "id.key"], ["get", "-v", "x"],
        ["get", "x", "--local"], ["get", "x", "--allow-rollback"], ["get", "x", "--pin", "p1", "--pin=p2"],
        ["get", "x", "--passphrase-fd", "3"], ["get", "x", "--passphrase-fd=007"], ["get", "x", "--no-default-identities", "--identity", "k"],
        ["get", "--verbose", "--domain=d", "x"],
        ["set", "x"], ["set", "x", "--overwrite", "--from-file", "value"], ["set", "x", "--no-reveal", "--description", "d"],
        ["set", "x", "--value", "v", "--once"], ["set", "x", "--overwrite", "--project", "p", "--vault", "v"], ["set", "@file.env"],
        ["list"], ["ls"], ["list", "--values"], ["list", "--json", "pg.*", "api.*"], ["list", "--project", "p", "--domain", "d"],
        ["ls", "-v", "--identity=k", "--values"],
    ]

    @Test(arguments: plainForms)
    func thePlainPathEndsAsTheFullParserDoes(_ arguments: [String]) {
        let plain = Self.outcome { HotCommands.Plain.parse(arguments[0], Array(arguments.dropFirst())) }
        #expect(plain != nil, "not taken: \(arguments)")
        #expect(plain == Self.outcome { try CofferCommand.parseAsRoot(arguments) }, "coffer \(arguments.joined(separator: " "))")
    }

    /// Spellings the plain path leaves to the parser: errors, repeats, "--", values that look
    /// like options, clusters, empty arguments, numbers the parser might read otherwise.
    static let formsForTheParser: [[String]] = [
        ["get", "--", "-odd"], ["get"], ["get", "a", "b"], ["get", "x", "--unknown"], ["get", "x", "--project"],
        ["get", "x", "--passphrase-fd", "three"], ["get", "x", "--passphrase-fd", "+3"], ["get", "x", "--passphrase-fd", "99999999999"],
        ["get", "help"], ["get", "x", "--description", "help"], ["get", "x", "--project", "-p"], ["get", "x", "-vi", "k"],
        ["get", "x", "--local", "--local"], ["get", "x", "--vault", "a", "--vault", "b"], ["get", ""], ["get", "x", "--vault="],
        ["get", "x", "--local=yes"], ["get", "x", "-"], ["get", "x", "--values"], ["set", "x", "--from-file"], ["set", "x", "extra"],
        ["set", "x", "--reveal"], ["list", "--values=yes"], ["list", "--overwrite"], ["ls", "-x"], ["rotate"],
    ]

    @Test(arguments: formsForTheParser)
    func thePlainPathLeavesOtherSpellingsToTheParser(_ arguments: [String]) {
        #expect(HotCommands.Plain.parse(arguments[0], Array(arguments.dropFirst())) == nil)
        Self.expectBothParsersAgree(arguments)
    }

    static let fullParserForms: [[String]] = [
        ["get", "--help"], ["get", "-h"], ["get", "x", "-vh"], ["set", "--help=x"], ["get", "--version"],
        ["get", "--generate-completion-script", "bash"], ["get", "--generate-completion-script=zsh"],
        ["---completion", "get", "--", "--vault"], ["get", "--experimental-dump-help"], ["help", "get"], ["list", "-help"],
        ["slots", "list", "--help"], ["run", "--", "env", "--help"],
        ["get", "x", "--help-hidden"], ["slots", "list", "--help-hidden"], ["rotate", "--help-hidden=x"], ["help", "slots", "list"], ["git"], [], ["--version"], ["bogus"],
    ]

    @Test(arguments: fullParserForms)
    func helpVersionCompletionsAndUnknownCommandsGoToTheFullParser(_ arguments: [String]) throws {
        #expect(try HotCommands.parse(arguments) == nil)
    }
}
