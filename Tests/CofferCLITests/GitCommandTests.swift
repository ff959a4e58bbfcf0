import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a finished child process left.
struct Ran {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String

    var output: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard output and error together, for leak checks.
    var all: String { output + "\n" + stderr }
}

/// A throwaway git repository holding a committed `secrets.coffer`, driven by real git and the
/// built `coffer` (first in PATH, so the drivers `coffer git merge`/`textconv` resolve to it).
/// Children get a clean environment with private HOME and XDG folders, no terminal (setsid),
/// and, unless `key: false`, `COFFER_PASSPHRASE_FILE`.
final class GitWorld {
    /// The build's products folder: the one holding both the test bundle and `coffer`.
    static let products: String = {
        let starts = [URL(fileURLWithPath: CommandLine.arguments[0])] + Bundle.allBundles.map(\.bundleURL)
        for start in starts {
            var folder = start.standardizedFileURL
            for _ in 0..<4 {
                folder.deleteLastPathComponent()
                if FileManager.default.isExecutableFile(atPath: folder.path + "/coffer") { return folder.path }
            }
        }
        fatalError("no coffer executable beside \(starts.map(\.path)); build it first")
    }()

    static let passphrase = "gitworld passphrase 4q"
    static let attributesLine = "*.coffer merge=coffer diff=coffer"

    let root: String
    var repo: String { root + "/repo" }
    var vault: String { repo + "/secrets.coffer" }
    var passphraseFile: String { root + "/passphrase" }
    /// Every secret value stored; none may ever appear in git's or coffer's output.
    private(set) var values: [String] = [GitWorld.passphrase]

    /// `setup`: run `coffer git setup`; `vault`: create and commit the vault.
    init(setup: Bool = true, vault: Bool = true) throws {
        var template = Array((NSTemporaryDirectory() + "coffer-git-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        root = String(cString: made)
        for folder in ["home", "data", "state", "config", "runtime", "repo"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        chmod(root + "/runtime", 0o700)
        try Data((Self.passphrase + "\n").utf8).write(to: URL(fileURLWithPath: passphraseFile))
        git("init", "-q", "-b", "main")
        git("config", "user.name", "Git World")
        git("config", "user.email", "world@example.invalid")
        git("config", "commit.gpgsign", "false")
        if setup { expectSuccess(coffer(["git", "setup"])) }
        if vault {
            expectSuccess(coffer(["init", "--kdf-ops", "1", "--kdf-memory", "8", "--passphrase-file", passphraseFile]))
            commit("init")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func environment(key: Bool, _ extra: [String: String]) -> [String: String] {
        var environment = [
            "PATH": Self.products + ":/usr/bin:/bin", "LC_ALL": "C", "HOME": root + "/home",
            "XDG_DATA_HOME": root + "/data", "XDG_STATE_HOME": root + "/state", "XDG_CONFIG_HOME": root + "/config",
            "XDG_RUNTIME_DIR": root + "/runtime", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
        ]
        if key { environment["COFFER_PASSPHRASE_FILE"] = passphraseFile }
        return environment.merging(extra) { $1 }
    }

    /// Runs `command` (looked up in PATH) in `cwd` (default: the repository) without a terminal.
    func run(
        _ command: [String], key: Bool = true, env extra: [String: String] = [:], stdin: [UInt8]? = nil, cwd: String? = nil
    ) -> Ran {
        let files = root + "/io-" + UUID().uuidString
        defer { for suffix in [".in", ".out", ".err"] { unlink(files + suffix) } }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["-w"] + command
        process.currentDirectoryURL = URL(fileURLWithPath: cwd ?? repo)
        process.environment = environment(key: key, extra)
        _ = FileManager.default.createFile(atPath: files + ".in", contents: Data(stdin ?? []))
        _ = FileManager.default.createFile(atPath: files + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: files + ".err", contents: nil)
        process.standardInput = FileHandle(forReadingAtPath: files + ".in")
        process.standardOutput = FileHandle(forWritingAtPath: files + ".out")
        process.standardError = FileHandle(forWritingAtPath: files + ".err")
        do { try process.run() } catch { fatalError("cannot start \(command): \(error)") }
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Ran(
            status: status, stdout: bytes(files + ".out"),
            stderr: String(decoding: bytes(files + ".err"), as: UTF8.self))
    }

    /// `git args...`, expected to succeed.
    @discardableResult
    func git(_ args: String..., sourceLocation: SourceLocation = #_sourceLocation) -> Ran {
        expectSuccess(run(["git"] + args), sourceLocation: sourceLocation)
    }

    @discardableResult
    func coffer(_ args: [String], key: Bool = true, env extra: [String: String] = [:], stdin: [UInt8]? = nil) -> Ran {
        run(["coffer"] + args, key: key, env: extra, stdin: stdin)
    }

    @discardableResult
    func expectSuccess(_ ran: Ran, sourceLocation: SourceLocation = #_sourceLocation) -> Ran {
        #expect(ran.status == 0, "exit \(ran.status): \(ran.stderr)", sourceLocation: sourceLocation)
        return ran
    }

    /// `coffer set NAME [options]` with `value` on stdin, expected to succeed.
    func set(_ name: String, _ value: String, _ options: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        values.append(value)
        expectSuccess(coffer(["set", name] + options, stdin: Array(value.utf8)), sourceLocation: sourceLocation)
    }

    func get(_ name: String, _ options: [String] = [], env extra: [String: String] = [:]) -> Ran {
        coffer(["get", name] + options, env: extra)
    }

    func commit(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        git("add", "-A", sourceLocation: sourceLocation)
        git("commit", "-q", "-m", message, sourceLocation: sourceLocation)
    }

    /// Commits `onFeature` on a new branch `feature`, then `onMain` on main (checked out after).
    func diverge(feature onFeature: () throws -> Void, main onMain: () throws -> Void) rethrows {
        git("checkout", "-q", "-b", "feature")
        try onFeature()
        commit("feature")
        git("checkout", "-q", "main")
        try onMain()
        commit("main")
    }

    /// `git merge feature` into main; git's stdout and stderr (the driver's included) must hold no value.
    func mergeFeature(key: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) -> Ran {
        let ran = run(["git", "merge", "--no-edit", "feature"], key: key)
        expectNoValues(ran.all, sourceLocation: sourceLocation)
        return ran
    }

    /// `coffer verify` with a key: the signature and every one of `count` values.
    func expectVerifies(entries count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let ran = coffer(["verify"])
        #expect(ran.status == 0, "verify: \(ran.stderr)", sourceLocation: sourceLocation)
        #expect(ran.output.contains("; \(count) of \(count) values open and verify"), "\(ran.output)", sourceLocation: sourceLocation)
    }

    /// `name`'s value, expected readable.
    func expectValue(_ name: String, _ value: String, _ options: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        let ran = get(name, options)
        #expect(ran.status == 0 && ran.output == value, "get \(name): exit \(ran.status), \(ran.stderr)", sourceLocation: sourceLocation)
    }

    func expectNoValues(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for value in values { #expect(!text.contains(value), "a value leaked: \(value)", sourceLocation: sourceLocation) }
    }

    /// The vault as committed at `revision`.
    func committed(_ revision: String) -> [UInt8] { git("show", "\(revision):secrets.coffer").stdout }

    func decoded(_ path: String? = nil) throws -> VaultFile { try VaultDecoder.decode(bytes(path ?? vault)) }

    func names() throws -> [String] { try decoded().entries.map(\.name) }

    func bytes(_ path: String) -> [UInt8] { FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? [] }

    func write(_ path: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// A new identity (`keygen name`) added as a recipient of the whole vault: its file and slot id.
    func addRecipient(_ name: String) -> (path: String, slot: String) {
        let identity = keygen(name)
        let added = expectSuccess(coffer(["slots", "add-recipient", identity.publicKey]))
        return (identity.path, added.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `coffer keygen -o root/name`: the identity file and its public key (age1...).
    func keygen(_ name: String) -> (path: String, publicKey: String) {
        let path = root + "/" + name
        let ran = expectSuccess(coffer(["keygen", "-o", path]))
        return (path, ran.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Issue "Vaults in git" (Specs/git.md) through real git in temporary repositories.
@Suite struct GitCommandTests {
    // MARK: Setup

    @Test func setupIsIdempotentAndDryRunChangesNothing() throws {
        let world = try GitWorld(setup: false, vault: false)
        let attributes = world.repo + "/.gitattributes"
        try world.write(attributes, Array("*.png binary".utf8))

        let dry = world.expectSuccess(world.coffer(["git", "setup", "--dry-run"]))
        #expect(dry.output.contains("add '\(GitWorld.attributesLine)' to \(world.repo)/.gitattributes"))
        #expect(dry.output.contains("merge.coffer.driver 'coffer git merge %O %A %B %P'"))
        #expect(dry.output.contains("diff.coffer.textconv 'coffer git textconv'"))
        #expect(String(decoding: world.bytes(attributes), as: UTF8.self) == "*.png binary")
        #expect(world.run(["git", "config", "--get-regexp", "coffer"]).output.isEmpty)

        world.expectSuccess(world.coffer(["git", "setup"]))
        let again = world.expectSuccess(world.coffer(["git", "setup"]))
        #expect(again.stderr == "coffer: already set up\n")
        #expect(String(decoding: world.bytes(attributes), as: UTF8.self) == "*.png binary\n\(GitWorld.attributesLine)\n")
        #expect(world.git("config", "--get", "merge.coffer.driver").output == "coffer git merge %O %A %B %P\n")
        #expect(world.git("config", "--get", "diff.coffer.textconv").output == "coffer git textconv\n")
        #expect(world.git("config", "--get", "merge.coffer.name").status == 0)
        #expect(world.git("check-attr", "merge", "diff", "--", "secrets.coffer").output
            == "secrets.coffer: merge: coffer\nsecrets.coffer: diff: coffer\n")
        #expect(world.expectSuccess(world.coffer(["git", "setup", "--dry-run"])).output == "nothing to change\n")

        // A coffer that is not the one in PATH names itself by absolute path.
        let elsewhere = world.run(
            [GitWorld.products + "/coffer", "git", "setup", "--dry-run"], env: ["PATH": "/usr/bin:/bin"])
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        let driver = try #require(elsewhere.output.split(separator: "\n").first { $0.contains("merge.coffer.driver") })
        #expect(driver.contains("driver '/") && driver.hasSuffix("/coffer git merge %O %A %B %P'"))
    }

    /// `--global`: the user's git config and `$XDG_CONFIG_HOME/git/attributes`, which every repository reads.
    @Test func globalSetup() throws {
        let world = try GitWorld(setup: false, vault: false)
        world.expectSuccess(world.coffer(["git", "setup", "--global"]))
        world.expectSuccess(world.coffer(["git", "setup", "--global"]))
        #expect(String(decoding: world.bytes(world.root + "/config/git/attributes"), as: UTF8.self) == GitWorld.attributesLine + "\n")
        #expect(world.git("config", "--global", "--get", "merge.coffer.driver").output == "coffer git merge %O %A %B %P\n")
        #expect(world.run(["git", "config", "--local", "--get", "merge.coffer.driver"]).status == 1)
        #expect(world.git("check-attr", "diff", "--", "x.coffer").output == "x.coffer: diff: coffer\n")
    }

    // MARK: Merging without conflicts

    /// Both branches add a secret; the driver unlocks through a session (`coffer unlock`).
    @Test func addsOnBothBranchesMerge() throws {
        let world = try GitWorld()
        world.set("shared", "shared-value-1a")
        world.commit("shared")
        world.diverge(feature: { world.set("feature.key", "feature-value-2b") }, main: { world.set("main.key", "main-value-3c") })
        let token = world.expectSuccess(world.coffer(["unlock", "--raw", "--passphrase-file", world.passphraseFile], key: false))
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        let merged = world.run(["git", "merge", "--no-edit", "feature"], key: false, env: ["COFFER_SESSION": token])
        #expect(merged.status == 0, "\(merged.all)")
        #expect(!merged.all.contains("CONFLICT"))
        world.expectNoValues(merged.all)
        #expect(world.git("status", "--porcelain").output.isEmpty)
        world.expectVerifies(entries: 3)
        #expect(try world.names() == ["feature.key", "main.key", "shared"])
        world.expectValue("feature.key", "feature-value-2b")
        world.expectValue("main.key", "main-value-3c")
        // A merge result is never a rollback: above both parents.
        let parents = try [world.decoded(), VaultDecoder.decode(world.committed("HEAD^1")), VaultDecoder.decode(world.committed("HEAD^2"))]
        #expect(parents[0].generation == max(parents[1].generation, parents[2].generation) + 1)
    }

    @Test func deleteOnOneBranchAddOnTheOther() throws {
        let world = try GitWorld()
        world.set("old", "old-value-4d")
        world.set("kept", "kept-value-5e", ["--project", "shop"])
        world.commit("two")
        world.diverge(
            feature: { world.expectSuccess(world.coffer(["delete", "old"])) },
            main: { world.set("new", "new-value-6f", ["--domain", "prod"]) })
        let merged = world.mergeFeature()
        #expect(merged.status == 0, "\(merged.all)")
        world.expectVerifies(entries: 2)
        #expect(try world.names() == ["new", "kept"])
        world.expectValue("new", "new-value-6f", ["--domain", "prod"])
        #expect(world.get("old").status == 2)
    }

    /// A key slot added on one branch, a secret on the other: the result has both, and the new
    /// slot's key opens the secret.
    @Test(arguments: ["add-recipient", "add-passphrase"])
    func slotOnOneBranchSecretOnTheOther(_ command: String) throws {
        let world = try GitWorld()
        world.set("base", "base-value-7g")
        world.commit("base")
        let identity = world.keygen("bob.key")
        let second = world.root + "/second-passphrase"
        try world.write(second, Array("second passphrase 8h\n".utf8))
        world.diverge(
            feature: {
                world.expectSuccess(world.coffer(
                    command == "add-recipient" ? ["slots", "add-recipient", identity.publicKey]
                        : ["slots", "add-passphrase", "--new-passphrase-file", second, "--kdf-ops", "1", "--kdf-memory", "8"]))
            },
            main: { world.set("new", "new-value-9i") })
        let merged = world.mergeFeature()
        #expect(merged.status == 0, "\(merged.all)")
        world.expectVerifies(entries: 2)
        #expect(try world.decoded().slots.count == 2)
        let newKey = command == "add-recipient" ? ["--identity", identity.path] : ["--passphrase-file", second]
        world.expectValue("new", "new-value-9i", newKey)
        world.expectValue("base", "base-value-7g", newKey)
    }

    // MARK: Conflicts

    /// main and feature change `a` and `b` differently (and each adds a secret of its own).
    private static func conflicted() throws -> GitWorld {
        let world = try GitWorld()
        world.set("a", "a-base-value")
        world.set("b", "b-base-value")
        world.commit("base")
        world.diverge(
            feature: {
                world.set("a", "a-theirs-value", ["--overwrite"])
                world.set("b", "b-theirs-value", ["--overwrite"])
                world.set("t", "t-theirs-only")
            },
            main: {
                world.set("a", "a-ours-value", ["--overwrite"])
                world.set("b", "b-ours-value", ["--overwrite"])
                world.set("o", "o-ours-only")
            })
        let merged = world.mergeFeature()
        #expect(merged.status == 1, "\(merged.all)")
        #expect(merged.all.contains("CONFLICT (content): Merge conflict in secrets.coffer"))
        #expect(merged.stderr.contains("conflict in secrets.coffer: entry global/a: ours changed, theirs changed"))
        #expect(merged.stderr.contains("conflict in secrets.coffer: entry global/b: ours changed, theirs changed"))
        #expect(world.git("diff", "--name-only", "--diff-filter=U").output == "secrets.coffer\n")
        // The driver left OURS as it was.
        #expect(world.bytes(world.vault) == world.committed("HEAD"))
        return world
    }

    @Test(arguments: ["--ours", "--theirs"])
    func conflictResolvedWithOneSide(_ side: String) throws {
        let world = try Self.conflicted()
        let resolved = world.expectSuccess(world.coffer(["git", "resolve", "secrets.coffer", side]))
        world.expectNoValues(resolved.all)
        world.git("add", "secrets.coffer")
        world.git("commit", "-q", "--no-edit")
        #expect(world.git("rev-list", "--parents", "-n", "1", "HEAD").output.split(separator: " ").count == 3)
        world.expectVerifies(entries: 4)
        let winner = side == "--ours" ? "ours" : "theirs"
        world.expectValue("a", "a-\(winner)-value")
        world.expectValue("b", "b-\(winner)-value")
        world.expectValue("o", "o-ours-only")
        world.expectValue("t", "t-theirs-only")
    }

    /// With NAMEs only those entries take the chosen side; others stay conflicts (exit 5, file untouched).
    @Test func conflictResolvedByName() throws {
        let world = try Self.conflicted()
        let before = world.bytes(world.vault)
        let partly = world.coffer(["git", "resolve", "secrets.coffer", "--theirs", "a"])
        #expect(partly.status == 5)
        #expect(partly.stderr.contains("entry global/b: ours changed, theirs changed"))
        #expect(!partly.stderr.contains("entry global/a"))
        world.expectNoValues(partly.all)
        #expect(world.bytes(world.vault) == before)

        world.expectSuccess(world.coffer(["git", "resolve", "secrets.coffer", "--theirs", "a", "b"]))
        world.git("add", "secrets.coffer")
        world.git("commit", "-q", "--no-edit")
        world.expectVerifies(entries: 4)
        world.expectValue("a", "a-theirs-value")
        world.expectValue("b", "b-theirs-value")
        world.expectValue("o", "o-ours-only")
    }

    // MARK: Re-keying on one branch

    /// One branch re-keys (`rotate`, or `slots remove` of a recipient), the other adds a secret,
    /// in both directions: the result verifies under the newer key, holds the secret (after a
    /// resolve naming it when a slot was removed), and a removed recipient cannot read it.
    @Test(arguments: ["rotate", "slots remove"], [false, true])
    func rekeyOnOneBranchSecretOnTheOther(_ operation: String, rekeyOnFeature: Bool) throws {
        let world = try GitWorld()
        world.set("base", "base-value-ab")
        let mallory = world.addRecipient("mallory.key")
        world.commit("base")
        let rekey = { world.expectSuccess(world.coffer(operation == "rotate" ? ["rotate"] : ["slots", "remove", mallory.slot])) }
        let add = { world.set("new", "new-value-cd") }
        world.diverge(feature: rekeyOnFeature ? { _ = rekey() } : add, main: rekeyOnFeature ? add : { _ = rekey() })
        let rekeyed = try VaultDecoder.decode(world.committed(rekeyOnFeature ? "feature" : "main"))
        #expect(rekeyed.keyChain.links.count == 1)

        let merged = world.mergeFeature()
        if operation == "slots remove" {
            // The secret was added under the key the revocation replaced: taken only by naming it.
            #expect(merged.status == 1, "\(merged.all)")
            #expect(merged.stderr.contains("entry global/new: "), "\(merged.stderr)")
            #expect(merged.stderr.contains("added under a key the other side's revocation replaced"), "\(merged.stderr)")
            world.expectSuccess(world.coffer(["git", "resolve", "secrets.coffer", rekeyOnFeature ? "--ours" : "--theirs", "new"]))
            world.git("add", "secrets.coffer")
            world.git("commit", "-q", "--no-edit")
        } else {
            #expect(merged.status == 0, "\(merged.all)")
        }
        world.expectVerifies(entries: 2)
        #expect(try world.decoded().keyChain == rekeyed.keyChain)
        world.expectValue("new", "new-value-cd")
        if operation == "slots remove" {
            let asMallory = world.get("new", ["--identity", mallory.path])
            #expect(asMallory.status == 3, "\(asMallory.stderr)")
            world.expectNoValues(asMallory.all)
        } else {
            world.expectValue("new", "new-value-cd", ["--identity", mallory.path])
        }
    }

    // MARK: The driver without a key

    /// The driver's other key source: an age identity in $COFFER_IDENTITY_FILE, no passphrase.
    @Test func driverUnlocksWithAnIdentityFile() throws {
        let world = try GitWorld()
        let me = world.addRecipient("me.key")
        world.commit("recipient")
        world.diverge(feature: { world.set("f", "f-value-ij") }, main: { world.set("m", "m-value-kl") })
        let merged = world.run(["git", "merge", "--no-edit", "feature"], key: false, env: ["COFFER_IDENTITY_FILE": me.path])
        #expect(merged.status == 0, "\(merged.all)")
        world.expectNoValues(merged.all)
        world.expectValue("f", "f-value-ij", ["--identity", me.path])
        world.expectValue("m", "m-value-kl", ["--identity", me.path])
    }

    /// The diff driver's view: one fact a line, header, slot (with its KDF), entry (with the sealed
    /// value's fingerprint), never a value; and the state file beside it is the user's, mode 0600.
    @Test func textconvShowsEveryFactOnItsOwnLine() throws {
        let world = try GitWorld()
        world.set("pg.password", "pg-value-mn", ["--description", "app database"])
        let text = world.expectSuccess(world.coffer(["git", "textconv", world.vault], key: false)).output
        world.expectNoValues(text)
        let file = try world.decoded()
        let patterns = [
            #"^coffer-vault 1\.1$"#,
            "^vault-id \(file.vaultID.map { String(format: "%02x", $0) }.joined())$",
            "^generation \(file.generation)$",
            "^verification-key [0-9a-f]{64}$",
            "^key-chain 0$",
            #"^slot [0-9a-f]{8} passphrase argon2id-ops=1 argon2id-mem=8388608 scope=global label="passphrase" created=[0-9]+$"#,
            #"^entry global pg\.password created=[0-9]+ updated=[0-9]+ flags=- description="app database" value=[0-9a-f]{16}$"#,
        ]
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == patterns.count, "\(lines)")
        for (line, pattern) in zip(lines, patterns) {
            #expect(line.range(of: pattern, options: .regularExpression) != nil, "\(line) does not match \(pattern)")
        }
        var info = stat()
        #expect(stat(world.root + "/state/coffer/trust", &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    /// Versions of different vaults are refused before any key is asked for; OURS is left as it was.
    @Test func driverRefusesVersionsOfDifferentVaults() throws {
        let world = try GitWorld()
        let other = world.root + "/other.coffer"
        world.expectSuccess(world.coffer(["init", "--vault", other, "--kdf-ops", "1", "--kdf-memory", "8", "--passphrase-file", world.passphraseFile]))
        let ours = world.root + "/ours.coffer"
        try world.write(ours, world.bytes(world.vault))
        let refused = world.coffer(["git", "merge", world.vault, ours, other, "secrets.coffer"], key: false)
        #expect(refused.status == 5 && refused.stderr.contains("not the same vault"), "\(refused.stderr)")
        #expect(world.bytes(ours) == world.bytes(world.vault))
    }

    @Test func driverWithoutKeyFailsAndLeavesOurs() throws {
        let world = try GitWorld()
        world.diverge(feature: { world.set("f", "f-value-ef") }, main: { world.set("m", "m-value-gh") })
        let ours = world.committed("main")
        let merged = world.mergeFeature(key: false)
        #expect(merged.status == 1)
        #expect(merged.all.contains("CONFLICT"))
        #expect(merged.stderr.contains("merging vaults needs a key: run eval \"$(coffer unlock)\""))
        #expect(world.bytes(world.vault) == ours)
        world.git("merge", "--abort")

        // The driver run directly on files: exit 3, OURS byte for byte as it was; with a key it merges.
        let base = world.root + "/base", oursFile = world.root + "/ours", theirs = world.root + "/theirs"
        try world.write(base, world.committed("main~1"))
        try world.write(oursFile, ours)
        try world.write(theirs, world.committed("feature"))
        let refused = world.coffer(["git", "merge", base, oursFile, theirs, "secrets.coffer"], key: false)
        #expect(refused.status == 3)
        #expect(refused.stderr.hasPrefix("coffer: merging vaults needs a key"))
        #expect(world.bytes(oursFile) == ours)
        world.expectSuccess(world.coffer(["git", "merge", base, oursFile, theirs, "secrets.coffer"]))
        #expect(try world.decoded(oursFile).entries.map(\.name) == ["f", "m"])
    }

    // MARK: Diff

    @Test func diffAndLogShowNamesAndFingerprintsNeverValues() throws {
        let world = try GitWorld()
        world.set("changed", "changed-value-one")
        world.set("removed", "removed-value-two", ["--project", "shop"])
        world.commit("first")
        let before = world.expectSuccess(world.coffer(["git", "textconv", "secrets.coffer"])).output
        world.set("changed", "changed-value-three", ["--overwrite"])
        world.expectSuccess(world.coffer(["delete", "removed", "--project", "shop"]))
        world.set("added", "added-value-four", ["--description", "say \"hi\""])
        let after = world.expectSuccess(world.coffer(["git", "textconv", "secrets.coffer"])).output
        #expect(after.contains("entry global added created="))
        #expect(after.contains("description=\"say \\\"hi\\\"\""))

        let diff = world.git("diff", "secrets.coffer")
        let removedLines = Set(before.split(separator: "\n")).subtracting(after.split(separator: "\n"))
        let addedLines = Set(after.split(separator: "\n")).subtracting(before.split(separator: "\n"))
        #expect(removedLines.count == 3 && addedLines.count == 3)  // generation, changed, removed | generation, changed, added
        for line in removedLines { #expect(diff.output.contains("\n-" + line + "\n"), "missing -\(line)") }
        for line in addedLines { #expect(diff.output.contains("\n+" + line + "\n"), "missing +\(line)") }
        #expect(diff.output.contains("-entry project=shop removed "))
        #expect(diff.output.contains("+entry global added "))
        #expect(diff.output.contains("value="))
        world.expectNoValues(diff.all)

        world.commit("second")
        let log = world.git("log", "-p")
        #expect(log.output.contains("+entry global changed "))
        #expect(log.output.contains("-entry project=shop removed "))
        world.expectNoValues(log.all)

        // A bad signature is flagged; a file that is not a vault says so.
        var forged = world.bytes(world.vault)
        forged[forged.count - 1] ^= 1
        try world.write(world.root + "/bad.coffer", forged)
        let bad = world.expectSuccess(world.coffer(["git", "textconv", world.root + "/bad.coffer"])).output
        #expect(bad.hasSuffix("\nsignature INVALID\n"))
        try world.write(world.root + "/junk.coffer", Array("not a vault".utf8))
        #expect(world.expectSuccess(world.coffer(["git", "textconv", world.root + "/junk.coffer"])).output
            == "not a readable coffer vault (11 bytes)\n")
    }

    // MARK: Rollback and fork

    /// Generations 1...4 written on main, each committed; the file of generation 2 restored.
    private static func restoredOldGeneration() throws -> GitWorld {
        let world = try GitWorld()
        for number in 2...4 {
            world.set("s\(number)", "value-of-s\(number)")
            world.commit("generation \(number)")
        }
        #expect(try world.decoded().generation == 4)
        world.git("checkout", "HEAD~2", "--", "secrets.coffer")
        #expect(try world.decoded().generation == 2)
        return world
    }

    @Test func rollbackIsRefusedForWritesAndWarnedForReads() throws {
        let world = try Self.restoredOldGeneration()
        let old = world.bytes(world.vault)
        let refused = world.coffer(["set", "x"], stdin: Array("x-value".utf8))
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("rollback: this vault is at generation 2, but generation 4 was seen before"))
        #expect(refused.stderr.contains("--allow-rollback"))
        #expect(world.bytes(world.vault) == old)

        let read = world.get("s2")
        #expect(read.status == 0 && read.output == "value-of-s2")
        #expect(read.stderr.split(separator: "\n").count == 1)
        #expect(read.stderr.contains("rollback"))

        world.set("x", "x-value", ["--allow-rollback"])
        world.expectValue("x", "x-value")
        #expect(try world.decoded().generation == 3)
        // The rollback was accepted: the next write needs no flag, and reads no longer warn.
        world.set("y", "y-value")
        #expect(world.get("x").stderr.isEmpty)
    }

    /// A branch made from a commit before a recipient was revoked still lists that recipient: this
    /// user, who saw the revocation, may read it but not write to it.
    @Test func aBranchFromBeforeARevocationIsReadOnly() throws {
        let world = try GitWorld()
        world.set("a", "a-value-12")
        let mallory = world.addRecipient("mallory.key")
        world.commit("mallory can read")
        world.expectSuccess(world.coffer(["slots", "remove", mallory.slot]))
        world.commit("mallory revoked")

        world.git("checkout", "-q", "-b", "old", "HEAD~1")
        let before = world.bytes(world.vault)
        for options in [[], ["--allow-rollback"]] {
            let refused = world.coffer(["set", "b"] + options, stdin: Array("b-value-34".utf8))
            #expect(refused.status == 4 && refused.stderr.contains("read-only"), "\(refused.stderr)")
        }
        #expect(world.bytes(world.vault) == before)
        let read = world.get("a")
        #expect(read.status == 0 && read.output == "a-value-12")
        #expect(read.stderr.contains("replaced at generation"), "\(read.stderr)")
    }

    /// Same generation as one seen, other content (another user wrote over generation 3): a
    /// fork; refused for writes, warned for reads.
    @Test func forkIsRefusedForWrites() throws {
        let world = try Self.restoredOldGeneration()
        world.git("checkout", "HEAD~1", "--", "secrets.coffer")
        world.expectSuccess(world.coffer(["set", "y"], env: ["XDG_STATE_HOME": world.root + "/other-user"], stdin: Array("y-value".utf8)))
        #expect(try world.decoded().generation == 4)
        let old = world.bytes(world.vault)
        let refused = world.coffer(["set", "z"], stdin: Array("z-value".utf8))
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("fork: generation 4 was seen before with different content"))
        #expect(world.bytes(world.vault) == old)
        let read = world.get("y")
        #expect(read.status == 0 && read.stderr.contains("fork"))
    }

    /// Checking out a branch that has not seen main's later commits shows an older generation:
    /// that is not a rollback, and writing there (and back on main) works.
    @Test func switchingBranchesIsNotARollback() throws {
        let world = try GitWorld()
        world.set("s1", "value-s1")
        world.commit("one")
        world.git("branch", "old")
        for number in 2...3 {
            world.set("s\(number)", "value-s\(number)")
            world.commit("more")
        }
        world.git("checkout", "-q", "old")
        #expect(try world.decoded().generation == 2)
        let write = world.coffer(["set", "on.old"], stdin: Array("value-on-old".utf8))
        #expect(write.status == 0, "\(write.stderr)")
        #expect(!write.stderr.contains("rollback"))
        world.commit("on old")
        world.git("checkout", "-q", "main")
        world.set("s4", "value-s4")
        let read = world.get("s1")
        #expect(read.status == 0 && read.stderr.isEmpty, "\(read.stderr)")
    }

    // MARK: Forgery and substitution

    /// A vault with the real one's id and names but a fresh master key, wrapped only to `recipient`.
    private static func forge(_ real: [UInt8], recipient: [UInt8]) throws -> (bytes: [UInt8], key: [UInt8]) {
        var file = try VaultDecoder.decode(real)
        let grant = KeyGrant.generate()
        let cipher = EntryCipher(vaultID: file.vaultID, grant: grant)
        file.entries = try file.entries.map { entry in
            var forged = entry
            forged.sealedValue = try cipher.seal(Array("attacker-\(entry.name)".utf8), name: entry.name, scope: entry.scope)[...]
            return forged
        }
        file.slots = [try SlotWrapping.makeSlot(
            kind: .recipient, publicKey: recipient, label: "recipient", scope: .global, created: file.slots[0].created,
            grant: grant, vaultID: file.vaultID, existingIDs: [])]
        let signingKey = try grant.signingKey()
        file.keyChain = KeyChain(genesisKey: signingKey.publicKey)
        file.generation += 1
        let signedPart = VaultEncoder.encodeSignedPart(file)
        file.signature = signingKey.signature(for: FormatMessages.fileSignature(hash: BLAKE2b.hash(signedPart)))
        return (VaultEncoder.encode(file), signingKey.publicKey)
    }

    @Test func forgedVaultIsRefusedRealRotationAccepted() throws {
        let world = try GitWorld()
        world.set("db.host", "db.real.example")
        let bob = world.keygen("bob.key")
        world.expectSuccess(world.coffer(["slots", "add-recipient", bob.publicKey]))
        world.commit("real")
        let asBob = ["--identity", bob.path]
        world.expectValue("db.host", "db.real.example", asBob)
        let realKey = try world.decoded().keyChain.currentKey

        let forged = try Self.forge(world.bytes(world.vault), recipient: try Recipient(parsing: bob.publicKey).publicKey)
        try world.write(world.vault, forged.bytes)
        // The forgery is well made: a user who never saw the real vault opens it.
        let stranger = world.coffer(["get", "db.host"] + asBob, env: ["XDG_STATE_HOME": world.root + "/stranger"])
        #expect(stranger.status == 0 && stranger.output == "attacker-db.host")

        let fingerprints = [TrustStore.fingerprint(realKey), TrustStore.fingerprint(forged.key)]
        for command in [["get", "db.host"], ["verify"], ["set", "other"]] {
            let ran = world.coffer(command + asBob, stdin: Array("new-value-ij".utf8))
            #expect(ran.status == 4, "\(command): \(ran.stderr)")
            for fingerprint in fingerprints { #expect(ran.stderr.contains(fingerprint), "\(command): \(ran.stderr)") }
            #expect(!ran.output.contains("attacker"))
        }
        #expect(world.bytes(world.vault) == forged.bytes)
        // A write is refused before any key is asked for: with no key source at all it is still
        // the forgery that is reported (exit 4), not the missing passphrase (exit 3).
        let keyless = world.coffer(["set", "other"], key: false, stdin: Array("new-value-ij".utf8))
        #expect(keyless.status == 4, "\(keyless.stderr)")

        // A real rotation, by another user, is linked to the pinned key by the chain: accepted.
        world.git("checkout", "--", "secrets.coffer")
        world.expectSuccess(world.coffer(["rotate"], env: ["XDG_STATE_HOME": world.root + "/alice"]))
        let read = world.get("db.host", asBob)
        #expect(read.status == 0 && read.output == "db.real.example" && read.stderr.isEmpty, "\(read.stderr)")
        world.set("after", "after-rotation-value", asBob)
        let inspect = world.expectSuccess(world.coffer(["inspect"])).output
        #expect(Self.pinnedKey(inspect) == TrustStore.fingerprint(try world.decoded().keyChain.currentKey))
    }

    @Test func otherVaultAtAKnownPathIsRefusedUntilTrusted() throws {
        let world = try GitWorld()
        world.set("a", "a-value-kl")
        world.commit("a")
        world.expectValue("a", "a-value-kl")
        let other = world.root + "/other.coffer"
        world.expectSuccess(world.coffer(["init", "--vault", other, "--kdf-ops", "1", "--kdf-memory", "8", "--passphrase-file", world.passphraseFile]))
        world.expectSuccess(world.coffer(["set", "b", "--vault", other], stdin: Array("b-value-mn".utf8)))
        try world.write(world.vault, world.bytes(other))

        for command in [["get", "b"], ["set", "c"]] {
            let ran = world.coffer(command, stdin: Array("c-value".utf8))
            #expect(ran.status == 4, "\(command): \(ran.stderr)")
            #expect(ran.stderr.contains("run coffer trust"))
        }
        let trusted = world.expectSuccess(world.coffer(["trust"]))
        #expect(trusted.output.contains("trusted \(world.vault)"))
        world.expectValue("b", "b-value-mn")
        world.set("c", "c-value-op")
    }

    // MARK: Inspect

    /// The fingerprint on `inspect`'s "pinned key" row.
    private static func pinnedKey(_ inspect: String) -> String? {
        inspect.split(separator: "\n").first { $0.hasPrefix("pinned key") }?.split(separator: " ").last.map(String.init)
    }

    @Test func inspectShowsRememberedGenerationAndPin() throws {
        let world = try GitWorld()
        world.set("a", "a-value-qr")
        world.set("b", "b-value-st")
        let file = try world.decoded()
        let inspect = world.expectSuccess(world.coffer(["inspect"])).output
        let pin = TrustStore.fingerprint(file.keyChain.currentKey)
        #expect(inspect.contains("generation \(file.generation) on refs/heads/main"), "\(inspect)")
        #expect(Self.pinnedKey(inspect) == pin, "\(inspect)")
        #expect(inspect.contains("generation \(file.generation), key \(pin)"))

        // After a restore, the file's own generation and the remembered one differ.
        world.commit("two")
        world.git("checkout", "HEAD~1", "--", "secrets.coffer")
        let older = world.coffer(["inspect"])
        #expect(older.output.contains("generation \(file.generation) on refs/heads/main"))
        #expect(older.output.contains("generation 1, key \(pin)"))
    }
}
