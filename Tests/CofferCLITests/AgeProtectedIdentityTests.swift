import Foundation
import Testing

/// age's passphrase-protected identity files (`age -p`), read by coffer and written by
/// `coffer keygen --protect`, against the real age; age's passphrase prompts go through expect's pty.
@Suite struct AgeProtectedIdentityTests {
    /// Runs an expect script in `folder`; its output is the terminal's.
    private func expect(_ script: String, in folder: String) throws -> (status: Int32, output: String) {
        try Expect.run(script, in: folder, environment: ["PATH": "/usr/bin:/bin", "HOME": folder])
    }

    private func passphraseFile(_ sandbox: Sandbox, _ name: String, _ text: String) throws -> String {
        let path = sandbox.root + "/" + name
        try sandbox.write(path, text + "\n")
        return path
    }

    @Test func keygenProtectWritesWhatAgeDecryptsWith() throws {
        let sandbox = try Sandbox()
        let pass = try passphraseFile(sandbox, "identity-pass", "tiger lily")
        let made = sandbox.coffer(["keygen", "--protect", "--work-factor", "10", "--new-passphrase-file", pass, "-o", sandbox.work + "/key.age"])
        #expect(made.status == 0, "\(made.stderr)")
        let recipient = made.output.trimmingCharacters(in: .newlines)
        #expect(String(decoding: sandbox.bytes(sandbox.work + "/key.age").prefix(32), as: UTF8.self).hasPrefix("age-encryption.org/v1\n-> scrypt "))

        // age reads it as an encrypted identity, asking the passphrase on the terminal.
        let sealed = CofferProcess.runShell("printf 'for age' | age -r \(recipient) -o message.age", [], cwd: sandbox.work)
        #expect(sealed.status == 0)
        let age = try expect("""
            spawn age -d -i key.age message.age
            expect "passphrase"
            send "tiger lily\\r"
            expect eof
            """, in: sandbox.work)
        #expect(age.output.contains("for age"), "\(age.output)")

        // coffer opens a slot with it.
        sandbox.makeVault()
        sandbox.store("token", "t0ken")
        #expect(sandbox.unlocked(["slots", "add-recipient", recipient]).status == 0)
        let read = sandbox.coffer(["get", "token", "--vault", sandbox.vault, "-i", sandbox.work + "/key.age", "--passphrase-file", pass])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.output == "t0ken")
        let wrong = sandbox.coffer(["get", "token", "--vault", sandbox.vault, "-i", sandbox.work + "/key.age", "--passphrase-file", sandbox.passphraseFile])
        #expect(wrong.status == 3)
        #expect(wrong.stderr.contains("wrong passphrase for identity"))
    }

    @Test(arguments: [false, true])
    func anAgeProtectedIdentityOpensItsSlot(armored: Bool) throws {
        let sandbox = try Sandbox()
        let keygen = CofferProcess.runShell("age-keygen -o plain.txt 2>/dev/null && age-keygen -y plain.txt", [], cwd: sandbox.work)
        #expect(keygen.status == 0)
        let protect = try expect("""
            spawn age -p \(armored ? "-a " : "")-o key.age plain.txt
            expect "passphrase"
            send "hunter two\\r"
            expect "onfirm"
            send "hunter two\\r"
            expect eof
            """, in: sandbox.work)
        #expect(FileManager.default.fileExists(atPath: sandbox.work + "/key.age"), "\(protect.output)")
        sandbox.makeVault()
        sandbox.store("token", "from-age-p")
        #expect(sandbox.unlocked(["slots", "add-recipient", keygen.output.trimmingCharacters(in: .newlines)]).status == 0)

        let pass = try passphraseFile(sandbox, "identity-pass", "hunter two")
        let read = sandbox.coffer(["get", "token", "--vault", sandbox.vault, "-i", sandbox.work + "/key.age", "--passphrase-file", pass])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.output == "from-age-p")
    }

    @Test func forgedWorkFactorIsRefusedBeforeAnyDerivationAndAlteredFilesFail() throws {
        let sandbox = try Sandbox()
        let pass = try passphraseFile(sandbox, "identity-pass", "tiger lily")
        let path = sandbox.work + "/key.age"
        #expect(sandbox.coffer(["keygen", "--protect", "--work-factor", "10", "--new-passphrase-file", pass, "-o", path]).status == 0)
        sandbox.makeVault()
        sandbox.store("token", "t")
        let original = sandbox.bytes(path)

        // Attack: an identity file asking for 2^40 scrypt work (a denial of service on whoever opens it).
        let text = String(decoding: original, as: UTF8.self)
        let forged = Array(text.replacingOccurrences(of: " 10\n", with: " 40\n").utf8)
        #expect(forged != original)
        try sandbox.write(path, forged)
        let heavy = sandbox.coffer(["get", "token", "--vault", sandbox.vault, "-i", path, "--passphrase-file", pass])
        #expect(heavy.status == 1)
        #expect(heavy.stderr.contains("scrypt work factor 40 is above 22"))

        // Attack: a tampered payload (last byte flipped) does not decrypt.
        var tampered = original
        tampered[tampered.count - 1] ^= 1
        try sandbox.write(path, tampered)
        let altered = sandbox.coffer(["get", "token", "--vault", sandbox.vault, "-i", path, "--passphrase-file", pass])
        #expect(altered.status == 1)
        #expect(altered.stderr.contains("the age payload failed to decrypt"))

        // Above age's cap is refused when writing too.
        let tooHigh = sandbox.coffer(["keygen", "--protect", "--work-factor", "23", "--new-passphrase-file", pass, "-o", sandbox.work + "/k2"])
        #expect(tooHigh.status == 1)
    }
}
