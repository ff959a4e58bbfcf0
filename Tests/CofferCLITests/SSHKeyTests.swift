import Foundation
import Testing

/// SSH Ed25519 keys as recipients and identities, against the real ssh-keygen and age.
@Suite struct SSHKeyTests {
    /// Runs `script` with /bin/sh in the sandbox's working folder; `"$0"` is coffer.
    private func shell(_ sandbox: Sandbox, _ script: String) -> CofferResult {
        CofferProcess.runShell(script, [], environment: sandbox.environment(), cwd: sandbox.work)
    }

    /// `ssh-keygen -t TYPE` without a passphrase, comment `comment`, at `work/name`.
    private func sshKeygen(_ sandbox: Sandbox, _ type: String, _ name: String, comment: String = "alice@laptop") {
        let made = shell(sandbox, "ssh-keygen -q -t \(type) -N '' -C '\(comment)' -f \(name)")
        #expect(made.status == 0, "\(made.stderr)")
    }

    @Test func anSSHKeygenKeyOpensItsSlotAndAgreesWithAge() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("db.password", "ssh-opened")
        sshKeygen(sandbox, "ed25519", "id_ed25519")

        let added = sandbox.unlocked(["slots", "add-recipient", "-R", sandbox.work + "/id_ed25519.pub"])
        #expect(added.status == 0, "\(added.stderr)")
        let slotID = added.output.trimmingCharacters(in: .newlines)

        // Shown with the comment and the fingerprint exactly as ssh-keygen -l prints it.
        let keygenLine = shell(sandbox, "ssh-keygen -l -f id_ed25519.pub").output.split(separator: " ")
        let fingerprint = String(keygenLine[1])
        #expect(fingerprint.hasPrefix("SHA256:"))
        let listed = sandbox.coffer(["slots", "list", "--vault", sandbox.vault]).output
        let line = listed.split(separator: "\n").first { $0.hasPrefix(slotID) }.map(String.init) ?? ""
        #expect(line.contains("ssh-ed25519 \(fingerprint) "), "\(listed)")
        #expect(line.contains(#"label="alice@laptop""#))
        let json = sandbox.coffer(["slots", "list", "--json", "--vault", sandbox.vault]).output
        #expect(json.contains(#""fingerprint":"\#(fingerprint)""#))

        // The private key opens the vault ...
        let read = sandbox.coffer(["get", "db.password", "-v", "--vault", sandbox.vault, "-i", sandbox.work + "/id_ed25519"])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.output == "ssh-opened")
        #expect(read.stderr.contains("opened with identity \(sandbox.work)/id_ed25519 (slot \(slotID))"))

        // ... and the same key pair works with age both ways.
        let age = shell(sandbox, """
            printf 'to age' | age -R id_ed25519.pub -o sealed.age && age -d -i id_ed25519 sealed.age
            """)
        #expect(age.status == 0, "\(age.stderr)")
        #expect(age.output == "to age")

        // As ~/.ssh/id_ed25519 it is a default identity.
        try FileManager.default.createDirectory(atPath: sandbox.home + "/.ssh", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sandbox.work + "/id_ed25519", toPath: sandbox.home + "/.ssh/id_ed25519")
        let byDefault = sandbox.coffer(["get", "db.password", "-v"])
        #expect(byDefault.status == 0, "\(byDefault.stderr)")
        #expect(byDefault.stderr.contains("opened with identity \(sandbox.home)/.ssh/id_ed25519"))
    }

    @Test func aKeyGivenAsTextGetsASlotAndTheWrongSSHKeyOpensNothing() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("x", "y")
        sshKeygen(sandbox, "ed25519", "alice", comment: "alice")
        sshKeygen(sandbox, "ed25519", "mallory", comment: "mallory")
        let publicKey = String(decoding: sandbox.bytes(sandbox.work + "/alice.pub"), as: UTF8.self)
        let added = sandbox.unlocked(["slots", "add-recipient", publicKey.trimmingCharacters(in: .newlines), "--label", "ops"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(sandbox.coffer(["slots", "list", "--vault", sandbox.vault]).output.contains(#"label="ops""#))
        let again = sandbox.unlocked(["slots", "add-recipient", publicKey.trimmingCharacters(in: .newlines)])
        #expect(again.status == 5)

        let wrong = sandbox.coffer(["get", "x", "--vault", sandbox.vault, "-i", sandbox.work + "/mallory"])
        #expect(wrong.status == 3)
        let right = sandbox.coffer(["get", "x", "--vault", sandbox.vault, "-i", sandbox.work + "/alice"])
        #expect(right.output == "y")
    }

    @Test func aGitHubKeysFileSkipsUnsupportedTypesOrIsRefusedWhenStrict() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sshKeygen(sandbox, "rsa", "id_rsa")
        sshKeygen(sandbox, "ecdsa", "id_ecdsa")
        sshKeygen(sandbox, "ed25519", "laptop", comment: "laptop")
        sshKeygen(sandbox, "ed25519", "desktop", comment: "desktop")
        // GitHub's https://github.com/USER.keys: one key a line, no comments.
        let keys = shell(sandbox, "for k in id_rsa laptop id_ecdsa desktop; do cut -d' ' -f1,2 $k.pub; done > user.keys")
        #expect(keys.status == 0)
        let keysFile = sandbox.work + "/user.keys"

        let strict = sandbox.unlocked(["slots", "add-recipient", "-R", keysFile, "--strict"])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("user.keys, line 1: ssh-rsa keys are not supported; supported: ssh-ed25519"))

        let added = sandbox.unlocked(["slots", "add-recipient", "-R", keysFile])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.output.split(separator: "\n").count == 2)
        #expect(added.stderr.contains("line 1: ssh-rsa: unsupported key type skipped"))
        #expect(added.stderr.contains("line 3: ecdsa-sha2-nistp256: unsupported key type skipped"))
        // Without comments the slots keep the default label.
        #expect(sandbox.coffer(["slots", "list", "--vault", sandbox.vault]).output.components(separatedBy: "ssh-ed25519 SHA256:").count == 3)
    }

    @Test func rsaKeysAreRefusedWithTheSupportedTypes() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("x", "y")
        sshKeygen(sandbox, "rsa", "id_rsa")
        let rsa = String(decoding: sandbox.bytes(sandbox.work + "/id_rsa.pub"), as: UTF8.self)
        let asRecipient = sandbox.unlocked(["slots", "add-recipient", rsa.trimmingCharacters(in: .newlines)])
        #expect(asRecipient.status == 1)
        #expect(asRecipient.stderr.contains("ssh-rsa keys are not supported; supported: ssh-ed25519 and age X25519 (age1...)"))
        let asIdentity = sandbox.coffer(["get", "x", "--vault", sandbox.vault, "-i", sandbox.work + "/id_rsa"])
        #expect(asIdentity.status == 1)
        #expect(asIdentity.stderr.contains("ssh-rsa keys are not supported"))
    }

    @Test func aPassphraseProtectedSSHKeyOpensItsSlotAndAgeAgrees() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("x", "locked-key")
        let made = shell(sandbox, "ssh-keygen -q -t ed25519 -N 'open sesame' -C locked -f locked")
        #expect(made.status == 0)
        #expect(sandbox.unlocked(["slots", "add-recipient", "-R", sandbox.work + "/locked.pub"]).status == 0)
        try sandbox.write(sandbox.root + "/ssh-pass", "open sesame\n")

        let read = sandbox.coffer(["get", "x", "--vault", sandbox.vault, "-i", sandbox.work + "/locked", "--passphrase-file", sandbox.root + "/ssh-pass"])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.output == "locked-key")
        let wrong = sandbox.coffer(["get", "x", "--vault", sandbox.vault, "-i", sandbox.work + "/locked", "--passphrase-file", sandbox.passphraseFile])
        #expect(wrong.status == 3)
        #expect(wrong.stderr.contains("wrong passphrase for identity"))
        let none = sandbox.coffer(["get", "x", "--vault", sandbox.vault, "-i", sandbox.work + "/locked"])
        #expect(none.status == 3)

        // age decrypts with the same protected key, asking its passphrase on the terminal.
        #expect(shell(sandbox, "printf 'to age' | age -R locked.pub -o sealed.age").status == 0)
        let age = try Expect.run("""
            spawn age -d -i locked sealed.age
            expect "passphrase"
            send "open sesame\\r"
            expect eof
            """, in: sandbox.work, environment: ["PATH": "/usr/bin:/bin", "HOME": sandbox.home])
        #expect(age.output.contains("to age"), "\(age.output)")
    }

    @Test func aKeyFileAskingForUnboundedBcryptRoundsIsRefusedBeforeDerivation() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("x", "y")
        #expect(shell(sandbox, "ssh-keygen -q -t ed25519 -N 'open sesame' -f locked").status == 0)
        // Attack: the same key file with its bcrypt rounds raised to 2^32 - 1 (hours of work).
        let pem = String(decoding: sandbox.bytes(sandbox.work + "/locked"), as: UTF8.self)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        var blob = [UInt8](try #require(Data(base64Encoded: body)))
        // "openssh-key-v1\0", string "aes256-ctr", string "bcrypt", u32 options length, string salt[16], u32 rounds.
        let roundsOffset = 15 + (4 + 10) + (4 + 6) + 4 + (4 + 16)
        #expect(blob[roundsOffset..<(roundsOffset + 4)] == [0, 0, 0, 16])
        blob.replaceSubrange(roundsOffset..<(roundsOffset + 4), with: [0xFF, 0xFF, 0xFF, 0xFF])
        let forged = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + Data(blob).base64EncodedString(options: .lineLength64Characters)
            + "\n-----END OPENSSH PRIVATE KEY-----\n"
        try sandbox.write(sandbox.work + "/forged", forged)
        try sandbox.write(sandbox.root + "/ssh-pass", "open sesame\n")
        let read = sandbox.coffer(["get", "x", "--vault", sandbox.vault, "-i", sandbox.work + "/forged", "--passphrase-file", sandbox.root + "/ssh-pass"])
        #expect(read.status == 1)
        #expect(read.stderr.contains("bcrypt-pbkdf rounds 4294967295 outside 1...1024"))
    }
}
