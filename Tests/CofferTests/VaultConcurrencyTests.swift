import Coffer
import Testing

/// Writers take turns through the folder lock. These writers are threads of one process (flock
/// locks belong to open files, so threads contend as processes do); a test with several
/// `coffer` processes belongs with the CLI tests.
@Suite struct VaultConcurrencyTests {
    @Test func concurrentModificationsAllSurvive() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        _ = try makeVault(at: path, entries: [(.global, "counter", Array("0".utf8))])
        let writers = 8

        let errors = onThreads(writers) { writer in
            try Vault.modify(at: path, unlock: { try $0.unlock(passphrase: secure(testPassphrase)) }) { vault in
                let count = Int(String(decoding: try vault.value(for: "counter"), as: UTF8.self))!
                try vault.set("counter", value: Array(String(count + 1).utf8), overwrite: true)
                try vault.set("writer\(writer)", value: [UInt8(writer)])
            }
        }
        #expect(errors == [])

        let vault = try Vault.open(at: path)
        try vault.unlock(passphrase: secure(testPassphrase))
        var expected = ["//counter": Array(String(writers).utf8)]
        for writer in 0..<writers { expected["//writer\(writer)"] = [UInt8(writer)] }
        #expect(try readableValues(vault) == expected)
        #expect(vault.generation == UInt64(2 + writers))
    }

    @Test func racingSavesWithoutTheLockConflictInsteadOfLosingUpdates() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        _ = try makeVault(at: path, entries: [])
        let writers = 6

        let errors = onThreads(writers) { writer in
            let vault = try Vault.open(at: path)
            try vault.unlock(passphrase: secure(testPassphrase))
            try vault.set("writer\(writer)", value: [UInt8(writer)])
            try vault.save()
        }
        let vault = try Vault.open(at: path)
        #expect(errors.allSatisfy { $0.contains("conflict") }, "\(errors)")
        #expect(vault.entries.count + errors.count == writers, "every save either landed or reported a conflict")
        #expect(vault.entries.count >= 1)
    }
}
