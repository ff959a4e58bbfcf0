import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Foundation
import Testing

/// A vault's identity (issue 19): passphrase slot authenticators, pins, bounded unlocking. Every
/// forged file here is built as an attacker would, from the real file's public parts.
@Suite struct VaultIdentityTests {
    static let forgedMessage = "this vault was not made by a holder of this passphrase (forged or substituted)"

    /// A forgery from `real`'s public parts: its passphrase slots (salt, parameters, public key,
    /// authenticator) and recipient slots copied, a fresh master key wrapped to each copied public
    /// key, the real names with the attacker's values, signed by the attacker. `vaultID` nil keeps
    /// the real id.
    static func forge(_ real: [UInt8], vaultID: [UInt8]? = nil) throws -> [UInt8] {
        var file = try VaultDecoder.decode(real)
        if let vaultID { file.vaultID = vaultID }
        let grant = KeyGrant.generate()
        let cipher = EntryCipher(vaultID: file.vaultID, grant: grant)
        file.entries = try file.entries.map { entry in
            var forged = entry
            forged.sealedValue = try cipher.seal(Array("attacker-\(entry.name)".utf8), name: entry.name, scope: entry.scope)[...]
            return forged
        }
        for index in file.slots.indices {
            let slot = file.slots[index]
            file.slots[index].wrapped = try SlotWrapping.wrap(
                grant: grant, vaultID: file.vaultID, slotID: slot.id, scope: slot.scope, publicKey: slot.publicKey)
        }
        let signingKey = try grant.signingKey()
        file.keyChain = KeyChain(genesisKey: signingKey.publicKey)
        let signedPart = VaultEncoder.encodeSignedPart(file)
        file.signature = signingKey.signature(for: FormatMessages.fileSignature(hash: BLAKE2b.hash(signedPart)))
        return VaultEncoder.encode(file)
    }

    static func realVault() throws -> Sandbox {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("db.host", "db.real.example")
        return sandbox
    }

    /// Runs `args` with the real passphrase against `path`, expecting the forgery refused and nothing written.
    static func expectRefused(_ sandbox: Sandbox, _ path: String, environment: [String: String] = [:], because reason: String = forgedMessage) {
        let before = sandbox.bytes(path)
        for command in [["get", "db.host"], ["set", "db.password"]] {
            let ran = sandbox.coffer(
                command + ["--vault", path, "--passphrase-file", sandbox.passphraseFile],
                stdin: Array("sealed-to-attacker".utf8), environment: environment)
            #expect(ran.status == 4, "\(command): \(ran.stderr)")
            #expect(ran.stderr.contains(reason), "\(command): \(ran.stderr)")
            #expect(!ran.output.contains("attacker"))
        }
        #expect(sandbox.bytes(path) == before, "nothing is sealed to the attacker")
    }

    // MARK: Passphrase slot authenticators

    @Test func forgedVaultWithCopiedPassphraseSlotsIsRefusedWithNoTrustState() throws {
        let sandbox = try Self.realVault()
        try sandbox.write(sandbox.vault, try Self.forge(sandbox.bytes(sandbox.vault)))
        // A fresh clone or CI runner: no trust state at all.
        Self.expectRefused(sandbox, sandbox.vault, environment: ["XDG_STATE_HOME": sandbox.root + "/fresh-state"])
    }

    @Test func forgedVaultWithANewIDAtANewPathIsRefusedWhereTheRealOneIsKnown() throws {
        let sandbox = try Self.realVault()
        #expect(sandbox.value("db.host") == "db.real.example")
        let elsewhere = sandbox.work + "/tools"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let forged = elsewhere + "/secrets.coffer"
        try sandbox.write(forged, try Self.forge(sandbox.bytes(sandbox.vault), vaultID: SecureRandom.bytes(16)))
        // This machine knows the real vault's passphrase slots: the copy is refused before the
        // passphrase is used; without that record, the slot authenticator refuses it.
        Self.expectRefused(sandbox, forged, because: "a copy made to forge it")
        try FileManager.default.removeItem(atPath: sandbox.home + "/.local/state/coffer/passphrase-slots")
        Self.expectRefused(sandbox, forged)
        #expect(sandbox.value("db.host") == "db.real.example")
    }

    @Test func authenticatorSurvivesPasswdRotateAndSlotRemoval() throws {
        let sandbox = try Self.realVault()
        let second = sandbox.root + "/second"
        try sandbox.write(second, "second passphrase\n")
        #expect(sandbox.unlocked(["slots", "add-passphrase", "--new-passphrase-file", second] + Sandbox.tinyKDF).status == 0)
        #expect(sandbox.unlocked(["rotate"]).status == 0)
        let newFirst = sandbox.root + "/new-first"
        try sandbox.write(newFirst, "new first passphrase\n")
        #expect(sandbox.unlocked(["passwd", "--new-passphrase-file", newFirst]).status == 0)
        let file = try VaultDecoder.decode(sandbox.bytes(sandbox.vault))
        #expect(file.minor == 1 && file.keyChain.links.count == 1)
        #expect(file.slots.allSatisfy { $0.authenticator?.count == 32 })
        for passphrase in [second, newFirst] {
            let ran = sandbox.coffer(["get", "db.host", "--vault", sandbox.vault, "--passphrase-file", passphrase])
            #expect(ran.status == 0 && ran.output == "db.real.example", "\(ran.stderr)")
        }
    }

    /// A 1.0 vault (no authenticators) is refused by passphrase until `coffer upgrade`; the
    /// upgrade adds the authenticator once and the vault then opens as before.
    @Test func formatOneZeroVaultOpensAfterUpgrade() throws {
        let sandbox = try Self.realVault()
        var file = try VaultDecoder.decode(sandbox.bytes(sandbox.vault))
        let vault = try Vault.open(at: sandbox.vault)
        try vault.unlock(passphrase: SecureBytes(copying: Array(sandbox.passphrase.utf8)))
        file.minor = 0
        file.slots[0].authenticator = nil
        file.generation += 1  // a later save, as by a 1.0 writer: not a fork of what this machine saw
        let signingKey = try #require(vault.keyGrant).signingKey()
        file.signature = signingKey.signature(for: FormatMessages.fileSignature(hash: BLAKE2b.hash(VaultEncoder.encodeSignedPart(file))))
        try sandbox.write(sandbox.vault, VaultEncoder.encode(file))

        let refused = sandbox.unlocked(["get", "db.host"])
        #expect(refused.status == 4 && refused.stderr.contains("coffer upgrade"), "\(refused.stderr)")
        let inspect = sandbox.coffer(["inspect", "--vault", sandbox.vault]).output
        #expect(inspect.contains("(no authenticator: coffer upgrade)") && inspect.contains("format            1.0"), "\(inspect)")
        #expect(inspect.contains("pin               \(try Self.pin(of: sandbox.bytes(sandbox.vault)))"), "\(inspect)")
        let upgraded = sandbox.unlocked(["upgrade"])
        #expect(upgraded.status == 0 && upgraded.stderr.contains("authenticator added"), "\(upgraded.stderr)")
        #expect(!upgraded.stderr.contains("fork"))
        #expect(try VaultDecoder.decode(sandbox.bytes(sandbox.vault)).minor == 1)
        #expect(!sandbox.coffer(["inspect", "--vault", sandbox.vault]).output.contains("no authenticator"))
        #expect(sandbox.value("db.host") == "db.real.example")
        let again = sandbox.unlocked(["upgrade"])
        #expect(again.status == 0 && again.stderr.contains("already has"), "\(again.stderr)")
    }

    // MARK: Bounded unlocking

    /// An attack on availability: the vault's maker asks for 64 passphrase slots of 16 passes over
    /// 4 GiB. Run with a 2 GiB address-space limit: one derivation of 4 GiB would fail for lack of
    /// memory (exit 6), so the refusal naming the cap (exit 4) shows that none ran.
    @Test func sixtyFourMaximalPassphraseSlotsAreRefusedWithoutDeriving() throws {
        let sandbox = try Self.realVault()
        let vault = try Vault.open(at: sandbox.vault)
        try vault.unlock(passphrase: SecureBytes(copying: Array(sandbox.passphrase.utf8)))
        let grant = try #require(vault.keyGrant)
        var file = vault.file
        file.slots = try (1...64).map { id in
            let publicKey = try X25519.publicKey(for: SecureBytes.random(count: 32))
            return Slot(
                id: UInt32(id), kind: .passphrase(salt: SecureRandom.bytes(16), opsLimit: 16, memLimit: 4 << 30),
                label: "hostile", created: 0, scope: .global, publicKey: publicKey,
                wrapped: try SlotWrapping.wrap(grant: grant, vaultID: file.vaultID, slotID: UInt32(id), scope: .global, publicKey: publicKey),
                authenticator: [UInt8](repeating: 0, count: 32))
        }
        file.generation += 1
        let signingKey = try grant.signingKey()
        file.signature = signingKey.signature(for: FormatMessages.fileSignature(hash: BLAKE2b.hash(VaultEncoder.encodeSignedPart(file))))
        try sandbox.write(sandbox.vault, VaultEncoder.encode(file))

        let ran = CofferProcess.runShell(
            "ulimit -v 2097152; exec \"$0\" \"$@\"", ["get", "db.host", "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile],
            environment: sandbox.environment(), cwd: sandbox.work)
        #expect(ran.status == 4, "\(ran.stderr)")
        #expect(ran.stderr.contains("refused before any key derivation: 64 passphrase slots; one unlock tries at most 8"), "\(ran.stderr)")
    }

    // MARK: Pins

    static func pin(of bytes: [UInt8]) throws -> VaultPin {
        let file = try VaultDecoder.decode(bytes)
        return VaultPin(vaultID: file.vaultID, genesisKey: file.keyChain.genesisKey)
    }

    @Test func pinNamesTheVaultIDAndGenesisKey() throws {
        let sandbox = try Self.realVault()
        let ran = sandbox.coffer(["pin", "--vault", sandbox.vault])
        #expect(ran.status == 0, "\(ran.stderr)")
        let file = try VaultDecoder.decode(sandbox.bytes(sandbox.vault))
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(ran.output == "coffer-pin:v1:\(hex(file.vaultID)):\(hex(file.keyChain.genesisKey))\n")
        let malformed = sandbox.coffer(["list", "--vault", sandbox.vault, "--pin", "coffer-pin:v1:00:11"])
        #expect(malformed.status == 1 && malformed.stderr.contains("not a vault pin"), "\(malformed.stderr)")
    }

    /// A CI runner (no trust state) holding only a recipient identity: a forged vault with the
    /// CI recipient's slot copied is refused with a pin from each source; the real vault opens.
    @Test(arguments: ["identity file", "environment", "flag"])
    func forgedVaultWithACIRecipientSlotIsRefusedWithAPin(source: String) throws {
        let sandbox = try Self.realVault()
        let ciKey = sandbox.root + "/ci.key"
        let plainKey = sandbox.root + "/plain.key"
        let added = sandbox.unlocked(["slots", "add-recipient", "--identity-out", ciKey, "--project", "P"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(sandbox.coffer(["keygen", "-o", plainKey]).status == 0)
        let plainPublic = sandbox.coffer(["keygen", "--public-of", plainKey]).output.trimmingCharacters(in: .newlines)
        #expect(sandbox.unlocked(["slots", "add-recipient", plainPublic]).status == 0)
        let real = sandbox.bytes(sandbox.vault)
        let realPin = try Self.pin(of: real)
        #expect(try String(contentsOfFile: ciKey, encoding: .utf8).hasPrefix("# \(realPin)\n"))

        let forged = try Self.forge(real)
        let forgedPin = try Self.pin(of: forged)
        let unrelated = VaultPin(vaultID: SecureRandom.bytes(16), genesisKey: SecureRandom.bytes(32))
        let ci = ["XDG_STATE_HOME": sandbox.root + "/runner-state"]
        let (environment, options): ([String: String], [String]) = switch source {
        case "identity file": (ci.merging(["COFFER_IDENTITY_FILE": ciKey]) { $1 }, [])
        case "environment":
            (ci.merging(["COFFER_IDENTITY_FILE": plainKey, "COFFER_VAULT_PIN": " \(unrelated)\n\t\(realPin) "]) { $1 }, [])
        default: (ci.merging(["COFFER_IDENTITY_FILE": plainKey]) { $1 }, ["--pin", realPin.description])
        }
        try sandbox.write(sandbox.vault, forged)
        for command in [["get", "db.host"], ["set", "other"], ["list"]] {
            let ran = sandbox.coffer(
                command + ["--vault", sandbox.vault] + options, stdin: Array("ci-value-to-attacker".utf8), environment: environment)
            #expect(ran.status == 4, "\(source) \(command): \(ran.stderr)")
            #expect(ran.stderr.contains(forgedPin.fingerprint) && ran.stderr.contains(realPin.fingerprint), "\(ran.stderr)")
            #expect(!ran.output.contains("attacker"))
        }
        #expect(sandbox.bytes(sandbox.vault) == forged)

        // The real vault opens (the CI identity's slot is scoped to project P, which sees global entries).
        try sandbox.write(sandbox.vault, real)
        let read = sandbox.coffer(["get", "db.host", "--vault", sandbox.vault] + options, environment: environment)
        #expect(read.status == 0 && read.output == "db.real.example", "\(source): \(read.stderr)")
        let malformed = sandbox.coffer(
            ["get", "db.host", "--vault", sandbox.vault], environment: environment.merging(["COFFER_VAULT_PIN": "coffer-pin:v1:zz"]) { $1 })
        #expect(malformed.status == 1 && malformed.stderr.contains("not a vault pin"), "\(malformed.stderr)")
    }

    /// With a pin and no key source at all, a forgery is refused (exit 4) before a key is asked for (exit 3).
    @Test func pinIsCheckedBeforeAnyKeyIsAskedFor() throws {
        let sandbox = try Self.realVault()
        let realPin = try Self.pin(of: sandbox.bytes(sandbox.vault))
        try sandbox.write(sandbox.vault, try Self.forge(sandbox.bytes(sandbox.vault)))
        let ran = sandbox.coffer(["get", "db.host", "--vault", sandbox.vault], environment: ["COFFER_VAULT_PIN": realPin.description])
        #expect(ran.status == 4, "\(ran.stderr)")
    }

    /// Substitution attack: the user pins vault A with `--pin` while `$COFFER_VAULT_PIN` names the
    /// user's other vault B (a CI job holding both). B's real file copied over A's path is refused:
    /// pins given on the command line are the only ones that count for that command.
    @Test func attackSubstitutedVaultMatchingOnlyTheEnvironmentsPinIsRefusedUnderAnExplicitPin() throws {
        let sandboxA = try Self.realVault(), sandboxB = try Self.realVault()
        let pinA = try Self.pin(of: sandboxA.bytes(sandboxA.vault)), pinB = try Self.pin(of: sandboxB.bytes(sandboxB.vault))
        try sandboxA.write(sandboxA.vault, sandboxB.bytes(sandboxB.vault))
        let ran = sandboxA.coffer(
            ["get", "db.host", "--vault", sandboxA.vault, "--pin", pinA.description],
            environment: ["COFFER_VAULT_PIN": pinB.description])
        #expect(ran.status == 4, "\(ran.stderr)")
        #expect(ran.stderr.contains(pinA.fingerprint) && !ran.stderr.contains("pinned vault \(pinB.fingerprint)"), "\(ran.stderr)")
    }

    @Test func rotatedAndRekeyedRealVaultOpensWithItsOldPin() throws {
        let sandbox = try Self.realVault()
        let pin = sandbox.coffer(["pin", "--vault", sandbox.vault]).output.trimmingCharacters(in: .newlines)
        let bob = sandbox.root + "/bob.key"
        #expect(sandbox.unlocked(["slots", "add-recipient", "--identity-out", bob]).status == 0)
        let bobSlot = try #require(try VaultDecoder.decode(sandbox.bytes(sandbox.vault)).slots.first { $0.kind == .recipient })
        #expect(sandbox.unlocked(["rotate"]).status == 0)
        #expect(sandbox.unlocked(["slots", "remove", bobSlot.idText]).status == 0)
        #expect(try VaultDecoder.decode(sandbox.bytes(sandbox.vault)).keyChain.links.count == 2)
        let read = sandbox.coffer(["get", "db.host", "--pin", pin, "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile])
        #expect(read.status == 0 && read.output == "db.real.example", "\(read.stderr)")
    }

    /// age ignores comment lines: an identity file carrying a pin still decrypts with `age -d -i`.
    @Test func ageDecryptsWithAnIdentityCarryingAPin() throws {
        let sandbox = try Self.realVault()
        let key = sandbox.root + "/pinned.key"
        let made = sandbox.coffer(["keygen", "--pin", "--vault", sandbox.vault, "-o", key])
        #expect(made.status == 0, "\(made.stderr)")
        let recipient = made.output.trimmingCharacters(in: .newlines)
        let pin = try Self.pin(of: sandbox.bytes(sandbox.vault))
        #expect(try String(contentsOfFile: key, encoding: .utf8).contains("# \(pin)\n"))
        let message = sandbox.root + "/message.age"
        let encrypt = Process()
        encrypt.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        encrypt.arguments = ["sh", "-c", "printf 'age-interop-text' | age -e -r \"$0\" -o \"$1\" && age -d -i \"$2\" \"$1\"", recipient, message, key]
        let output = Pipe()
        encrypt.standardOutput = output
        try encrypt.run()
        encrypt.waitUntilExit()
        #expect(encrypt.terminationStatus == 0)
        #expect(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "age-interop-text")
    }

    // MARK: No silent first use

    /// A vault with a CI recipient slot, and that identity (no pin line) for a machine that has
    /// never seen the vault.
    static func unseenWithIdentity() throws -> (sandbox: Sandbox, environment: [String: String]) {
        let sandbox = try Self.realVault()
        let key = sandbox.root + "/ci-nopin.key"
        #expect(sandbox.coffer(["keygen", "-o", key]).status == 0)
        let publicKey = sandbox.coffer(["keygen", "--public-of", key]).output.trimmingCharacters(in: .newlines)
        #expect(sandbox.unlocked(["slots", "add-recipient", publicKey]).status == 0)
        return (sandbox, ["XDG_STATE_HOME": sandbox.root + "/new-machine", "COFFER_IDENTITY_FILE": key])
    }

    private static func reading(_ sandbox: Sandbox, _ environment: [String: String]) -> [String: String] {
        environment.merging(["XDG_STATE_HOME": sandbox.root + "/reading-machine"]) { $1 }
    }

    /// Trust on first use without a pin: a write by identity to a vault this machine never saw
    /// (it may be a forgery built around the identity's public key) is refused without a
    /// terminal, and nothing is sealed; a read warns once.
    @Test func writeByIdentityToAnUnseenVaultIsRefusedWithoutATerminal() throws {
        let (sandbox, environment) = try Self.unseenWithIdentity()
        let before = sandbox.bytes(sandbox.vault)
        let pin = try Self.pin(of: before)
        let write = sandbox.coffer(["set", "new.secret", "--vault", sandbox.vault], stdin: Array("unseen-value".utf8), environment: environment)
        #expect(write.status == 4, "\(write.stderr)")
        #expect(write.stderr.contains(pin.fingerprint) && write.stderr.contains("--pin \(pin)"), "\(write.stderr)")
        #expect(sandbox.bytes(sandbox.vault) == before, "nothing sealed")

        // The attempt, and a read, remember the vault as seen but vouch for nothing: a second
        // write is refused too, and the read warned only the first time.
        let again = sandbox.coffer(["set", "new.secret", "--vault", sandbox.vault], stdin: Array("unseen-value".utf8), environment: environment)
        #expect(again.status == 4, "\(again.stderr)")
        let firstRead = sandbox.coffer(["get", "db.host", "--vault", sandbox.vault], environment: Self.reading(sandbox, environment))
        #expect(firstRead.status == 0 && firstRead.output == "db.real.example", "\(firstRead.stderr)")
        #expect(firstRead.stderr.contains("never confirmed on this machine") && firstRead.stderr.contains(pin.fingerprint), "\(firstRead.stderr)")
        let secondRead = sandbox.coffer(["get", "db.host", "--vault", sandbox.vault], environment: Self.reading(sandbox, environment))
        #expect(secondRead.status == 0 && secondRead.stderr.isEmpty, "\(secondRead.stderr)")
        let afterRead = sandbox.coffer(
            ["set", "new.secret", "--vault", sandbox.vault], stdin: Array("unseen-value".utf8), environment: Self.reading(sandbox, environment))
        #expect(afterRead.status == 4, "a read does not make the next write silent: \(afterRead.stderr)")
        #expect(sandbox.bytes(sandbox.vault) == before, "nothing sealed")

        // With a pin, the same write on another new machine goes through.
        let pinned = environment.merging(["XDG_STATE_HOME": sandbox.root + "/pinned-machine", "COFFER_VAULT_PIN": pin.description]) { $1 }
        let write2 = sandbox.coffer(["set", "new.secret", "--vault", sandbox.vault], stdin: Array("pinned-value".utf8), environment: pinned)
        #expect(write2.status == 0, "\(write2.stderr)")
    }

    /// A passphrase unlock is not asked: the authenticator checks the vault.
    @Test func writeByPassphraseToAnUnseenVaultIsNotAsked() throws {
        let sandbox = try Self.realVault()
        let write = sandbox.coffer(
            ["set", "other", "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile],
            stdin: Array("passphrase-value".utf8), environment: ["XDG_STATE_HOME": sandbox.root + "/new-machine"])
        #expect(write.status == 0 && write.stderr.isEmpty, "\(write.stderr)")
    }

    /// With a terminal, the first write asks once, showing the fingerprint; later writes do not ask.
    @Test func writeByIdentityToAnUnseenVaultAsksOnceOnATerminal() throws {
        let (sandbox, environment) = try Self.unseenWithIdentity()
        let pin = try Self.pin(of: sandbox.bytes(sandbox.vault))
        var terminal = try TerminalPromptTests.OnTerminal(
            "printf 'asked-value' | '\(CofferProcess.executable)' set asked --vault '\(sandbox.vault)'; echo \"exit $?\"",
            sandbox: sandbox, environment: environment)
        guard terminal.waitForPrompt("Write to this vault? [y/N]") else {
            Issue.record("no confirmation prompt: \(terminal.text)")
            return
        }
        #expect(terminal.text.contains(pin.fingerprint))
        try terminal.type(Array("y\n".utf8))
        #expect(terminal.text.contains("exit 0"), "\(terminal.text)")
        let again = sandbox.coffer(["set", "again", "--vault", sandbox.vault], stdin: Array("again-value".utf8), environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(sandbox.value("asked") == "asked-value")
    }

    // MARK: A vault looking like a known one

    /// A forged vault with a new id, carrying the real vault's passphrase slots (salt and public
    /// key), is refused on a machine that has seen the real one: for a keyless read, a read by
    /// identity and a write, before any key is asked for.
    @Test func forgedVaultCopyingAKnownVaultsPassphraseSlotsIsRefused() throws {
        let (sandbox, environment) = try Self.unseenWithIdentity()
        let seen = ["XDG_STATE_HOME": sandbox.root + "/seen", "COFFER_IDENTITY_FILE": environment["COFFER_IDENTITY_FILE"]!]
        let realID = try VaultDecoder.decode(sandbox.bytes(sandbox.vault)).vaultID
        // Unlocking the real vault with the passphrase records its (authenticated) slot.
        let byPassphrase = sandbox.coffer(
            ["get", "db.host", "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile],
            environment: ["XDG_STATE_HOME": seen["XDG_STATE_HOME"]!])
        #expect(byPassphrase.status == 0, "\(byPassphrase.stderr)")
        let forged = sandbox.root + "/other.coffer"
        try sandbox.write(forged, try Self.forge(sandbox.bytes(sandbox.vault), vaultID: SecureRandom.bytes(16)))
        for command in [["list"], ["get", "db.host"], ["set", "x"]] {
            let ran = sandbox.coffer(command + ["--vault", forged], stdin: Array("to-attacker".utf8), environment: seen)
            #expect(ran.status == 4, "\(command): \(ran.stderr)")
            #expect(ran.stderr.contains("of vault \(realID.map { String(format: "%02x", $0) }.joined())"), "\(ran.stderr)")
        }
        // On a machine that never saw the real vault, the keyless read is not refused; opening
        // the forgery first does not make that machine refuse the real vault later.
        let other = ["XDG_STATE_HOME": sandbox.root + "/other"]
        #expect(sandbox.coffer(["list", "--vault", forged], environment: other).status == 0)
        let real = sandbox.coffer(["get", "db.host", "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile], environment: other)
        #expect(real.status == 0 && real.output == "db.real.example", "\(real.stderr)")
    }
}
