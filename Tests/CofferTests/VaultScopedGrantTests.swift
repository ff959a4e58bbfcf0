import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Testing

/// Scoped slots (§3.3): a grant opens exactly the scopes a reader of its scope sees.
@Suite struct VaultScopedGrantTests {
    static let entries: [(scope: Scope, name: String, value: [UInt8])] = [
        (.global, "shared", [1]), (Scope(project: "web"), "w", [2]), (Scope(domain: "prod"), "p", [3]),
        (Scope(project: "web", domain: "prod"), "wp", [4]), (Scope(project: "web", domain: "dev"), "wd", [5]),
        (Scope(project: "api"), "a", [6]), (Scope(project: "api", domain: "prod"), "ap", [7]), (Scope(domain: "dev"), "d", [8]),
    ]

    /// A vault holding `entries`, plus a recipient slot scoped to `scope` for a new identity.
    static func vault(grantingScope scope: Scope, in directory: TemporaryDirectory) throws -> (path: String, identity: SecureBytes) {
        let vault = try makeVault(at: directory.file("v.coffer"), entries: entries)
        let identity = X25519.generateSecretKey()
        try vault.addRecipientSlot(try X25519.publicKey(for: identity), label: "ci", scope: scope)
        try vault.save()
        return (vault.path, identity)
    }

    static func readable(_ scope: Scope) throws -> [String: [UInt8]] {
        let directory = try TemporaryDirectory()
        let (path, identity) = try vault(grantingScope: scope, in: directory)
        let reader = try Vault.open(at: path)
        try reader.unlock(identities: [identity])
        #expect(reader.unlockedSlot?.scope == scope)
        #expect(reader.isUnlocked && !reader.canWrite)
        #expect(throws: CofferError.keyUnavailable("this key can read but not write the vault")) { try reader.set("x", value: [9]) }
        #expect(throws: KeyError.masterKeyRequired) { try reader.keyGrant?.signingKey() }
        for entry in entries where !scope.visibleScopes.contains(entry.scope) {
            #expect(throws: CofferError.keyUnavailable("the key in hand does not grant scope \(entry.scope)")) {
                try reader.value(for: entry.name, in: entry.scope)
            }
        }
        return try readableValues(reader)
    }

    @Test func grantForWebProdOpensWebProdWebProdAndGlobalButNotWebDevOrOtherProjects() throws {
        #expect(try Self.readable(Scope(project: "web", domain: "prod"))
            == ["web/prod/wp": [4], "web//w": [2], "/prod/p": [3], "//shared": [1]])
    }

    @Test func grantForAProjectOpensThatProjectAndGlobalOnly() throws {
        #expect(try Self.readable(Scope(project: "web")) == ["web//w": [2], "//shared": [1]])
    }

    @Test func grantForADomainOpensThatDomainAndGlobalOnly() throws {
        #expect(try Self.readable(Scope(domain: "prod")) == ["/prod/p": [3], "//shared": [1]])
    }

    @Test func fullHolderStillReadsEverything() throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try Self.vault(grantingScope: Scope(project: "web", domain: "prod"), in: directory)
        let vault = try Vault.open(at: path)
        try vault.unlock(passphrase: secure(testPassphrase))
        #expect(try readableValues(vault).count == Self.entries.count)
    }
}
