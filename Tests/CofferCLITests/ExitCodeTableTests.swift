import Foundation
import Testing

/// Every row of the README's exit-code table, each through the built CLI, and the messages that
/// tell a new user what to do next.
@Suite struct ExitCodeTableTests {
    @Test func everyRowOfTheTable() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("pg.password", "exit-table-value")

        // 0 ok
        #expect(box.coffer(["list", "--vault", box.vault]).status == 0)
        // 1 usage or bad input
        box.expectFailure(1) { box.coffer(["get", "--vault", box.vault, "--no-such-flag"]) }
        box.expectFailure(1) { box.unlocked(["set", "bad name!"], stdin: Array("v".utf8)) }
        // 2 not found: an entry, a named vault, no vault at all
        box.expectFailure(2) { box.unlocked(["get", "missing"]) }
        let missing = box.work + "/elsewhere.coffer"
        box.expectFailure(2, vault: missing) { box.coffer(["list", "--vault", missing]) }
        // 3 authentication failed or no key
        let wrong = box.root + "/wrong"
        try box.write(wrong, "not the passphrase\n")
        box.expectFailure(3) { box.coffer(["get", "pg.password", "--vault", box.vault, "--passphrase-file", wrong]) }
        box.expectFailure(3) { box.coffer(["get", "pg.password", "--vault", box.vault]) }
        // 5 conflict: exists, no-reveal
        box.expectFailure(5) { box.unlocked(["set", "pg.password"], stdin: Array("other".utf8)) }
        box.store("hidden", "hidden-value", ["--no-reveal"])
        box.expectFailure(5) { box.unlocked(["get", "hidden"]) }
        // 6 I/O: a missing passphrase file is I/O, not a missing vault or entry
        let gone = box.expectFailure(6) { box.coffer(["get", "pg.password", "--vault", box.vault, "--passphrase-file", box.root + "/gone"]) }
        #expect(gone.stderr.contains("passphrase file"), "\(gone.stderr)")
        // 4 rolled back: an older copy restored over the vault; verify says the signature holds, and fails
        let older = box.bytes(box.vault)
        box.store("newer", "newer-value")
        try box.write(box.vault, older)
        let rolledBack = box.expectFailure(4) { box.coffer(["verify", "--vault", box.vault]) }
        #expect(rolledBack.stderr.contains("rollback") && rolledBack.output.contains("signature ok"), "\(rolledBack.stderr)")
        // 4 tampered: one byte of the signed part flipped
        var bytes = box.bytes(box.vault)
        bytes[bytes.count / 2] ^= 0x01
        try box.write(box.vault, bytes)
        box.expectFailure(4) { box.coffer(["list", "--vault", box.vault]) }
    }

    @Test func noVaultAnywhereSaysWhereItLookedAndHowToMakeOne() throws {
        let box = try Sandbox()
        let result = box.expectFailure(2, vault: box.vault) { box.coffer(["list"]) }
        #expect(result.stderr.contains("no vault here (looked in \(box.work)/secrets.coffer"), "\(result.stderr)")
        #expect(result.stderr.contains("create one with `coffer init`"), "\(result.stderr)")
    }

    @Test func initWithoutATerminalNamesItsRealFlags() throws {
        let box = try Sandbox()
        let result = box.expectFailure(3, vault: box.vault) { box.coffer(["init"]) }
        #expect(result.stderr.contains("--passphrase-file") && !result.stderr.contains("--new-passphrase-file"), "\(result.stderr)")
    }

    @Test func durationsAreValidatedWithTheirFormat() throws {
        let box = try Sandbox()
        box.makeVault()
        let bad = box.expectFailure(1) { box.unlocked(["unlock", "--ttl", "5x"]) }
        #expect(bad.stderr.contains("90s, 15m, 12h, 1d"), "\(bad.stderr)")
        let longer = box.expectFailure(1) { box.unlocked(["unlock", "--ttl", "1h", "--idle", "2h"]) }
        #expect(longer.stderr.contains("--idle"), "\(longer.stderr)")
    }
}
