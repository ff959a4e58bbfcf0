import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The hidden value prompt on a pseudo-terminal: asked twice, a multi-line paste refused, and
/// Ctrl-C or Ctrl-\ ending the command at once (before Enter) with the terminal restored.
@Suite struct ValuePromptTests {
    typealias OnTerminal = TerminalPromptTests.OnTerminal

    /// `coffer args` on a terminal of its own; afterwards the script prints coffer's exit status
    /// and the terminal's settings. The shell ignores SIGINT and SIGQUIT, which the terminal
    /// sends to its whole process group, so that it lives to print them; coffer catches them
    /// all the same.
    static func start(_ args: String, _ box: Sandbox) throws -> OnTerminal {
        let coffer = "'\(CofferProcess.executable)' \(args) --vault '\(box.vault)' --passphrase-file '\(box.passphraseFile)'"
        return try OnTerminal("trap '' INT QUIT; \(coffer); echo \"exit $?\"; stty -a", sandbox: box)
    }

    @Test func aNewValueIsAskedTwiceUnlessOnce() throws {
        let box = try Sandbox()
        box.makeVault()
        var twice = try Self.start("set typed.twice", box)
        try twice.waitFor("Value for typed.twice: ")
        twice.send("s3cret-typed\n")
        try twice.waitFor("Repeat the value for typed.twice: ")
        try twice.type(Array("s3cret-typed\n".utf8))
        #expect(twice.text.contains("exit 0"), "\(twice.text)")
        #expect(!twice.text.contains("s3cret-typed"), "the value was echoed")
        #expect(box.value("typed.twice") == "s3cret-typed")

        var differ = try Self.start("set typed.wrong", box)
        try differ.waitFor("Value for typed.wrong: ")
        differ.send("first-try\n")
        try differ.waitFor("Repeat the value")
        try differ.type(Array("second-try\n".utf8))
        #expect(differ.text.contains("the two values differ") && differ.text.contains("exit 1"), "\(differ.text)")
        #expect(box.value("typed.wrong") == nil)

        var once = try Self.start("set typed.once --once", box)
        try once.waitFor("Value for typed.once: ")
        try once.type(Array("only-once\n".utf8))
        #expect(once.text.contains("exit 0") && !once.text.contains("Repeat"), "\(once.text)")
        #expect(box.value("typed.once") == "only-once")
    }

    /// A four-line PEM pasted at the prompt is refused whole instead of stored as its first line.
    @Test func aMultiLinePasteIsRefused() throws {
        let box = try Sandbox()
        box.makeVault()
        var terminal = try Self.start("set pem.key", box)
        try terminal.waitFor("Value for pem.key: ")
        try terminal.type(Array("-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\nq2r+8xQ==\n-----END PRIVATE KEY-----\n".utf8))
        #expect(terminal.text.contains("several lines were pasted") && terminal.text.contains("--from-file"), "\(terminal.text)")
        #expect(terminal.text.contains("exit 1"), "\(terminal.text)")
        #expect(box.value("pem.key") == nil)
    }

    /// Ctrl-C (and Ctrl-\) with no Enter after it ends coffer by that signal, echo back on.
    @Test(arguments: [(UInt8(0x03), 130), (UInt8(0x1C), 131)])
    func aSignalKeyEndsThePromptAtOnce(key: UInt8, status: Int) throws {
        let box = try Sandbox()
        box.makeVault()
        var terminal = try Self.start("set interrupted", box)
        try terminal.waitFor("Value for interrupted: ")
        terminal.send("half-typed")
        terminal.send(String(decoding: [key], as: UTF8.self))
        // No Enter: the signal alone must end it; the script goes on to print the status.
        try terminal.waitFor("exit \(status)")
        try terminal.type([])
        let flags = terminal.text.split(whereSeparator: { " ;\n\r".contains($0) }).map(String.init)
        #expect(flags.contains("echo") && !flags.contains("-echo"), "echo is off afterwards: \(terminal.text)")
        #expect(box.value("interrupted") == nil)
    }
}

extension TerminalPromptTests.OnTerminal {
    struct NotShown: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads the terminal's output until `text` shows; fails when the output ends first.
    mutating func waitFor(_ text: String) throws {
        while !self.text.contains(text) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw NotShown(description: "'\(text)' never showed: \(self.text)") }
            transcript.append(chunk)
        }
    }

    /// Types `text` without closing the input.
    func send(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }
}
