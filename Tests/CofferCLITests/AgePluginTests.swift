import Foundation
import Testing

/// age plugins through the C2SP age-plugin protocol, with `Plugin/age-plugin-coffertest` (an X25519
/// plugin written for these tests, which the real age also uses) found in PATH as a real plugin is.
@Suite struct AgePluginTests {
    private static let pluginFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Plugin"
    private static let path = pluginFolder + ":/usr/bin:/bin"

    /// A vault holding `token`, and a new plugin identity (in `work/plugin-key.txt`) and recipient.
    private func setUp(_ sandbox: Sandbox) throws -> (identity: String, recipient: String) {
        sandbox.makeVault()
        sandbox.store("token", "via-plugin")
        let made = CofferProcess.runShell("age-plugin-coffertest generate", [], environment: ["PATH": Self.path], cwd: sandbox.work)
        #expect(made.status == 0, "\(made.stderr)")
        let lines = made.output.split(separator: "\n").map(String.init)
        try sandbox.write(sandbox.work + "/plugin-key.txt", lines[0] + "\n")
        sandbox.remember(lines[0])
        return (lines[0], lines[1])
    }

    private func coffer(_ sandbox: Sandbox, _ args: [String], _ extra: [String: String] = [:]) -> CofferResult {
        sandbox.coffer(args + ["--vault", sandbox.vault], environment: ["PATH": Self.path].merging(extra) { $1 })
    }

    @Test func aPluginRecipientGetsASlotThatItsIdentityOpens() throws {
        let sandbox = try Sandbox()
        let (identity, recipient) = try setUp(sandbox)
        let added = coffer(sandbox, ["slots", "add-recipient", recipient, "--passphrase-file", sandbox.passphraseFile])
        #expect(added.status == 0, "\(added.stderr)")
        let slotID = added.output.trimmingCharacters(in: .newlines)
        #expect(coffer(sandbox, ["slots", "list"]).output.contains("\(slotID)  plugin \(recipient) "))

        let read = coffer(sandbox, ["get", "token", "-v", "-i", sandbox.work + "/plugin-key.txt"])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.output == "via-plugin")
        #expect(read.stderr.contains("(slot \(slotID))"))
        let fromVariable = coffer(sandbox, ["get", "token"], ["COFFER_IDENTITY": identity + "\n"])
        #expect(fromVariable.output == "via-plugin", "\(fromVariable.stderr)")

        // As a default identity, the plugin runs after the session is tried (none here).
        try FileManager.default.createDirectory(atPath: sandbox.dataHome + "/coffer", withIntermediateDirectories: true)
        try sandbox.write(sandbox.dataHome + "/coffer/identity.txt", identity + "\n")
        let byDefault = coffer(sandbox, ["get", "token", "-v"])
        #expect(byDefault.output == "via-plugin", "\(byDefault.stderr)")
        #expect(byDefault.stderr.contains("opened with identity \(sandbox.dataHome)/coffer/identity.txt (slot \(slotID))"))
        try FileManager.default.removeItem(atPath: sandbox.dataHome + "/coffer/identity.txt")

        // Another identity of the same plugin opens nothing.
        let other = CofferProcess.runShell("age-plugin-coffertest generate | head -1 > other.txt", [], environment: ["PATH": Self.path], cwd: sandbox.work)
        #expect(other.status == 0)
        #expect(coffer(sandbox, ["get", "token", "-i", sandbox.work + "/other.txt"]).status == 3)

        // The real age speaks the same protocol with the test plugin.
        let age = CofferProcess.runShell(
            "printf 'age too' | age -r \(recipient) -o m.age && age -d -i plugin-key.txt m.age", [],
            environment: ["PATH": Self.path], cwd: sandbox.work)
        #expect(age.status == 0, "\(age.stderr)")
        #expect(age.output == "age too")
    }

    /// Runs an expect script; the plugin's request-secret reaches coffer's terminal prompt.
    private func expect(_ sandbox: Sandbox, _ script: String, pin: String) throws -> String {
        try Expect.run(script, in: sandbox.work, environment: sandbox.environment(["PATH": Self.path, "COFFERTEST_PIN": pin])).output
    }

    @Test func thePluginsPINRequestIsAnsweredOnTheTerminal() throws {
        let sandbox = try Sandbox()
        let (_, recipient) = try setUp(sandbox)
        #expect(coffer(sandbox, ["slots", "add-recipient", recipient, "--passphrase-file", sandbox.passphraseFile]).status == 0)
        func run(typing pin: String) throws -> String {
            try expect(sandbox, """
                spawn \(CofferProcess.executable) get token --vault \(sandbox.vault) -i plugin-key.txt
                expect "PIN for the coffertest key:"
                send "\(pin)\\r"
                expect eof
                catch wait result
                puts "exit=[lindex $result 3]"
                """, pin: "4711")
        }
        let right = try run(typing: "4711")
        #expect(right.contains("via-plugin"), "\(right)")
        #expect(right.contains("exit=0"))
        #expect(!right.contains("4711\r\nvia"), "the PIN is not echoed")
        let wrong = try run(typing: "0000")
        #expect(wrong.contains("coffer: age-plugin-coffertest: wrong PIN"), "\(wrong)")
        #expect(wrong.contains("exit=3"))
        // Without a terminal the request is refused and nothing blocks.
        let noTerminal = coffer(sandbox, ["get", "token", "-i", sandbox.work + "/plugin-key.txt"], ["COFFERTEST_PIN": "4711"])
        #expect(noTerminal.status == 3)
    }

    /// A -R file takes plugin recipients as age's -R does, beside X25519 and SSH keys.
    @Test func aPluginRecipientInARecipientsFileGetsASlot() throws {
        let sandbox = try Sandbox()
        let (_, recipient) = try setUp(sandbox)
        let other = try #require(CofferProcess.runShell(
            "age-keygen 2>/dev/null | grep -o 'age1[a-z0-9]*$'", [], environment: ["PATH": Self.path], cwd: sandbox.work)
            .output.split(separator: "\n").first.map(String.init))
        try sandbox.write(sandbox.work + "/team.txt", "# the team\r\n\(recipient)\r\n\n\(other)\n")
        let added = coffer(sandbox, ["slots", "add-recipient", "-R", sandbox.work + "/team.txt", "--passphrase-file", sandbox.passphraseFile])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.output.split(separator: "\n").count == 2)
        let slots = coffer(sandbox, ["slots", "list"]).output
        #expect(slots.contains("plugin \(recipient) ") && slots.contains(" age1"), "\(slots)")
        let read = coffer(sandbox, ["get", "token", "-i", sandbox.work + "/plugin-key.txt"])
        #expect(read.output == "via-plugin", "\(read.stderr)")

        // A file of plugin recipients only is a file with keys; a malformed plugin line is an error naming it.
        try sandbox.write(sandbox.work + "/plugin-only.txt", recipient + "\n")
        #expect(coffer(sandbox, ["slots", "add-recipient", "-R", sandbox.work + "/plugin-only.txt", "--passphrase-file", sandbox.passphraseFile]).status == 0)
        try sandbox.write(sandbox.work + "/broken.txt", String(recipient.dropLast()) + "q\n")
        let broken = coffer(sandbox, ["slots", "add-recipient", "-R", sandbox.work + "/broken.txt", "--passphrase-file", sandbox.passphraseFile])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("broken.txt, line 1: invalid Bech32"), "\(broken.stderr)")
    }

    @Test func pluginErrorsAndAMissingPluginAreOneClearLine() throws {
        let sandbox = try Sandbox()
        let (_, recipient) = try setUp(sandbox)
        let failing = coffer(sandbox, ["slots", "add-recipient", recipient, "--passphrase-file", sandbox.passphraseFile], ["COFFERTEST_FAIL": "1"])
        #expect(failing.status == 3)
        #expect(failing.stderr == "coffer: age-plugin-coffertest: the test plugin was told to fail\n")
        #expect(coffer(sandbox, ["slots", "list"]).output.components(separatedBy: "\n").filter { !$0.isEmpty }.count == 1)

        #expect(coffer(sandbox, ["slots", "add-recipient", recipient, "--passphrase-file", sandbox.passphraseFile]).status == 0)
        let unwrapFails = coffer(sandbox, ["get", "token", "-i", sandbox.work + "/plugin-key.txt"], ["COFFERTEST_FAIL": "1"])
        #expect(unwrapFails.status == 3)
        #expect(unwrapFails.stderr.contains("the test plugin was told to fail"))

        let missing = sandbox.coffer(["get", "token", "--vault", sandbox.vault, "-i", sandbox.work + "/plugin-key.txt"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "coffer: age-plugin-coffertest: not found in PATH\n")
    }
}
