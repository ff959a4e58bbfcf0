import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Foundation
import Testing

/// Key rotation through the `coffer` binary (issue 12): passwd, rotate, slots, keygen, and age
/// interoperability.
@Suite struct RotationCommandTests {
    /// A vault holding a few secrets in several scopes, one with a description.
    static func populated() throws -> Sandbox {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("pg.password", "hunter2-value")
        sandbox.store("token", "t0ken-global", ["--description", "kept description"])
        sandbox.store("api.key", "api-project-value", ["--project", "P"])
        sandbox.store("api.key", "api-project-prod-value", ["--project", "P", "--domain", "prod"])
        return sandbox
    }

    static func decoded(_ sandbox: Sandbox, _ path: String? = nil) throws -> VaultFile {
        try VaultDecoder.decode(sandbox.bytes(path ?? sandbox.vault))
    }

    static func metadata(_ file: VaultFile) -> [String] {
        file.entries.map { "\($0.scope)|\($0.name)|\($0.created)|\($0.updated)|\($0.flags)|\($0.description)" }
    }

    /// `coffer get name --vault V` with `keyOptions` as the only key source.
    static func get(_ sandbox: Sandbox, _ name: String, _ keyOptions: [String], environment: [String: String] = [:]) -> CofferResult {
        sandbox.coffer(["get", name, "--vault", sandbox.vault] + keyOptions, environment: environment)
    }

    /// Writes `text` as a passphrase file under the sandbox and returns its path.
    static func passphraseFile(_ sandbox: Sandbox, _ name: String, _ text: String) throws -> String {
        let path = sandbox.root + "/" + name
        try sandbox.write(path, text + "\n")
        sandbox.remember(text)
        return path
    }

    /// `coffer keygen -o root/name`; returns the file and its public key.
    static func keygen(_ sandbox: Sandbox, _ name: String, _ options: [String] = []) throws -> (path: String, publicKey: String) {
        let path = sandbox.root + "/" + name
        let result = sandbox.coffer(["keygen", "-o", path] + options)
        #expect(result.status == 0, "keygen failed: \(result.stderr)")
        let publicKey = result.output.trimmingCharacters(in: .newlines)
        #expect(publicKey.hasPrefix("age1") && publicKey.count == 62)
        return (path, publicKey)
    }

    @discardableResult
    static func addRecipient(_ sandbox: Sandbox, _ publicKey: String, _ options: [String] = []) -> String {
        let result = sandbox.unlocked(["slots", "add-recipient", publicKey] + options)
        #expect(result.status == 0, "add-recipient failed: \(result.stderr)")
        return result.output.trimmingCharacters(in: .newlines)
    }

    @discardableResult
    static func addPassphrase(_ sandbox: Sandbox, file: String) -> String {
        let result = sandbox.unlocked(["slots", "add-passphrase", "--new-passphrase-file", file] + Sandbox.tinyKDF)
        #expect(result.status == 0, "add-passphrase failed: \(result.stderr)")
        return result.output.trimmingCharacters(in: .newlines)
    }

    // MARK: passwd

    @Test func passwdKeepsEveryEntryByteIdenticalAndSwapsThePassphrase() throws {
        let sandbox = try Self.populated()
        let newFile = try Self.passphraseFile(sandbox, "new-passphrase", "a brand new passphrase")
        let before = try Self.decoded(sandbox)

        let result = sandbox.unlocked(["passwd", "--new-passphrase-file", newFile])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("passphrase changed"))

        let after = try Self.decoded(sandbox)
        #expect(!after.entries.isEmpty)
        #expect(after.entries.map(VaultEncoder.encodedEntry) == before.entries.map(VaultEncoder.encodedEntry))
        #expect(after.keyChain == before.keyChain)
        #expect(after.slots.map(\.id) == before.slots.map(\.id))
        #expect(after.slots[0].wrapped != before.slots[0].wrapped)

        sandbox.expectFailure(3) { Self.get(sandbox, "pg.password", ["--passphrase-file", sandbox.passphraseFile]) }
        let withNew = Self.get(sandbox, "pg.password", ["--passphrase-file", newFile])
        #expect(withNew.status == 0 && withNew.output == "hunter2-value")
    }

    @Test func passwdKeepsTheKDFParametersUnlessGiven() throws {
        let sandbox = try Self.populated()
        let newFile = try Self.passphraseFile(sandbox, "new-passphrase", "another one")
        #expect(sandbox.unlocked(["passwd", "--new-passphrase-file", newFile]).status == 0)
        #expect(try Self.decoded(sandbox).slots[0].kind.isTiny)
        let result = sandbox.coffer([
            "passwd", "--vault", sandbox.vault, "--passphrase-file", newFile, "--new-passphrase-file", sandbox.passphraseFile,
            "--kdf-ops", "2", "--kdf-memory", "9",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        guard case let .passphrase(_, ops, mem) = try Self.decoded(sandbox).slots[0].kind else { Issue.record("not a passphrase slot"); return }
        #expect(ops == 2 && mem == 9 << 20)
        #expect(sandbox.value("pg.password") == "hunter2-value")
    }

    @Test func passwdWithAWrongOldPassphraseChangesNothing() throws {
        let sandbox = try Self.populated()
        let wrong = try Self.passphraseFile(sandbox, "wrong", "not the passphrase")
        let newFile = try Self.passphraseFile(sandbox, "new-passphrase", "a brand new passphrase")
        sandbox.expectFailure(3) {
            sandbox.coffer(["passwd", "--vault", sandbox.vault, "--passphrase-file", wrong, "--new-passphrase-file", newFile])
        }
        #expect(sandbox.value("pg.password") == "hunter2-value")
    }

    @Test func passwdRefusesARecipientSlot() throws {
        let sandbox = try Self.populated()
        let identity = try Self.keygen(sandbox, "id.txt")
        let slot = Self.addRecipient(sandbox, identity.publicKey)
        let newFile = try Self.passphraseFile(sandbox, "new-passphrase", "unused")
        let result = sandbox.expectFailure(1) { sandbox.unlocked(["passwd", "--slot", slot, "--new-passphrase-file", newFile]) }
        #expect(result.stderr.contains("recipient slot"))
    }

    // MARK: rotate

    @Test func rotateReSealsEverythingAndTheOldMasterKeyOpensNothing() throws {
        let sandbox = try Self.populated()
        let before = try Self.decoded(sandbox)
        let old = try Vault.open(at: sandbox.vault)
        try old.unlock(passphrase: SecureBytes(copying: Array(sandbox.passphrase.utf8)))
        let oldGrant = try #require(old.keyGrant)

        let result = sandbox.unlocked(["rotate"])
        #expect(result.status == 0, "\(result.stderr)")

        let rotated = try Vault.open(at: sandbox.vault)  // verifies the key chain and the signature
        let after = rotated.file
        #expect(result.stderr.contains("new verification key \(after.keyChain.currentKey.map { String(format: "%02x", $0) }.joined())"))
        #expect(after.keyChain.currentKey != before.keyChain.currentKey)
        #expect(after.keyChain.links.count == before.keyChain.links.count + 1)
        #expect(after.keyChain.links.dropLast() == before.keyChain.links[...])
        #expect(Self.metadata(after) == Self.metadata(before))
        #expect(after.slots.map(\.id) == before.slots.map(\.id))
        let cipher = EntryCipher(vaultID: after.vaultID, grant: oldGrant)
        for (previous, entry) in zip(before.entries, after.entries) {
            #expect(previous.sealedValue != entry.sealedValue)
            #expect(throws: KeyError.self) { try cipher.open(entry) }
        }
        #expect(throws: CofferError.self) { try rotated.unlock(grant: oldGrant) }

        #expect(sandbox.value("pg.password") == "hunter2-value")
        #expect(sandbox.value("api.key", ["--project", "P", "--domain", "prod"]) == "api-project-prod-value")
        let verify = sandbox.unlocked(["verify"])
        #expect(verify.status == 0 && verify.output.contains("4 of 4 values open and verify"), "\(verify.output) \(verify.stderr)")
    }

    @Test func rotateWithAWrongPassphraseChangesNothing() throws {
        let sandbox = try Self.populated()
        let wrong = try Self.passphraseFile(sandbox, "wrong", "not the passphrase")
        sandbox.expectFailure(3) { sandbox.coffer(["rotate", "--vault", sandbox.vault, "--passphrase-file", wrong]) }
    }

    @Test func aRecipientStillReadsAfterRotation() throws {
        let sandbox = try Self.populated()
        let identity = try Self.keygen(sandbox, "id.txt")
        Self.addRecipient(sandbox, identity.publicKey)
        #expect(sandbox.unlocked(["rotate"]).status == 0)
        #expect(sandbox.unlocked(["rotate"]).status == 0)
        #expect(try Self.decoded(sandbox).keyChain.links.count == 2)
        #expect(Self.get(sandbox, "token", ["--identity", identity.path]).output == "t0ken-global")
    }

    // MARK: slots

    @Test func slotsRemoveRekeysLocksTheRemovedPartyOutAndListsWhatItSaw() throws {
        let sandbox = try Self.populated()
        let leaverFile = try Self.passphraseFile(sandbox, "leaver", "the leaver's passphrase")
        let leaver = Self.addPassphrase(sandbox, file: leaverFile)
        let identity = try Self.keygen(sandbox, "id.txt")
        Self.addRecipient(sandbox, identity.publicKey)
        #expect(Self.get(sandbox, "token", ["--passphrase-file", leaverFile]).output == "t0ken-global")
        let before = try Self.decoded(sandbox)

        let result = sandbox.unlocked(["slots", "remove", leaver])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.hasPrefix("removed slot \(leaver); vault re-keyed\n"))
        #expect(result.output.contains("the removed party could read these 4 secrets"))
        for line in ["  global/pg.password", "  global/token", "  project=P/api.key", "  project=P,domain=prod/api.key"] {
            #expect(result.output.contains(line + "\n"), "\(result.output)")
        }

        let after = try Self.decoded(sandbox)
        #expect(after.slots.count == before.slots.count - 1 && !after.slots.contains { $0.idText == leaver })
        #expect(after.keyChain.links.count == before.keyChain.links.count + 1)
        sandbox.expectFailure(3) { Self.get(sandbox, "token", ["--passphrase-file", leaverFile]) }
        #expect(Self.get(sandbox, "token", ["--passphrase-file", sandbox.passphraseFile]).output == "t0ken-global")
        #expect(Self.get(sandbox, "token", ["--identity", identity.path]).output == "t0ken-global")
    }

    @Test func slotsRemoveOfAScopedRecipientListsOnlyItsScopes() throws {
        let sandbox = try Self.populated()
        sandbox.store("dev.only", "dev-value", ["--project", "P", "--domain", "dev"])
        let identity = try Self.keygen(sandbox, "id.txt")
        let slot = Self.addRecipient(sandbox, identity.publicKey, ["--project", "P", "--domain", "prod"])
        let result = sandbox.unlocked(["slots", "remove", slot])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output.contains("these 4 secrets") && !result.output.contains("dev.only"), "\(result.output)")
    }

    @Test func slotsRemoveWithoutRekeyWarnsAndKeepsTheMasterKey() throws {
        let sandbox = try Self.populated()
        let leaverFile = try Self.passphraseFile(sandbox, "leaver", "the leaver's passphrase")
        let leaver = Self.addPassphrase(sandbox, file: leaverFile)
        let before = try Self.decoded(sandbox)

        let result = sandbox.unlocked(["slots", "remove", leaver, "--no-rekey"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("coffer: warning: --no-rekey"))
        #expect(result.output.hasPrefix("removed slot \(leaver)\n"))
        let after = try Self.decoded(sandbox)
        #expect(after.keyChain == before.keyChain)
        #expect(after.entries.map(VaultEncoder.encodedEntry) == before.entries.map(VaultEncoder.encodedEntry))
        sandbox.expectFailure(3) { Self.get(sandbox, "token", ["--passphrase-file", leaverFile]) }
    }

    @Test func theLastSlotCannotBeRemoved() throws {
        let sandbox = try Self.populated()
        let only = try Self.decoded(sandbox).slots[0].idText
        sandbox.expectFailure(5) { sandbox.unlocked(["slots", "remove", only]) }
        sandbox.expectFailure(5) { sandbox.unlocked(["slots", "remove", only, "--no-rekey"]) }
        sandbox.expectFailure(2) { sandbox.unlocked(["slots", "remove", "0badc0de"]) }
        sandbox.expectFailure(1) { sandbox.unlocked(["slots", "remove", "not-an-id"]) }
    }

    @Test func threePassphrasesAndTwoRecipientsEachOpenTheVault() throws {
        let sandbox = try Self.populated()
        let second = try Self.passphraseFile(sandbox, "second", "second passphrase")
        let third = try Self.passphraseFile(sandbox, "third", "third passphrase")
        Self.addPassphrase(sandbox, file: second)
        Self.addPassphrase(sandbox, file: third)
        let coffers = try Self.keygen(sandbox, "coffer-id.txt")
        Self.addRecipient(sandbox, coffers.publicKey)
        let ages = try AgeTool.keygen(sandbox.root + "/age-id.txt")
        Self.addRecipient(sandbox, ages)
        #expect(try Self.decoded(sandbox).slots.count == 5)

        let sources = [sandbox.passphraseFile, second, third].map { ["--passphrase-file", $0] }
            + [coffers.path, sandbox.root + "/age-id.txt"].map { ["--identity", $0] }
        for source in sources {
            let result = Self.get(sandbox, "api.key", source + ["--project", "P"])
            #expect(result.status == 0 && result.output == "api-project-value", "\(source): \(result.stderr)")
        }
    }

    @Test func slotsListLinesBeginWithTheSlotIdAndJSONParses() throws {
        let sandbox = try Self.populated()
        let second = try Self.passphraseFile(sandbox, "second", "second passphrase")
        let passphraseSlot = Self.addPassphrase(sandbox, file: second)
        let identity = try Self.keygen(sandbox, "id.txt")
        let recipientSlot = Self.addRecipient(sandbox, identity.publicKey, ["--project", "P", "--domain", "prod", "--label", "ci"])
        let ids = try Self.decoded(sandbox).slots.map(\.idText)
        #expect(ids.count == 3 && ids.contains(passphraseSlot) && ids.contains(recipientSlot))

        let list = sandbox.coffer(["slots", "list", "--vault", sandbox.vault])
        #expect(list.status == 0)
        let lines = list.output.split(separator: "\n").map(String.init)
        #expect(lines.map { String($0.prefix(8)) } == ids)
        #expect(lines.first { $0.hasPrefix(recipientSlot) }?.contains(identity.publicKey) == true)

        let json = sandbox.coffer(["slots", "list", "--json", "--vault", sandbox.vault])
        #expect(json.status == 0)
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]])
        #expect(objects.map { $0["id"] as? String } == ids)
        let recipient = try #require(objects.first { $0["id"] as? String == recipientSlot })
        #expect(recipient["type"] as? String == "recipient" && recipient["recipient"] as? String == identity.publicKey)
        #expect(recipient["project"] as? String == "P" && recipient["domain"] as? String == "prod" && recipient["label"] as? String == "ci")
        let passphrase = try #require(objects.first { $0["id"] as? String == passphraseSlot })
        #expect(passphrase["type"] as? String == "passphrase")
        #expect(passphrase["opsLimit"] as? Int == 1 && passphrase["memLimit"] as? Int == 8 << 20)
    }

    // MARK: identities

    @Test func anAgeKeygenIdentityReadsTheVault() throws {
        let sandbox = try Self.populated()
        let path = sandbox.root + "/age-id.txt"
        let publicKey = try AgeTool.keygen(path)
        Self.addRecipient(sandbox, publicKey)

        #expect(Self.get(sandbox, "pg.password", ["--identity", path]).output == "hunter2-value")
        #expect(Self.get(sandbox, "pg.password", ["-i", path]).output == "hunter2-value")
        let fromEnvironment = Self.get(sandbox, "pg.password", [], environment: ["COFFER_IDENTITY_FILE": path])
        #expect(fromEnvironment.status == 0 && fromEnvironment.output == "hunter2-value", "\(fromEnvironment.stderr)")
        #expect(sandbox.coffer(["keygen", "--public-of", path]).output == publicKey + "\n")

        let other = try AgeTool.keygen(sandbox.root + "/other-id.txt")
        #expect(other != publicKey)
        sandbox.expectFailure(3) { Self.get(sandbox, "pg.password", ["--identity", sandbox.root + "/other-id.txt"]) }
    }

    @Test func ageEncryptsToACofferKeyAndDecryptsWithACofferIdentity() throws {
        let sandbox = try Sandbox()
        let identity = try Self.keygen(sandbox, "id.txt")
        #expect(Self.mode(identity.path) == 0o600)
        #expect(try AgeTool.run(["age-keygen", "-y", identity.path]).stdout == identity.publicKey + "\n")
        #expect(sandbox.coffer(["keygen", "--public-of", identity.path]).output == identity.publicKey + "\n")

        let plain = Array("round trip \u{1F511}\n".utf8) + (0...255).map(UInt8.init)
        try sandbox.write(sandbox.root + "/plain", plain)
        let encrypt = try AgeTool.run(["age", "-r", identity.publicKey, "-o", sandbox.root + "/sealed.age", sandbox.root + "/plain"])
        #expect(encrypt.status == 0, "\(encrypt.stderr)")
        let decrypt = try AgeTool.run(["age", "-d", "-i", identity.path, "-o", sandbox.root + "/opened", sandbox.root + "/sealed.age"])
        #expect(decrypt.status == 0, "\(decrypt.stderr)")
        #expect(sandbox.bytes(sandbox.root + "/opened") == plain)
    }

    @Test func keygenWritesTheDefaultIdentityOnceAndPrivately() throws {
        let sandbox = try Sandbox()
        let result = sandbox.coffer(["keygen"])
        #expect(result.status == 0, "\(result.stderr)")
        let path = sandbox.dataHome + "/coffer/identity.txt"
        #expect(Self.mode(path) == 0o600)
        #expect(sandbox.coffer(["keygen", "--public-of", path]).output == result.output)
        let again = sandbox.coffer(["keygen"])
        #expect(again.status == 5)
        #expect(sandbox.coffer(["keygen", "--public-of", path]).output == result.output)
    }

    @Test func aPassphraseProtectedIdentityUnlocksOnlyWithItsPassphrase() throws {
        let sandbox = try Self.populated()
        let protectFile = try Self.passphraseFile(sandbox, "identity-passphrase", "identity passphrase")
        let identity = try Self.keygen(
            sandbox, "protected.txt", ["--passphrase", "--new-passphrase-file", protectFile] + Sandbox.tinyKDF)
        let text = String(decoding: sandbox.bytes(identity.path), as: UTF8.self)
        #expect(text.contains("COFFER-PROTECTED-IDENTITY-1") && !text.contains("AGE-SECRET-KEY-1"))
        #expect(Self.mode(identity.path) == 0o600)
        Self.addRecipient(sandbox, identity.publicKey)

        let opened = Self.get(sandbox, "pg.password", ["--identity", identity.path, "--passphrase-file", protectFile])
        #expect(opened.status == 0 && opened.output == "hunter2-value", "\(opened.stderr)")
        let wrong = try Self.passphraseFile(sandbox, "wrong", "not the identity passphrase")
        let refused = sandbox.expectFailure(3) {
            Self.get(sandbox, "pg.password", ["--identity", identity.path, "--passphrase-file", wrong])
        }
        #expect(refused.stderr.contains("wrong passphrase for identity"))
        sandbox.expectFailure(3) { Self.get(sandbox, "pg.password", ["--identity", identity.path]) }
        #expect(sandbox.coffer(["keygen", "--public-of", identity.path, "--passphrase-file", protectFile]).output == identity.publicKey + "\n")
    }

    // MARK: scoped recipients

    /// `name` in each scope: `a` P/prod, `b` P, `c` prod, `d` global; `e` P/dev, `f` Q; `x` P/prod and P/dev.
    static func scopedVault() throws -> (Sandbox, identity: String) {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        for (name, value, options) in [
            ("a", "a-P-prod", ["--project", "P", "--domain", "prod"]), ("b", "b-P", ["--project", "P"]),
            ("c", "c-prod", ["--domain", "prod"]), ("d", "d-global", []), ("e", "e-P-dev", ["--project", "P", "--domain", "dev"]),
            ("f", "f-Q", ["--project", "Q"]), ("x", "x-P-prod", ["--project", "P", "--domain", "prod"]),
            ("x", "x-P-dev", ["--project", "P", "--domain", "dev"]),
        ] { sandbox.store(name, value, options) }
        let identity = try keygen(sandbox, "ci.txt")
        addRecipient(sandbox, identity.publicKey, ["--project", "P", "--domain", "prod", "--label", "ci"])
        return (sandbox, identity.path)
    }

    @Test func aRecipientScopedToAProjectAndDomainReadsOnlyWhatThatScopeSees() throws {
        let (sandbox, identity) = try Self.scopedVault()
        func get(_ name: String, _ scope: [String]) -> CofferResult { Self.get(sandbox, name, ["--identity", identity] + scope) }
        let projectProd = ["--project", "P", "--domain", "prod"]
        for (name, expected) in [("a", "a-P-prod"), ("b", "b-P"), ("c", "c-prod"), ("d", "d-global"), ("x", "x-P-prod")] {
            let result = get(name, projectProd)
            #expect(result.status == 0 && result.output == expected, "\(name): \(result.stderr)")
        }
        #expect(get("b", ["--project", "P"]).output == "b-P")
        #expect(get("c", ["--domain", "prod"]).output == "c-prod")
        #expect(get("d", []).output == "d-global")

        for (name, scope) in [("e", ["--project", "P", "--domain", "dev"]), ("x", ["--project", "P", "--domain", "dev"]),
                              ("f", ["--project", "Q"]), ("f", ["--project", "Q", "--domain", "prod"])] {
            let refused = sandbox.expectFailure(3) { get(name, scope) }
            #expect(refused.stderr.contains("does not grant scope"), "\(refused.stderr)")
        }

        let list = sandbox.coffer(["list", "--values", "--json", "--vault", sandbox.vault, "--identity", identity] + projectProd)
        #expect(list.status == 0, "\(list.stderr)")
        let values = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout)) as? [[String: Any]]).compactMap { $0["value"] as? String }
        #expect(values == ["a-P-prod", "b-P", "c-prod", "d-global", "x-P-prod"])
        let verify = sandbox.coffer(["verify", "--vault", sandbox.vault, "--identity", identity])
        #expect(verify.output.contains("5 of 8 values open"), "\(verify.output)")

        sandbox.expectFailure(3) {
            sandbox.coffer(["set", "new", "--vault", sandbox.vault, "--identity", identity], stdin: Array("v".utf8))
        }
        sandbox.expectFailure(3) { sandbox.coffer(["rotate", "--vault", sandbox.vault, "--identity", identity]) }
    }

    @Test func theLibraryWithTheFileBytesRefusesOtherScopesToAScopedRecipient() throws {
        let (sandbox, identityPath) = try Self.scopedVault()
        let identities = try IdentityFile.parse(sandbox.bytes(identityPath), path: identityPath, passphrase: nil)
        let vault = try Vault(bytes: sandbox.bytes(sandbox.vault), path: sandbox.vault)
        try vault.unlock(identities: identities.map(\.secretKey))
        #expect(vault.unlockedSlot?.scope == Scope(project: "P", domain: "prod") && !vault.canWrite)

        let readable: [(String, Scope, String)] = [
            ("a", Scope(project: "P", domain: "prod"), "a-P-prod"), ("b", Scope(project: "P"), "b-P"),
            ("c", Scope(domain: "prod"), "c-prod"), ("d", .global, "d-global"), ("x", Scope(project: "P", domain: "prod"), "x-P-prod"),
        ]
        for (name, scope, value) in readable { #expect(try vault.value(for: name, in: scope) == Array(value.utf8)) }
        for (name, scope) in [("e", Scope(project: "P", domain: "dev")), ("x", Scope(project: "P", domain: "dev")), ("f", Scope(project: "Q"))] {
            #expect(throws: CofferError.keyUnavailable("the key in hand does not grant scope \(scope)")) { try vault.value(for: name, in: scope) }
        }
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }
}

private extension Slot.Kind {
    var isTiny: Bool {
        if case let .passphrase(_, ops, mem) = self { ops == 1 && mem == 8 << 20 } else { false }
    }
}

/// Runs the real `age` and `age-keygen`, in a new session and a clean environment.
private enum AgeTool {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ command: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["-w"] + command
        process.environment = ["PATH": "/usr/bin:/bin"]
        process.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// `age-keygen -o path`; returns the public key from the file's `# public key:` line.
    static func keygen(_ path: String) throws -> String {
        let result = try run(["age-keygen", "-o", path])
        #expect(result.status == 0, "\(result.stderr)")
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("# public key: ") })
        return String(line.dropFirst("# public key: ".count))
    }
}
