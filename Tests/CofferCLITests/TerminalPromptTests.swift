import Coffer
import CofferCrypto
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The hidden prompt on a real terminal: `script` runs `coffer` on a pseudo-terminal of its own.
@Suite struct TerminalPromptTests {
    /// `command` (a shell line) on a pseudo-terminal; what is typed goes in through `input`.
    struct OnTerminal {
        let process = Process()
        let input = Pipe(), output = Pipe()
        var transcript = Data()
        var text: String { String(decoding: transcript, as: UTF8.self) }

        init(_ command: String, sandbox: Sandbox, environment extra: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            process.arguments = ["-qec", command, "/dev/null"]
            process.currentDirectoryURL = URL(fileURLWithPath: sandbox.work)
            process.environment = sandbox.environment(["PATH": "/usr/bin:/bin", "LC_ALL": "C", "TERM": "dumb"].merging(extra) { $1 })
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            try process.run()
        }

        /// Reads until the prompt (by default the passphrase's) is up (it flushes what was typed before it).
        mutating func waitForPrompt(_ prompt: String = "Passphrase for ") -> Bool {
            while !text.contains(prompt) {
                let chunk = output.fileHandleForReading.availableData
                guard !chunk.isEmpty else { return false }
                transcript.append(chunk)
            }
            return true
        }

        /// Types `bytes`, closes the input and reads everything until the command ends.
        mutating func type(_ bytes: [UInt8]) throws {
            input.fileHandleForWriting.write(Data(bytes))
            try input.fileHandleForWriting.close()
            transcript.append(output.fileHandleForReading.readDataToEndOfFile())
            process.waitUntilExit()
        }
    }

    /// Ctrl-C at a passphrase prompt ends coffer as Ctrl-C ends any program, and the terminal's
    /// echo is back on afterwards: `stty -a`, run on the same terminal right after, says `echo`.
    /// The shell around it ignores SIGINT (a shell without job control would get it too and
    /// end before it can print the status); coffer catches it all the same.
    @Test func ctrlCAtAHiddenPromptRestoresEcho() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        var terminal = try OnTerminal(
            "trap '' INT QUIT; '\(CofferProcess.executable)' unlock --vault '\(sandbox.vault)'; echo \"exit $?\"; stty -a", sandbox: sandbox)
        guard terminal.waitForPrompt() else {
            Issue.record("no passphrase prompt: \(terminal.text)")
            return
        }
        try terminal.type([0x03])

        let text = terminal.text
        #expect(text.contains("exit 130"), "coffer did not end by SIGINT: \(text)")
        let flags = text.split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "\n" || $0 == "\r" }).map(String.init)
        #expect(flags.contains("echo") && !flags.contains("-echo"), "echo is off after Ctrl-C: \(text)")
    }

    /// A session that has expired is said to be so, and on a terminal the command then asks for
    /// the passphrase instead of failing.
    @Test func anExpiredSessionFallsBackToThePrompt() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("pg.password", "hunter2-value")
        let runtime = sandbox.root + "/run"
        #expect(mkdir(runtime, 0o700) == 0)
        let vault = try Vault.open(at: sandbox.vault)
        try vault.unlock(passphrase: SecureBytes(copying: Array(sandbox.passphrase.utf8)))
        let token = SessionStore.newToken().withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        try SessionStore(folder: runtime + "/coffer").start(vault: vault, token: token, ttl: 60, idle: 60, now: UInt64(time(nil)) - 3600)

        var terminal = try OnTerminal(
            "'\(CofferProcess.executable)' get pg.password --vault '\(sandbox.vault)'; echo; echo \"exit $?\"", sandbox: sandbox,
            environment: ["XDG_RUNTIME_DIR": runtime, "COFFER_SESSION": token])
        guard terminal.waitForPrompt() else {
            Issue.record("no passphrase prompt: \(terminal.text)")
            return
        }
        #expect(terminal.text.contains("session expired and was ended"), "\(terminal.text)")
        try terminal.type(Array((sandbox.passphrase + "\n").utf8))
        #expect(terminal.text.contains("hunter2-value") && terminal.text.contains("exit 0"), "\(terminal.text)")
        #expect(!terminal.text.contains(sandbox.passphrase), "the passphrase was echoed")
    }
}
