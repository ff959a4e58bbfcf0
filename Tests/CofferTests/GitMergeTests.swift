import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Foundation
import Testing

/// Versions of one vault as git holds them: each a copy of another, changed through the Vault
/// API and saved, all in one temporary folder. Timestamps are fixed, so two versions differ only
/// by what a test changed (and by fresh nonces).
private final class Versions {
    static let now: UInt64 = 1_700_000_000
    let folder: TemporaryDirectory
    private var count = 0

    init() throws {
        folder = try TemporaryDirectory()
    }

    private func nextPath() -> String {
        count += 1
        return folder.file("v\(count).coffer")
    }

    /// A new vault (passphrase `testPassphrase`) holding `entries` (name, scope, value).
    func base(_ entries: [(String, Scope, String)] = []) throws -> Vault {
        let vault = try Vault.create(at: nextPath(), passphrase: secure(testPassphrase), kdf: testKDF)
        vault.clock = { Versions.now }
        for (name, scope, value) in entries { try vault.set(name, value: Array(value.utf8), in: scope) }
        try vault.save()
        return vault
    }

    /// A copy of `vault` at a new path, unlocked with its key, changed by `change` and saved.
    func derive(_ vault: Vault, _ change: (Vault) throws -> Void = { _ in }) throws -> Vault {
        let path = nextPath()
        try writeBytes(try readBytes(vault.path), to: path)
        let copy = try Vault.open(at: path)
        try copy.unlock(grant: vault.keyGrant!, slot: vault.unlockedSlot)
        copy.clock = { Versions.now }
        try change(copy)
        if copy.hasUnsavedChanges { try copy.save() }
        return copy
    }

    /// `GitMerge.merge` over the three versions, each with the key it was written with.
    func merge(
        _ base: Vault?, _ ours: Vault, _ theirs: Vault, resolve: (GitMerge.Item) -> GitMerge.Choice? = { _ in nil }
    ) throws -> GitMerge.Outcome {
        try GitMerge.merge(
            base: base?.file, ours: GitMerge.Side(file: ours.file, grant: ours.keyGrant),
            theirs: GitMerge.Side(file: theirs.file, grant: theirs.keyGrant), resolve: resolve)
    }

    /// The merged vault as the driver writes it (over a copy of OURS), opened again from disk
    /// (signature verified) and unlocked with the result's key.
    func written(_ outcome: GitMerge.Outcome, over ours: Vault, sourceLocation: SourceLocation = #_sourceLocation) throws -> Vault {
        guard case let .merged(file, grant) = outcome else {
            Issue.record("expected a merge, got \(outcome)", sourceLocation: sourceLocation)
            throw CofferError.conflict("no merge")
        }
        let path = nextPath()
        try writeBytes(try readBytes(ours.path), to: path)
        try Vault.replace(at: path, with: file, grant: grant)
        let result = try Vault.open(at: path)
        try result.unlock(grant: grant)
        return result
    }

    /// The conflicts' descriptions, or a recorded issue when the merge went through.
    func conflicts(_ outcome: GitMerge.Outcome, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        guard case let .conflicts(conflicts) = outcome else {
            Issue.record("expected conflicts, got a merge", sourceLocation: sourceLocation)
            return []
        }
        return conflicts.map(\.description)
    }
}

/// Every value in an unlocked vault, keyed by `scope/name`.
private func values(_ vault: Vault) throws -> [String: String] {
    var result: [String: String] = [:]
    for entry in vault.entries {
        result["\(entry.scope)/\(entry.name)"] = String(decoding: try vault.value(for: entry.name, in: entry.scope), as: UTF8.self)
    }
    return result
}

private let shop = Scope(project: "shop")

/// Specs/git.md, the merge table, row by row for an entry, and the rules for slots and keys.
@Suite struct GitMergeTests {
    /// What one version holds for the entry under test, `shop`/`a`.
    enum State: String, Sendable {
        case absent = "—", x, y, yPrime = "y'"
        /// y with the very bytes OURS has (this version was made from OURS).
        case oursBytes = "y (OURS' bytes)"

        var value: String? {
            switch self {
            case .absent: nil
            case .x: "value-x"
            case .y, .oursBytes: "value-y"
            case .yPrime: "value-y-prime"
            }
        }
    }

    enum Expected: Sendable, Equatable {
        case value(String)
        case deleted
        case conflict(String)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let base: State, ours: State, theirs: State
        let expected: Expected
        var testDescription: String { "\(base.rawValue) | \(ours.rawValue) | \(theirs.rawValue)" }
    }

    static let rows: [Row] = [
        Row(base: .x, ours: .x, theirs: .x, expected: .value("value-x")),
        Row(base: .x, ours: .x, theirs: .y, expected: .value("value-y")),
        Row(base: .x, ours: .y, theirs: .x, expected: .value("value-y")),
        Row(base: .x, ours: .y, theirs: .yPrime, expected: .conflict("ours changed, theirs changed")),
        Row(base: .x, ours: .y, theirs: .oursBytes, expected: .value("value-y")),
        Row(base: .absent, ours: .y, theirs: .absent, expected: .value("value-y")),
        Row(base: .absent, ours: .absent, theirs: .y, expected: .value("value-y")),
        Row(base: .absent, ours: .y, theirs: .oursBytes, expected: .value("value-y")),
        Row(base: .absent, ours: .y, theirs: .yPrime, expected: .conflict("ours added, theirs added")),
        Row(base: .x, ours: .absent, theirs: .x, expected: .deleted),
        Row(base: .x, ours: .x, theirs: .absent, expected: .deleted),
        Row(base: .x, ours: .absent, theirs: .absent, expected: .deleted),
        Row(base: .x, ours: .absent, theirs: .y, expected: .conflict("ours deleted, theirs changed")),
        Row(base: .x, ours: .y, theirs: .absent, expected: .conflict("ours changed, theirs deleted")),
    ]

    private static func apply(_ state: State, to vault: Vault) throws {
        switch state {
        case .x, .oursBytes: break  // already there: from the base, or from OURS
        case .y, .yPrime: try vault.set("a", value: Array(state.value!.utf8), in: shop, overwrite: true)
        case .absent: if vault.entry("a", in: shop) != nil { try vault.remove("a", in: shop) }
        }
    }

    /// Each row, with both sides under the base's key and with OURS re-keyed (`rotate`) after its
    /// change: the same outcome either way, and the result is sealed under the newer key.
    @Test(arguments: rows, [false, true])
    func entryRow(_ row: Row, oursRekeyed: Bool) throws {
        let versions = try Versions()
        let base = try versions.base([("keep", .global, "keep-value")] + (row.base == .x ? [("a", shop, "value-x")] : []))
        let oursChanged = try versions.derive(base) { vault in
            try Self.apply(row.ours, to: vault)
            try vault.set("ours.only", value: Array("ours-only-value".utf8))
        }
        let theirs = try versions.derive(row.theirs == .oursBytes ? oursChanged : base) { vault in
            try Self.apply(row.theirs, to: vault)
            try vault.set("theirs.only", value: Array("theirs-only-value".utf8))
        }
        let ours = oursRekeyed ? try versions.derive(oursChanged) { try $0.rotate() } : oursChanged

        let outcome = try versions.merge(base, ours, theirs)
        let common = ["global/keep": "keep-value", "global/ours.only": "ours-only-value", "global/theirs.only": "theirs-only-value"]
        switch row.expected {
        case let .value(value):
            let result = try versions.written(outcome, over: ours)
            #expect(try values(result) == common.merging(["project=shop/a": value]) { $1 })
            #expect(result.file.keyChain == ours.file.keyChain)
            #expect(result.generation == max(ours.generation, theirs.generation) + 1)
        case .deleted:
            #expect(try values(versions.written(outcome, over: ours)) == common)
        case let .conflict(change):
            #expect(versions.conflicts(outcome) == ["entry project=shop/a: \(change)"])
            // `resolve` takes the chosen side for the conflict, and merges the rest as usual.
            for (choice, state) in [(GitMerge.Choice.ours, row.ours), (.theirs, row.theirs)] {
                let resolved = try versions.written(versions.merge(base, ours, theirs) { _ in choice }, over: ours)
                #expect(try values(resolved) == common.merging(state.value.map { ["project=shop/a": $0] } ?? [:]) { $1 })
            }
        }
    }

    /// "The same" under one key is equal bytes: both sides storing the same value separately
    /// (new nonces) conflict. Across a re-key it is equal metadata and opened values: no conflict.
    @Test func sameValueSetOnBothSides() throws {
        let versions = try Versions()
        let base = try versions.base([("a", shop, "value-x")])
        let set: (Vault) throws -> Void = { try $0.set("a", value: Array("value-y".utf8), in: shop, overwrite: true) }
        let ours = try versions.derive(base, set), theirs = try versions.derive(base, set)
        #expect(versions.conflicts(try versions.merge(base, ours, theirs)) == ["entry project=shop/a: ours changed, theirs changed"])

        let rekeyed = try versions.derive(ours) { try $0.rotate() }
        #expect(try values(versions.written(versions.merge(base, rekeyed, theirs), over: rekeyed)) == ["project=shop/a": "value-y"])
        // Metadata counts too: another description is a change.
        let described = try versions.derive(base) {
            try $0.set("a", value: Array("value-y".utf8), in: shop, overwrite: true, description: "other")
        }
        #expect(versions.conflicts(try versions.merge(base, rekeyed, described)) == ["entry project=shop/a: ours changed, theirs changed"])
    }

    @Test func theResultIsNotWrittenOverAFileThatChangedSinceTheMergeReadIt() throws {
        let versions = try Versions()
        let base = try versions.base([("a", shop, "value-x")])
        let ours = try versions.derive(base) { try $0.set("b", value: Array("ours".utf8)) }
        let theirs = try versions.derive(base) { try $0.set("c", value: Array("theirs".utf8)) }
        guard case let .merged(file, grant) = try versions.merge(base, ours, theirs) else {
            Issue.record("expected a merge")
            return
        }
        let read = ours.signature
        // Someone writes OURS between the merge's read and its write.
        try ours.set("d", value: Array("meanwhile".utf8))
        try ours.save()
        let before = try readBytes(ours.path)
        #expect(throws: CofferError.self) {
            try Vault.replace(at: ours.path, with: file, grant: grant, expectedSignature: read)
        }
        #expect(try readBytes(ours.path) == before)
        try Vault.replace(at: ours.path, with: file, grant: grant, expectedSignature: ours.signature)
        #expect(try Vault.open(at: ours.path).entryCount == 3)
    }

    /// `resolve` answers per item: the items it leaves nil stay conflicts.
    @Test func resolveOnlyTheNamedItem() throws {
        let versions = try Versions()
        let base = try versions.base([("a", .global, "a0"), ("b", .global, "b0")])
        let ours = try versions.derive(base) {
            try $0.set("a", value: Array("a-ours".utf8), overwrite: true)
            try $0.set("b", value: Array("b-ours".utf8), overwrite: true)
        }
        let theirs = try versions.derive(base) {
            try $0.set("a", value: Array("a-theirs".utf8), overwrite: true)
            try $0.set("b", value: Array("b-theirs".utf8), overwrite: true)
        }
        let partly = try versions.merge(base, ours, theirs) { $0.description == "entry global/a" ? .theirs : nil }
        #expect(versions.conflicts(partly) == ["entry global/b: ours changed, theirs changed"])
        let both = try versions.merge(base, ours, theirs) { $0.description == "entry global/a" ? .theirs : .ours }
        #expect(try values(versions.written(both, over: ours)) == ["global/a": "a-theirs", "global/b": "b-ours"])
    }

    /// git's empty base (no common ancestor) is the empty vault: what both sides hold alike is
    /// "added on both, same".
    @Test func missingBaseIsTheEmptyVault() throws {
        let versions = try Versions()
        let start = try versions.base([("keep", .global, "keep-value")])
        let ours = try versions.derive(start) { try $0.set("a", value: Array("a-value".utf8)) }
        let theirs = try versions.derive(start) {
            try $0.set("b", value: Array("b-value".utf8))
            try $0.set("keep", value: Array("changed".utf8), overwrite: true)
        }
        let result = try versions.written(versions.merge(nil, ours, ours), over: ours)
        #expect(try values(result) == ["global/keep": "keep-value", "global/a": "a-value"])
        #expect(versions.conflicts(try versions.merge(nil, ours, theirs)) == ["entry global/keep: ours added, theirs added"])
        let merged = try versions.merge(nil, ours, theirs) { _ in .theirs }
        #expect(try values(versions.written(merged, over: ours)) == ["global/keep": "changed", "global/a": "a-value", "global/b": "b-value"])
    }

    // MARK: Slots

    /// A slot added on one side (recipient or passphrase) and a secret on the other: the result
    /// has both, and the new slot opens it, the other side's entry included.
    @Test(arguments: [false, true])
    func slotAddedOnOneSide(onTheirs: Bool) throws {
        let versions = try Versions()
        let base = try versions.base([("keep", .global, "keep-value")])
        let identity = Identity.generate()
        let withSlots = try versions.derive(base) {
            try $0.addRecipientSlot(identity.recipient.publicKey, label: "bob")
            try $0.addPassphraseSlot(secure("second passphrase"), kdf: testKDF, label: "carol")
        }
        let withSecret = try versions.derive(base) { try $0.set("new", value: Array("new-value".utf8)) }
        let ours = onTheirs ? withSecret : withSlots, theirs = onTheirs ? withSlots : withSecret
        let result = try versions.written(versions.merge(base, ours, theirs), over: ours)
        #expect(result.slots.map(\.id).sorted() == withSlots.slots.map(\.id).sorted())
        #expect(result.slots.map(\.label).sorted() == ["bob", "carol", "passphrase"])

        let byIdentity = try Vault.open(at: result.path)
        try byIdentity.unlock(identities: [identity.secretKey])
        #expect(try values(byIdentity) == ["global/keep": "keep-value", "global/new": "new-value"])
        let byPassphrase = try Vault.open(at: result.path)
        try byPassphrase.unlock(passphrase: secure("second passphrase"))
        #expect(try values(byPassphrase) == ["global/keep": "keep-value", "global/new": "new-value"])
    }

    /// Slots are keyed by id: two slots added on the two sides are both kept; a slot removed on
    /// one side (without re-key) and unchanged on the other is removed; a passphrase changed on
    /// one side is taken.
    @Test func slotsAddedRemovedAndChangedOnOneSide() throws {
        let versions = try Versions()
        let base = try versions.derive(try versions.base()) {
            try $0.addPassphraseSlot(secure("old second"), kdf: testKDF, label: "second")
        }
        let second = try #require(base.slots.first { $0.label == "second" }).id
        let first = try #require(base.slots.first { $0.label == "passphrase" }).id
        let ours = try versions.derive(base) {
            try $0.addRecipientSlot(Identity.generate().recipient.publicKey, label: "ours-recipient")
            try $0.removeSlot(second, rekey: false)
        }
        let theirs = try versions.derive(base) {
            try $0.addRecipientSlot(Identity.generate().recipient.publicKey, label: "theirs-recipient")
            try $0.changePassphrase(slot: first, to: secure("new first"), kdf: testKDF)
        }
        let result = try versions.written(versions.merge(base, ours, theirs), over: ours)
        #expect(result.slots.map(\.label).sorted() == ["ours-recipient", "passphrase", "theirs-recipient"])
        let reopened = try Vault.open(at: result.path)
        #expect(throws: CofferError.authenticationFailed) { try reopened.unlock(passphrase: secure(testPassphrase)) }
        #expect(throws: CofferError.authenticationFailed) { try reopened.unlock(passphrase: secure("old second")) }
        try reopened.unlock(passphrase: secure("new first"))
        #expect(reopened.unlockedSlot?.id == first)
    }

    /// A slot changed on both sides, or deleted on one and changed on the other, conflicts; the
    /// conflict names the slot id.
    @Test func slotConflicts() throws {
        let versions = try Versions()
        let base = try versions.derive(try versions.base()) {
            try $0.addPassphraseSlot(secure("second"), kdf: testKDF, label: "second")
        }
        let first = try #require(base.slots.first { $0.label == "passphrase" }).id
        let second = try #require(base.slots.first { $0.label == "second" }).id
        let changedOurs = try versions.derive(base) { try $0.changePassphrase(slot: first, to: secure("ours"), kdf: testKDF) }
        let changedTheirs = try versions.derive(base) { try $0.changePassphrase(slot: first, to: secure("theirs"), kdf: testKDF) }
        #expect(versions.conflicts(try versions.merge(base, changedOurs, changedTheirs))
            == ["slot \(Slot.idText(first)): ours changed, theirs changed"])
        let resolved = try versions.written(versions.merge(base, changedOurs, changedTheirs) { _ in .theirs }, over: changedOurs)
        try Vault.open(at: resolved.path).unlock(passphrase: secure("theirs"))

        let removedOurs = try versions.derive(base) { try $0.removeSlot(first, rekey: false) }
        #expect(versions.conflicts(try versions.merge(base, removedOurs, changedTheirs))
            == ["slot \(Slot.idText(first)): ours deleted, theirs changed"])

        // Each side removing a different slot would leave none: refused.
        let removedTheirs = try versions.derive(base) { try $0.removeSlot(second, rekey: false) }
        #expect(throws: CofferError.conflict("the merge would leave the vault without a slot that opens all of it")) {
            try versions.merge(base, removedOurs, removedTheirs)
        }
    }

    // MARK: Keys of the result

    /// One side re-keyed (rotate), the other added and changed secrets: the result uses the
    /// newer key and chain, everything taken from the other side is re-sealed under it, and the
    /// old master key opens nothing in it.
    /// A slot added on the side whose key the other side replaced could be a revoked party's way
    /// back in: it is a conflict until a resolve takes it explicitly.
    @Test func slotAddedUnderTheReplacedKeyNeedsAnExplicitResolve() throws {
        let versions = try Versions()
        let base = try versions.base([("a", .global, "a0")])
        let rotated = try versions.derive(base) { try $0.rotate() }
        let stale = try versions.derive(base) { try $0.addRecipientSlot(Identity.generate().recipient.publicKey) }
        guard case let .conflicts(conflicts) = try versions.merge(base, rotated, stale) else {
            Issue.record("a slot added under the replaced key merged silently")
            return
        }
        #expect(conflicts.map(\.theirs) == ["added or changed under the replaced key"])
        let resolved = try versions.merge(base, rotated, stale) { _ in .theirs }
        guard case let .merged(file, _) = resolved else { Issue.record("an explicit resolve did not merge"); return }
        #expect(file.slots.count == 2)
        #expect(file.keyChain == rotated.file.keyChain)
        // Keeping our re-keyed side (`resolve --ours`, every item) keeps the stale slot out.
        guard case let .merged(kept, _) = try versions.merge(base, rotated, stale, resolve: { _ in .ours }) else {
            Issue.record("resolving with our side did not merge")
            return
        }
        #expect(kept.slots.map(\.id) == rotated.file.slots.map(\.id))
    }

    @Test(arguments: [false, true])
    func resultUsesTheNewerKey(rotatedOnTheirs: Bool) throws {
        let versions = try Versions()
        let base = try versions.base([("a", .global, "a0"), ("b", shop, "b0")])
        let rotated = try versions.derive(base) { try $0.rotate() }
        let changed = try versions.derive(base) {
            try $0.set("a", value: Array("a1".utf8), overwrite: true)
            try $0.set("c", value: Array("c1".utf8), in: shop)
        }
        let ours = rotatedOnTheirs ? changed : rotated, theirs = rotatedOnTheirs ? rotated : changed
        let outcome = try versions.merge(base, ours, theirs)
        guard case let .merged(file, _) = outcome else { Issue.record("no merge"); return }
        #expect(file.generation == max(ours.generation, theirs.generation))
        let result = try versions.written(outcome, over: ours)
        #expect(result.generation == max(ours.generation, theirs.generation) + 1)
        #expect(result.file.keyChain == rotated.file.keyChain)
        #expect(result.file.keyChain.links.count == 1)
        #expect(try values(result) == ["global/a": "a1", "project=shop/b": "b0", "project=shop/c": "c1"])
        #expect(result.slots.count == 1)

        let oldGrant = try #require(base.keyGrant)
        for entry in result.file.entries {
            #expect(throws: KeyError.self) { try EntryCipher(vaultID: result.vaultID, grant: oldGrant).open(entry) }
        }
        for slot in result.file.slots where slot.kind == .recipient {
            #expect(slot.wrapped != changed.file.slots.first { $0.id == slot.id }?.wrapped)
        }
        // Every slot opens to the new key: the base's passphrase slot re-wrapped on either side.
        try Vault.open(at: result.path).unlock(passphrase: secure(testPassphrase))
    }

    /// A recipient removed with re-key on one side while the other adds a secret: the secret,
    /// added under the key the revocation replaced, is a conflict taken only by naming it; then
    /// the removed recipient opens nothing in the result, and the old master key it may have
    /// kept does not open the new secret.
    @Test(arguments: [false, true])
    func removedRecipientCannotReadTheResult(removedOnTheirs: Bool) throws {
        let versions = try Versions()
        let mallory = Identity.generate()
        let base = try versions.derive(try versions.base([("a", .global, "a0")])) {
            try $0.addRecipientSlot(mallory.recipient.publicKey, label: "mallory")
        }
        let slot = try #require(base.slots.first { $0.label == "mallory" }).id
        let removed = try versions.derive(base) { try $0.removeSlot(slot) }
        let added = try versions.derive(base) { try $0.set("new", value: Array("new-value".utf8)) }
        let ours = removedOnTheirs ? added : removed, theirs = removedOnTheirs ? removed : added
        let staleChange = "added under a key the other side's revocation replaced", revocation = "removed a slot (re-keyed)"
        #expect(versions.conflicts(try versions.merge(base, ours, theirs))
            == ["entry global/new: ours \(removedOnTheirs ? staleChange : revocation), theirs \(removedOnTheirs ? revocation : staleChange)"])
        let staleSide: GitMerge.Choice = removedOnTheirs ? .ours : .theirs
        #expect(versions.conflicts(try versions.merge(base, ours, theirs, resolve: GitMerge.resolution(staleSide, names: []))).count == 1)
        let result = try versions.written(versions.merge(base, ours, theirs, resolve: GitMerge.resolution(staleSide, names: ["new"])), over: ours)
        #expect(try values(result) == ["global/a": "a0", "global/new": "new-value"])
        #expect(!result.slots.contains { $0.id == slot })
        let asMallory = try Vault.open(at: result.path)
        #expect(throws: CofferError.authenticationFailed) { try asMallory.unlock(identities: [mallory.secretKey]) }
        let oldGrant = try #require(base.keyGrant)
        let new = try #require(result.file.entries.first { $0.name == "new" })
        #expect(throws: KeyError.self) { try EntryCipher(vaultID: result.vaultID, grant: oldGrant).open(new) }
    }

    /// Both branches re-keyed independently: neither chain holds the other's key, so no side
    /// is newer and the merge refuses.
    @Test func bothRekeyedIsRefused() throws {
        let versions = try Versions()
        let base = try versions.base([("a", .global, "a0")])
        let ours = try versions.derive(base) { try $0.rotate() }
        let theirs = try versions.derive(base) { try $0.rotate() }
        #expect(throws: CofferError.conflict("both branches re-keyed the vault independently; merge one rotation first and rotate again")) {
            try versions.merge(base, ours, theirs)
        }
        // A side whose chain extends the other's is newer: its key wins.
        let again = try versions.derive(ours) { try $0.rotate() }
        let result = try versions.written(versions.merge(base, ours, again), over: ours)
        #expect(result.file.keyChain == again.file.keyChain)
    }

    /// The three versions must be one vault, and both sides' master keys must be in hand.
    @Test func refusesOtherVaultsAndMissingKeys() throws {
        let versions = try Versions()
        let base = try versions.base([("a", .global, "a0")])
        let ours = try versions.derive(base) { try $0.set("b", value: [1]) }
        let stranger = try versions.base([("a", .global, "a0")])
        #expect(throws: CofferError.conflict("the three versions are not the same vault (different vault ids)")) {
            try versions.merge(base, ours, stranger)
        }
        #expect(throws: CofferError.conflict("the three versions are not the same vault (different vault ids)")) {
            try versions.merge(stranger, ours, base)
        }
        let locked = try Vault.open(at: base.path)
        #expect(throws: CofferError.keyUnavailable("merging needs the master key of both sides")) {
            try versions.merge(base, ours, locked)
        }
    }
    // MARK: Attacks on the merge (issue 18)

    /// Replayed: an old copy restored on a branch (its generation below the base's), on either
    /// side; a fork (the base's generation, other content); a chain that does not extend the
    /// base's (a copy from before a rotation). Refused before any key is used.
    @Test func sidesThatDoNotDescendFromTheBaseAreRefused() throws {
        let versions = try Versions()
        let old = try versions.base([("a", .global, "a-old")])
        let base = try versions.derive(old) { try $0.set("a", value: Array("a-new".utf8), overwrite: true) }
        let changed = try versions.derive(base) { try $0.set("b", value: Array("b".utf8)) }
        #expect(throws: DescentError(message: "theirs (generation \(old.generation)) is older than the merge base (generation \(base.generation)): an old copy restored on that branch?")) {
            try versions.merge(base, changed, old)
        }
        #expect(throws: DescentError(message: "ours (generation \(old.generation)) is older than the merge base (generation \(base.generation)): an old copy restored on that branch?")) {
            try versions.merge(base, old, changed)
        }
        let fork = try versions.derive(old) { try $0.set("a", value: Array("a-fork".utf8), overwrite: true) }
        #expect(fork.generation == base.generation)
        #expect(throws: DescentError.self) { try versions.merge(base, changed, fork) }

        let rotated = try versions.derive(base) { try $0.rotate() }
        let afterRotation = try versions.derive(rotated) { try $0.set("c", value: Array("c".utf8)) }
        let beforeRotation = try versions.derive(try versions.derive(base) { try $0.set("c", value: Array("c".utf8)) }) {
            try $0.set("d", value: Array("d".utf8))
        }
        #expect(beforeRotation.generation > rotated.generation)
        do {
            _ = try versions.merge(rotated, afterRotation, beforeRotation)
            Issue.record("a side from before the base's rotation merged")
        } catch let error as DescentError {
            #expect(error.message.hasPrefix("theirs's key chain (1 key, current "))
            #expect(error.message.contains("does not extend the merge base's (2 keys, current "))
        }
    }

    /// Bob was removed (slot removed, re-keyed) on ours; he kept the old master key and signs
    /// his side with it: his changed entry, and a slot he adds for himself, are conflicts that a
    /// resolve without names never takes; nothing in an automatic result is his.
    @Test func changesSignedUnderTheRevokedKeyAreNamedConflicts() throws {
        let versions = try Versions()
        let bob = Identity.generate()
        let base = try versions.derive(try versions.base([("db.host", .global, "db.real.example"), ("other", .global, "o")])) {
            try $0.addRecipientSlot(bob.recipient.publicKey, label: "bob")
        }
        let bobSlot = try #require(base.slots.first { $0.label == "bob" }).id
        let revoked = try versions.derive(base) {
            try $0.removeSlot(bobSlot)
            try $0.set("other", value: Array("o2".utf8), overwrite: true)
        }
        // Bob's side: the vault as he had it, changed with the old master key he kept.
        let bobsKey = try #require(base.keyGrant)
        let bobOnly = try versions.derive(base) { try $0.set("db.host", value: Array("db.bob.example".utf8), overwrite: true) }
        let bobWithSlot = try versions.derive(bobOnly) { try $0.addRecipientSlot(Identity.generate().recipient.publicKey, label: "bob again") }
        #expect(bobOnly.keyGrant === bobsKey)

        for bobs in [bobOnly, bobWithSlot] {
            let conflicts = versions.conflicts(try versions.merge(base, revoked, bobs))
            #expect(conflicts.contains("entry global/db.host: ours removed a slot (re-keyed), theirs changed under a key the other side's revocation replaced"))
            #expect(conflicts.count == (bobs === bobWithSlot ? 2 : 1), "\(conflicts)")
            // resolve --theirs without names takes nothing of Bob's.
            #expect(versions.conflicts(try versions.merge(base, revoked, bobs, resolve: GitMerge.resolution(.theirs, names: []))) == conflicts)
            // resolve --ours keeps the revoking side; then nothing of Bob's is in the result.
            let names = Set(bobs.slots.map { Slot.idText($0.id) } + ["db.host"])
            let kept = try versions.written(versions.merge(base, revoked, bobs, resolve: GitMerge.resolution(.ours, names: names)), over: revoked)
            #expect(try values(kept) == ["global/db.host": "db.real.example", "global/other": "o2"])
            #expect(kept.slots.map(\.id) == revoked.slots.map(\.id))
            #expect(throws: CofferError.authenticationFailed) { try Vault.open(at: kept.path).unlock(identities: [bob.secretKey]) }
        }
        // Named, Bob's change is taken (re-sealed under the new key).
        let taken = try versions.written(versions.merge(base, revoked, bobOnly, resolve: GitMerge.resolution(.theirs, names: ["db.host"])), over: revoked)
        #expect(try values(taken) == ["global/db.host": "db.bob.example", "global/other": "o2"])
        // A rotation without a removed slot stays automatic.
        let rotated = try versions.derive(base) { try $0.rotate() }
        #expect(try values(versions.written(versions.merge(base, rotated, bobOnly), over: rotated))
            == ["global/db.host": "db.bob.example", "global/other": "o"])
    }

    /// Bob's side signed at generation 2^64-2 with his old key: the merge would land at the
    /// maximum, where every later save fails. Refused, as is a merge that would pass 2^62.
    @Test func generationOutOfReachIsRefused() throws {
        let versions = try Versions()
        let base = try versions.base([("a", .global, "a0")])
        let ours = try versions.derive(base) { try $0.set("b", value: [1]) }
        let theirs = try versions.derive(base) { try $0.set("c", value: [2]) }
        func resigned(_ vault: Vault, generation: UInt64) throws -> Vault {
            var file = vault.file
            file.generation = generation
            let signingKey = try vault.keyGrant!.signingKey()
            file.signature = signingKey.signature(for: FormatMessages.fileSignature(hash: BLAKE2b.hash(VaultEncoder.encodeSignedPart(file))))
            let path = vault.path + ".resigned"
            try writeBytes(VaultEncoder.encode(file), to: path)
            let copy = try Vault.open(at: path)
            try copy.unlock(grant: vault.keyGrant!)
            return copy
        }
        for generation in [UInt64.max - 2, Descent.generationCap + 1] {
            #expect(throws: DescentError(message: "theirs is at generation \(generation), above 2^62, which no vault reaches by saving: a version made to exhaust the generation?")) {
                try versions.merge(base, ours, resigned(theirs, generation: generation))
            }
        }
        #expect(throws: DescentError.self) { try versions.merge(base, ours, resigned(theirs, generation: Descent.generationCap)) }
        // Just below: merged at 2^62, and the next save still works.
        let result = try versions.written(versions.merge(base, ours, resigned(theirs, generation: Descent.generationCap - 1)), over: ours)
        #expect(result.generation == Descent.generationCap)
        try result.set("d", value: [3])
        try result.save()
    }
}
