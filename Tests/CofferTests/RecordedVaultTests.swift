@testable import Coffer
import Foundation
import Testing

/// A vault read through a verified file state (`VerifiedRead`) holds only the entries it was
/// opened for: a change to it is refused with one clear error, and the file stays as it was.
@Suite struct RecordedVaultTests {
    /// The vault at `path` read through a record of its current state, as `VerifiedRead` does
    /// when a session holds one; the record's clock is set ahead so the state is not racy.
    static func readThroughRecord(_ path: String, lookups: [(name: String, scope: Scope)]) throws -> Vault {
        let file = try OpenFile(path)
        let index = try Vault.checkAndVerify(try file.readAll(limit: Int.max), path: path)
        let now = FileTime.now()
        let record = VerifiedState(
            made: FileTime(seconds: now.seconds + 60, nanoseconds: 0), file: file.state, vaultID: index.header.vaultID,
            generation: index.header.generation, signature: index.header.signature,
            entriesStart: UInt64(index.entriesStart), entryCount: UInt64(index.entryCount),
            checkpoints: index.entryOffsets(every: VerifiedState.stride).map(UInt64.init), path: path)
        let recorded = try #require(try RecordedIndex(path: path, record: record, lookups: lookups))
        return Vault(path: path, index: .recorded(recorded))
    }

    @Test func aChangeToAVaultReadThroughItsRecordIsRefusedAndTheFileKept() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        _ = try makeVault(at: path, entries: [(.global, "pg.password", Array("hunter2".utf8))])
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        let vault = try Self.readThroughRecord(path, lookups: [("pg.password", .global)])
        try vault.unlock(passphrase: secure(testPassphrase))
        #expect(try vault.value(for: "pg.password") == Array("hunter2".utf8))
        let refusal = CofferError.invalidArgument("this vault was read for a few entries only: open it with Vault.open(at:) to change it")
        #expect(throws: refusal) { try vault.set("other", value: Array("x".utf8)) }
        #expect(throws: refusal) { try vault.rotate() }
        #expect(throws: refusal) { try vault.save() }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
}
