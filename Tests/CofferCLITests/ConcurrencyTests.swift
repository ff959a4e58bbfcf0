import Foundation
import Testing

/// Several `coffer` processes writing one vault at the same moment.
@Suite struct ConcurrencyTests {
    @Test func concurrentSetProcessesLoseNoUpdate() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("before", "present-before-the-race")
        let count = 10
        // Each child reads its value from a pipe, so all of them start, open their stdin and wait;
        // closing the pipes releases them together into unlock, lock, read, write.
        var pipes: [Pipe] = []
        var children: [Running] = []
        for index in 0..<count {
            let pipe = Pipe()
            pipes.append(pipe)
            children.append(CofferProcess.start(
                ["set", "racer\(index)", "--vault", box.vault, "--passphrase-file", box.passphraseFile],
                stdin: .pipe(pipe), environment: box.environment(), cwd: box.work))
        }
        for (index, pipe) in pipes.enumerated() {
            pipe.fileHandleForWriting.write(Data("racer-value-\(index)\n".utf8))
        }
        for pipe in pipes { try pipe.fileHandleForWriting.close() }
        let results = children.map { $0.wait() }
        for (index, result) in results.enumerated() {
            #expect(result.status == 0, "racer\(index): \(result.stderr)")
        }

        #expect(try box.names() == ["before"] + (0..<count).map { "racer\($0)" }.sorted())
        for index in 0..<count {
            #expect(box.value("racer\(index)") == "racer-value-\(index)")
        }
        #expect(box.value("before") == "present-before-the-race")
        let verify = box.unlocked(["verify"])
        #expect(verify.output == "signature ok (generation \(count + 2)); \(count + 1) of \(count + 1) values open and verify\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: box.work).filter { $0 != "secrets.coffer" }
        #expect(leftovers.isEmpty)
    }

    @Test func concurrentMixedWritersKeepEveryChange() throws {
        let box = try Sandbox()
        box.makeVault()
        for index in 0..<4 { box.store("old\(index)", "old-value-\(index)") }
        try box.write(box.work + "/batch.env", "BATCH_A=batch-a\nBATCH_B=batch-b\n")
        let common = ["--vault", box.vault, "--passphrase-file", box.passphraseFile]
        let commands: [[String]] = [
            ["generate", "gen0"], ["generate", "gen1"], ["delete", "old0", "old1"], ["import", "batch.env"],
            ["set", "inline", "--value", "inline-value"], ["delete", "old2"], ["generate", "gen2", "--length", "8"],
        ]
        let children = commands.map {
            CofferProcess.start($0 + common, stdin: .none, environment: box.environment(), cwd: box.work)
        }
        for (command, result) in zip(commands, children.map { $0.wait() }) {
            #expect(result.status == 0, "\(command): \(result.stderr)")
        }
        #expect(try box.names() == ["BATCH_A", "BATCH_B", "gen0", "gen1", "gen2", "inline", "old3"])
        #expect(box.value("gen2")?.count == 8)
    }

    /// `import` seals outside the folder's lock: another writer that saves between the seal and
    /// the lock (run there by a debug-only hook, so the order is fixed) keeps its update, and the
    /// import lands on the newer file.
    @Test func importKeepsAWriteBetweenItsSealAndItsLock() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("before", "present-before-the-import")
        try box.write(box.work + "/batch.env", "BATCH_A=batch-a-value\nBATCH_B=batch-b-value\n")
        let result = box.coffer(
            ["import", "batch.env", "--vault", box.vault, "--passphrase-file", box.passphraseFile],
            environment: ["COFFER_TEST_AFTER_IMPORT_SEAL": Self.concurrentSet("concurrent", "concurrent-value", box)])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try box.names() == ["BATCH_A", "BATCH_B", "before", "concurrent"])
        #expect(box.value("concurrent") == "concurrent-value")
        #expect(box.value("BATCH_B") == "batch-b-value")
        #expect(box.unlocked(["verify"]).output == "signature ok (generation 4); 4 of 4 values open and verify\n")
    }

    /// A name the other writer adds meanwhile is a clash found under the lock: conflict, and
    /// nothing of the import lands.
    @Test func importRefusesANameAddedBetweenItsSealAndItsLock() throws {
        let box = try Sandbox()
        box.makeVault()
        try box.write(box.work + "/batch.env", "BATCH_A=batch-a-value\nBATCH_B=batch-b-value\n")
        let result = box.coffer(
            ["import", "batch.env", "--vault", box.vault, "--passphrase-file", box.passphraseFile],
            environment: ["COFFER_TEST_AFTER_IMPORT_SEAL": Self.concurrentSet("BATCH_B", "written-first", box)])
        #expect(result.status == 5)
        #expect(result.stderr == "coffer: batch.env:2: BATCH_B already exists (global); use --overwrite to replace it\n")
        #expect(try box.names() == ["BATCH_B"])
        #expect(box.value("BATCH_B") == "written-first")
    }

    /// A shell command that sets `name` to `value` in the sandbox's vault.
    private static func concurrentSet(_ name: String, _ value: String, _ box: Sandbox) -> String {
        "printf '\(value)' | '\(CofferProcess.executable)' set \(name) --vault '\(box.vault)' --passphrase-file '\(box.passphraseFile)'"
    }
}
