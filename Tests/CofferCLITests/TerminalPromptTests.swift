import Foundation
import Testing

/// The hidden prompt on a real terminal: `script` runs `coffer` on a pseudo-terminal of its own.
@Suite struct TerminalPromptTests {
    /// Ctrl-C at a passphrase prompt ends coffer as Ctrl-C ends any program, and the terminal's
    /// echo is back on afterwards: `stty -a`, run on the same terminal right after, says `echo`.
    @Test func ctrlCAtAHiddenPromptRestoresEcho() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        let command = "'\(CofferProcess.executable)' unlock --vault '\(sandbox.vault)'; echo \"exit $?\"; stty -a"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        process.currentDirectoryURL = URL(fileURLWithPath: sandbox.work)
        process.environment = sandbox.environment(["PATH": "/usr/bin:/bin", "LC_ALL": "C", "TERM": "dumb"])
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()

        // Ctrl-C only once the prompt is up: the prompt flushes what was typed before it.
        var transcript = Data()
        while !String(decoding: transcript, as: UTF8.self).contains("Passphrase for ") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            transcript.append(chunk)
        }
        guard String(decoding: transcript, as: UTF8.self).contains("Passphrase for ") else {
            Issue.record("no passphrase prompt: \(String(decoding: transcript, as: UTF8.self))")
            return
        }
        input.fileHandleForWriting.write(Data([0x03]))
        try input.fileHandleForWriting.close()
        transcript.append(output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()

        let text = String(decoding: transcript, as: UTF8.self)
        #expect(text.contains("exit 130"), "coffer did not end by SIGINT: \(text)")
        let flags = text.split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "\n" || $0 == "\r" }).map(String.init)
        #expect(flags.contains("echo") && !flags.contains("-echo"), "echo is off after Ctrl-C: \(text)")
    }
}
