@testable import Coffer
import CofferCodec
import CofferRotation
import Testing

/// What a save checks of the file it is about to write, beyond its signature.
@Suite struct SaveChecksTests {
    @Test func aForgedKeyChainLinkForTheNextSaveIsRefusedBeforeItIsWritten() throws {
        // A re-key's link that does not verify under the key before it would make a file that
        // no reader opens (a forged or broken link): the save checks the link it adds.
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: [(.global, "a", Array("1".utf8))])
        let (rekeyed, _) = try Rotation.rekey(vault.entryIndex, from: try #require(vault.keyGrant))
        var next = rekeyed.header
        next.generation += 1  // as the save that writes it
        try Vault.verifyNewLink(of: next)

        var forged = next
        forged.keyChain.links[forged.keyChain.links.count - 1].signature[0] ^= 1
        #expect(throws: CofferError.tampered(part: "key chain")) { try Vault.verifyNewLink(of: forged) }
        // A link of an earlier save was checked when the file was read: not again here.
        var later = forged
        later.generation += 1
        try Vault.verifyNewLink(of: later)
    }
}
