import Coffer
import CofferCodec
import CofferCrypto
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue "Hardening": crash consistency under SIGKILL, concurrent writers, leaks, KDF caps.
@Suite struct HardeningTests {
    /// Starts `coffer` directly (no setsid wrapper), so its pid is the one to kill.
    private static func startDirect(
        _ args: [String], sandbox: Sandbox, stdin: String? = nil, stdinPipe: Pipe? = nil, environment: [String: String] = [:]
    ) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CofferProcess.executable)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: sandbox.work)
        process.environment = sandbox.environment(["PATH": "/usr/bin:/bin"].merging(environment) { $1 })
        if let stdinPipe {
            process.standardInput = stdinPipe
        } else if let stdin {
            let path = sandbox.root + "/stdin-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: path, contents: Data(stdin.utf8))
            process.standardInput = FileHandle(forReadingAtPath: path)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try! process.run()
        return process
    }

    /// Everything in the vault, opened with whichever of `passphrases` works.
    private static func contents(of path: String, passphrases: [String]) throws -> [String: [UInt8]] {
        let vault = try Vault.open(at: path)
        var unlocked = false
        for passphrase in passphrases where !unlocked {
            unlocked = (try? vault.unlock(passphrase: SecureBytes(copying: Array(passphrase.utf8)))) != nil
        }
        try #require(unlocked, "no passphrase opens the vault after a kill")
        var values: [String: [UInt8]] = [:]
        for entry in vault.entries {
            values["\(entry.scope)/\(entry.name)"] = try vault.value(for: entry.name, in: entry.scope)
        }
        return values
    }

    private static func temporaries(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains(".tmp-") }
    }

    @Test func survivesTwoHundredKillsDuringWrites() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        for index in 0..<20 { sandbox.store("seed.\(index)", "seed-value-\(index)") }
        let newPassphrase = sandbox.root + "/new-passphrase"
        try "another passphrase\n".write(toFile: newPassphrase, atomically: true, encoding: .utf8)
        var bulk = ""
        for index in 0..<2000 { bulk += "BULK_\(index)=value-\(index)\n" }
        try bulk.write(toFile: sandbox.work + "/bulk.env", atomically: true, encoding: .utf8)
        let passphrases = [sandbox.passphrase, "another passphrase"]
        let unlock = ["--vault", sandbox.vault, "--passphrase-file"]

        var kills = 0, rounds = 0, oldOutcomes = 0, newOutcomes = 0
        var generator = SystemRandomNumberGenerator()
        var current = sandbox.passphraseFile
        var before = try Self.contents(of: sandbox.vault, passphrases: passphrases)
        // How long each command takes here, learned from runs that finished: kills land anywhere in it.
        var durations = [0.05, 0.3, 0.05, 0.1]
        while kills < 200 && rounds < 1000 {
            let round = rounds, kind = rounds % 4
            rounds += 1
            let other = current == newPassphrase ? sandbox.passphraseFile : newPassphrase
            let args: [String]
            var stdin: String?
            var expected = before
            switch kind {
            case 0:
                args = ["set", "killed.\(round)"] + unlock + [current]
                stdin = "killed-value-\(round)"
                expected["global/killed.\(round)"] = Array("killed-value-\(round)".utf8)
            case 1:
                args = ["import", sandbox.work + "/bulk.env", "--overwrite", "--project", "bulk"] + unlock + [current]
                for index in 0..<2000 { expected["project=bulk/BULK_\(index)"] = Array("value-\(index)".utf8) }
            case 2:
                args = ["passwd", "--new-passphrase-file", other] + unlock + [current]
            default:
                args = ["rotate"] + unlock + [current]
            }
            let started = Date()
            let process = Self.startDirect(args, sandbox: sandbox, stdin: stdin)
            usleep(UInt32(Double.random(in: 0...(durations[kind] * 1.2), using: &generator) * 1_000_000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
                durations[kind] *= 1.1
            }
            process.waitUntilExit()
            if process.terminationReason == .exit { durations[kind] = Date().timeIntervalSince(started) }
            let after = try Self.contents(of: sandbox.vault, passphrases: passphrases)
            #expect(after == before || after == expected, "round \(round): neither the old nor the new content")
            if after == before { oldOutcomes += 1 } else { newOutcomes += 1 }
            if kind == 2 {
                let text = current == newPassphrase ? "another passphrase" : sandbox.passphrase
                let opensWithCurrent = (try? Vault.open(at: sandbox.vault).unlock(passphrase: SecureBytes(copying: Array(text.utf8)))) != nil
                if !opensWithCurrent { current = other }
            }
            before = after
        }
        // The next write cleans up what killed saves left behind.
        let final = sandbox.coffer(["set", "after.kills"] + unlock + [current], stdin: Array("x".utf8))
        #expect(final.status == 0, "\(final.stderr)")
        #expect(Self.temporaries(in: sandbox.work).isEmpty)
        #expect(kills >= 200, "only \(kills) kills in \(rounds) rounds")
        print("hardening: \(kills) kills in \(rounds) rounds; outcomes old \(oldOutcomes), new \(newOutcomes); the vault opened and verified after each")
    }

    @Test func injectedCrashAtEverySaveStepLeavesOldOrNew() throws {
        for step in ["written", "synced", "renamed", "dir-synced"] {
            let sandbox = try Sandbox()
            sandbox.makeVault()
            sandbox.store("kept", "kept-value")
            let before = try Self.contents(of: sandbox.vault, passphrases: [sandbox.passphrase])
            let crashed = Self.startDirect(
                ["set", "new", "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile],
                sandbox: sandbox, stdin: "new-value", environment: ["COFFER_TEST_CRASH_AT": step])
            crashed.waitUntilExit()
            #expect(crashed.terminationReason == .uncaughtSignal && crashed.terminationStatus == SIGKILL, "step \(step)")
            let after = try Self.contents(of: sandbox.vault, passphrases: [sandbox.passphrase])
            let expectNew = step == "renamed" || step == "dir-synced"
            #expect(after["global/new"] == (expectNew ? Array("new-value".utf8) : nil), "step \(step)")
            #expect(after["global/kept"] == before["global/kept"])
            let next = sandbox.unlocked(["set", "next"], stdin: Array("n".utf8))
            #expect(next.status == 0)
            #expect(Self.temporaries(in: sandbox.work).isEmpty, "step \(step): a temporary file survived the next save")
        }
    }

    @Test func twentyWritersAtOnceLoseNothing() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        let args = ["--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile]
        let distinct = (0..<20).map { Self.startDirect(["set", "writer.\($0)"] + args, sandbox: sandbox, stdin: "value-\($0)") }
        distinct.forEach { $0.waitUntilExit() }
        let failures = distinct.filter { $0.terminationStatus != 0 }.count
        let contents = try Self.contents(of: sandbox.vault, passphrases: [sandbox.passphrase])
        let lost = (0..<20).filter { contents["global/writer.\($0)"] != Array("value-\($0)".utf8) }.count
        #expect(failures == 0 && lost == 0, "conflicts \(failures), lost updates \(lost)")

        sandbox.store("shared", "initial")
        let same = (0..<20).map { Self.startDirect(["set", "shared", "--overwrite"] + args, sandbox: sandbox, stdin: "shared-\($0)") }
        same.forEach { $0.waitUntilExit() }
        let succeeded = (0..<20).filter { same[$0].terminationStatus == 0 }
        let final = try Self.contents(of: sandbox.vault, passphrases: [sandbox.passphrase])["global/shared"]
        #expect(succeeded.count == 20)
        #expect(succeeded.contains { Array("shared-\($0)".utf8) == final })
        print("hardening: 40 concurrent writers served, \(failures + 20 - succeeded.count) conflicts, \(lost) lost updates")
    }

    @Test func errorPathsLeakNoSecret() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        let secret = "leak-canary-7f3a9c"
        sandbox.store("canary", secret)
        sandbox.store("hidden", secret + "-hidden", ["--no-reveal"])
        try "wrong\n".write(toFile: sandbox.root + "/wrong", atomically: true, encoding: .utf8)
        try "GOOD=1\nBAD \"\(secret)\n".write(toFile: sandbox.work + "/bad.env", atomically: true, encoding: .utf8)
        let vault = ["--vault", sandbox.vault]
        let runs: [[String]] = [
            ["get", "canary", "--passphrase-file", sandbox.root + "/wrong"] + vault,
            ["get", "missing", "--passphrase-file", sandbox.passphraseFile] + vault,
            ["get", "hidden", "--passphrase-file", sandbox.passphraseFile] + vault,
            ["list", "--values", "--passphrase-file", sandbox.passphraseFile] + vault,
            ["import", sandbox.work + "/bad.env", "--passphrase-file", sandbox.passphraseFile] + vault,
            ["set", "canary", "--passphrase-file", sandbox.passphraseFile] + vault,
            ["rotate", "--passphrase-file", sandbox.root + "/wrong"] + vault,
            ["get", "canary"] + vault,
            ["export", "--format", "json", "--passphrase-file", sandbox.passphraseFile] + vault,
        ]
        for args in runs {
            let result = sandbox.coffer(args, stdin: Array("other".utf8))
            #expect(!result.stderr.contains(secret), "\(args[0]) leaked a value on stderr")
            #expect(!result.stderr.contains(sandbox.passphrase), "\(args[0]) leaked the passphrase")
            if args[0] != "list" { #expect(!result.output.contains(secret), "\(args[0]) printed a value") }
        }
        // No file beside the vault or in the temp folder holds a value in the clear.
        for folder in [sandbox.work, NSTemporaryDirectory()] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name != "bad.env" {
                let path = folder + "/" + name
                guard let data = FileManager.default.contents(atPath: path), data.count < 16 << 20 else { continue }
                #expect(!String(decoding: data, as: UTF8.self).contains(secret), "\(path) holds a value in the clear")
            }
        }
        // A running coffer's argv and environment carry no value or passphrase.
        let input = Pipe()
        let running = Self.startDirect(
            ["set", "canary2"] + vault + ["--passphrase-file", sandbox.passphraseFile], sandbox: sandbox, stdinPipe: input)
        // Wait (with a deadline) until the child has exec'd coffer and is blocked reading its stdin.
        var cmdline = "", environ = ""
        let deadline = Date().addingTimeInterval(10)
        while !cmdline.contains("canary2") && Date() < deadline {
            cmdline = (try? String(contentsOfFile: "/proc/\(running.processIdentifier)/cmdline", encoding: .utf8)) ?? ""
            environ = (try? String(contentsOfFile: "/proc/\(running.processIdentifier)/environ", encoding: .utf8)) ?? ""
            usleep(2000)
        }
        input.fileHandleForWriting.write(Data(secret.utf8))
        try input.fileHandleForWriting.close()
        running.waitUntilExit()
        #expect(running.terminationStatus == 0)
        #expect(cmdline.contains("canary2"), "read the wrong process")
        #expect(!cmdline.contains(secret) && !cmdline.contains(sandbox.passphrase))
        #expect(!environ.contains(secret) && !environ.contains(sandbox.passphrase))
    }

    @Test func oversizedKDFIsRefusedBeforeAllocating() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("a", "b")
        var file = try VaultDecoder.decode(Array(FileManager.default.contents(atPath: sandbox.vault)!))
        guard case let .passphrase(salt, ops, _) = file.slots[0].kind else { Issue.record("no passphrase slot"); return }
        file.slots[0].kind = .passphrase(salt: salt, opsLimit: ops, memLimit: 1 << 40)
        let bytes = VaultEncoder.encode(file)
        _ = FileManager.default.createFile(atPath: sandbox.vault, contents: Data(bytes))
        let measured = CofferProcess.runShell(
            "/usr/bin/time -f 'peak %M' \"$0\" \"$@\"", ["get", "a", "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile],
            environment: sandbox.environment(), cwd: sandbox.work)
        #expect(measured.status == 4, "\(measured.stderr)")
        #expect(measured.stderr.contains("memlimit"))
        let peakKB = measured.stderr.split(separator: "\n").last { $0.hasPrefix("peak ") }.flatMap { Int($0.dropFirst(5)) } ?? Int.max
        #expect(peakKB < 64 * 1024, "peak \(peakKB) KB")
        print("hardening: oversized-KDF vault refused with peak memory \(peakKB) KB")
        #expect(FileManager.default.contents(atPath: sandbox.vault).map { [UInt8]($0) } == bytes)
    }
}
