import Coffer
import CofferCrypto
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `coffer rotate` killed with SIGKILL part-way (issue 12): at each step of the save through the
/// built-in crash switch, and at random moments. After every kill the vault must open, verify and
/// open fully with the passphrase, as either the old version or the new one, and the next write
/// must leave no temporary file behind.
@Suite struct RotationCrashTests {
    enum Outcome { case old, new }

    /// A vault with `count` global and a few scoped entries.
    struct Fixture {
        let sandbox: Sandbox
        var expected: [String: String] = [:]

        init(count: Int) throws {
            sandbox = try Sandbox()
            sandbox.makeVault()
            var global = "", scoped = ""
            for index in 0..<count {
                global += "KEY_\(index)=global-value-\(index)\n"
                expected["global/KEY_\(index)"] = "global-value-\(index)"
            }
            for index in 0..<10 {
                scoped += "KEY_\(index)=scoped-value-\(index)\n"
                expected["project=P,domain=prod/KEY_\(index)"] = "scoped-value-\(index)"
            }
            try sandbox.write(sandbox.root + "/global.env", global)
            try sandbox.write(sandbox.root + "/scoped.env", scoped)
            #expect(sandbox.unlocked(["import", sandbox.root + "/global.env"]).status == 0)
            #expect(sandbox.unlocked(["import", sandbox.root + "/scoped.env", "--project", "P", "--domain", "prod"]).status == 0)
        }

        var rotateArguments: [String] { ["rotate", "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile] }

        /// Temporary files a save leaves beside the vault.
        func temporaries() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: sandbox.work).filter { $0.hasPrefix(".secrets.coffer.tmp-") }
        }

        /// Opens the vault on disk (key chain and signature verified), unlocks it with the passphrase
        /// (its slots must hold the master key its verification key says) and reads every value.
        func check(against before: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> Outcome {
            let bytes = sandbox.bytes(sandbox.vault)
            let vault = try Vault(bytes: bytes, path: sandbox.vault)
            let previous = try Vault(bytes: before, path: sandbox.vault)
            try vault.unlock(passphrase: SecureBytes(copying: Array(sandbox.passphrase.utf8)))
            var values: [String: String] = [:]
            for entry in vault.entries {
                values["\(entry.scope)/\(entry.name)"] = String(decoding: try vault.value(for: entry.name, in: entry.scope), as: UTF8.self)
            }
            #expect(values == expected, sourceLocation: sourceLocation)
            if bytes == before { return .old }
            #expect(vault.generation == previous.generation + 1, sourceLocation: sourceLocation)
            #expect(vault.file.keyChain.links.count == previous.file.keyChain.links.count + 1, sourceLocation: sourceLocation)
            #expect(vault.verificationKey != previous.verificationKey, sourceLocation: sourceLocation)
            return .new
        }

        /// The next command: a whole rotation, which must also clear what a killed save left.
        func runNextCommand(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let result = sandbox.unlocked(["rotate"])
            #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
            #expect(try temporaries().isEmpty, sourceLocation: sourceLocation)
        }

        var environment: [String: String] { sandbox.environment() }
    }

    @Test(arguments: [("written", Outcome.old), ("synced", .old), ("renamed", .new), ("dir-synced", .new)])
    func rotateKilledAtAStepOfTheSave(step: String, outcome: Outcome) throws {
        let fixture = try Fixture(count: 60)
        let before = fixture.sandbox.bytes(fixture.sandbox.vault)
        let pid = KillableCoffer.spawn(fixture.rotateArguments, environment: fixture.environment.merging(["COFFER_TEST_CRASH_AT": step]) { $1 })
        #expect(KillableCoffer.wait(pid) == .signaled(SIGKILL))

        #expect(try fixture.check(against: before) == outcome)
        let leftovers = try fixture.temporaries()
        #expect(leftovers.count == (outcome == .old ? 1 : 0))
        for name in leftovers { #expect(RotationCommandTests.mode(fixture.sandbox.work + "/" + name) == 0o600) }
        let verify = fixture.sandbox.unlocked(["verify"])
        #expect(verify.status == 0 && verify.output.contains("70 of 70 values open and verify"), "\(verify.output) \(verify.stderr)")
        #expect(try fixture.temporaries() == leftovers)  // reading does not touch them

        try fixture.runNextCommand()
        _ = try fixture.check(against: fixture.sandbox.bytes(fixture.sandbox.vault))
    }

    @Test func rotateKilledAtRandomMoments() throws {
        let fixture = try Fixture(count: 300)
        // How long a whole rotation takes here (measured again each round), to spread the kills over it.
        var duration = KillableCoffer.timed {
            #expect(KillableCoffer.wait(KillableCoffer.spawn(fixture.rotateArguments, environment: fixture.environment)) == .exited(0))
        }
        var outcomes: [Outcome: Int] = [:]
        for _ in 0..<32 {
            let before = fixture.sandbox.bytes(fixture.sandbox.vault)
            let pid = KillableCoffer.spawn(fixture.rotateArguments, environment: fixture.environment)
            KillableCoffer.spin(nanoseconds: UInt64.random(in: 0...(duration + duration / 2)))
            kill(pid, SIGKILL)
            let ended = KillableCoffer.wait(pid)
            #expect(ended == .signaled(SIGKILL) || ended == .exited(0), "\(ended)")

            let outcome = try fixture.check(against: before)
            if ended == .exited(0) { #expect(outcome == .new) }
            outcomes[outcome, default: 0] += 1
            duration = try KillableCoffer.timed { try fixture.runNextCommand() }
        }
        #expect(outcomes.values.reduce(0, +) == 32)
    }
}

/// Starts `coffer` so that the test can SIGKILL the process itself: `posix_spawn` in a new session
/// (no controlling terminal), with only the given environment and standard streams on /dev/null.
private enum KillableCoffer {
    enum Ending: Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    /// glibc's POSIX_SPAWN_SETSID (not exported to Swift): the child calls setsid().
    static let setSessionFlag: Int16 = 0x80

    static func spawn(_ args: [String], environment: [String: String]) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, setSessionFlag)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        let executable = CofferProcess.executable
        let argv = ([executable] + args).map { strdup($0) } + [nil]
        let envp = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"].merging(environment) { $1 }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        precondition(status == 0, "posix_spawn failed: \(String(cString: strerror(status)))")
        return pid
    }

    static func wait(_ pid: pid_t) -> Ending {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return status & 0x7F == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
    }

    /// Nanoseconds `body` took.
    static func timed(_ body: () throws -> Void) rethrows -> UInt64 {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return DispatchTime.now().uptimeNanoseconds - start
    }

    /// A busy wait, so a kill lands at a random moment without sleeping.
    static func spin(nanoseconds: UInt64) {
        let end = DispatchTime.now().uptimeNanoseconds + nanoseconds
        while DispatchTime.now().uptimeNanoseconds < end {}
    }
}
