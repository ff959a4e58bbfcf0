import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Foundation
import Testing

/// Issue "Vaults in git, v2": the attacks on committed vaults, done as an attacker would, through
/// real git in temporary repositories (GitWorld).
@Suite struct GitAttackTests {
    /// `git rev-parse REV`.
    private static func commit(_ world: GitWorld, _ revision: String = "HEAD") -> String {
        world.git("rev-parse", revision).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The attacker (no key): a branch `feature` from HEAD whose only vault change is the file of
    /// `revision` restored, with another file touched so the commit looks ordinary.
    private static func replayOnBranch(_ world: GitWorld, from revision: String) throws {
        world.git("checkout", "-q", "-b", "feature")
        world.git("checkout", revision, "--", "secrets.coffer")
        try world.write(world.repo + "/NOTES", Array("notes\n".utf8))
        world.commit("notes")
        world.git("checkout", "-q", "main")
    }

    // MARK: Attack 1: an old copy replayed through a merge

    /// The old copy has an older value and a recipient since revoked; main changed the vault
    /// meanwhile. The driver (key from COFFER_PASSPHRASE_FILE or a session) refuses to merge the
    /// replayed side, OURS stays byte for byte, and keeping our side whole is the way on.
    @Test(arguments: ["passphrase file", "session"])
    func replayedOldCopyIsNotMerged(_ keySource: String) throws {
        let world = try GitWorld()
        world.set("db.password", "db-old-value-1a")
        let mallory = world.addRecipient("mallory.key")
        world.commit("old: mallory can read")
        let old = Self.commit(world)
        let oldGeneration = try world.decoded().generation
        world.set("db.password", "db-new-value-2b", ["--overwrite"])
        world.expectSuccess(world.coffer(["slots", "remove", mallory.slot]))
        world.set("added.later", "added-later-3c")
        world.commit("recent: mallory revoked")
        let baseGeneration = try world.decoded().generation
        try Self.replayOnBranch(world, from: old)
        world.set("main.change", "main-change-4d")
        world.commit("main")
        let ours = world.committed("main")

        let merged: Ran
        if keySource == "session" {
            let token = world.expectSuccess(world.coffer(["unlock", "--raw", "--passphrase-file", world.passphraseFile], key: false))
                .output.trimmingCharacters(in: .whitespacesAndNewlines)
            merged = world.run(["git", "merge", "--no-edit", "feature"], key: false, env: ["COFFER_SESSION": token])
            world.expectNoValues(merged.all)
        } else {
            merged = world.mergeFeature()
        }
        #expect(merged.status == 1 && merged.all.contains("CONFLICT"), "\(merged.all)")
        #expect(merged.stderr.contains(
            "theirs (generation \(oldGeneration)) is older than the merge base (generation \(baseGeneration)): an old copy restored on that branch?"),
            "\(merged.stderr)")
        #expect(world.bytes(world.vault) == ours)
        // The driver also says what the trust state knows of each version: the old copy is under
        // the key the revocation replaced.
        #expect(merged.stderr.contains("coffer: warning: theirs (generation \(oldGeneration)): this version is signed by key"), "\(merged.stderr)")

        // A resolve that names entries does not merge a side that does not descend either.
        let named = world.coffer(["git", "resolve", "secrets.coffer", "--theirs", "db.password"])
        #expect(named.status == 4 && world.bytes(world.vault) == ours, "\(named.stderr)")
        world.expectSuccess(world.coffer(["git", "resolve", "secrets.coffer", "--ours"]))
        #expect(world.bytes(world.vault) == ours)
        world.git("add", "secrets.coffer")
        world.git("commit", "-q", "--no-edit")
        world.expectValue("db.password", "db-new-value-2b")
        world.expectValue("added.later", "added-later-3c")
        // The replay stays in history, on the merged branch: the history check names its commit.
        let replay = Self.commit(world, "feature")
        let checked = world.coffer(["verify", "--history"], key: false)
        #expect(checked.status == 4 && checked.stderr.contains("history check failed at commit \(replay): "), "\(checked.stderr)")
        let asMallory = world.get("db.password", ["--identity", mallory.path])
        #expect(asMallory.status == 3, "\(asMallory.stderr)")
    }

    /// The passphrase was changed with `passwd` (the old one leaked); the replayed copy still has
    /// the old passphrase's slot. The merge is refused and the old passphrase opens nothing.
    @Test func passphraseChangedByPasswdDoesNotComeBackThroughAMerge() throws {
        let world = try GitWorld()
        world.set("a", "a-value-5e")
        world.commit("old passphrase")
        let old = Self.commit(world)
        let leaked = world.root + "/leaked-passphrase"
        try world.write(leaked, world.bytes(world.passphraseFile))
        let fresh = world.root + "/fresh-passphrase"
        try world.write(fresh, Array("fresh passphrase 6f\n".utf8))
        world.expectSuccess(world.coffer(["passwd", "--new-passphrase-file", fresh, "--kdf-ops", "1", "--kdf-memory", "8"]))
        try world.write(world.passphraseFile, world.bytes(fresh))
        world.commit("passphrase changed")
        try Self.replayOnBranch(world, from: old)
        world.set("b", "b-value-7g")
        world.commit("main")
        let ours = world.committed("main")

        let merged = world.mergeFeature()
        #expect(merged.status == 1, "\(merged.all)")
        #expect(merged.stderr.contains("is older than the merge base"), "\(merged.stderr)")
        #expect(world.bytes(world.vault) == ours)
        let withLeaked = world.get("a", ["--passphrase-file", leaked])
        #expect(withLeaked.status == 3, "\(withLeaked.stderr)")
        world.expectValue("b", "b-value-7g")
    }

    // MARK: Attack 2: a removed party writes through a merge

    /// Bob can read and write; his branch is made before the admin removes his slot (re-key on
    /// main). On his machine, with his identity (the old master key), he changes db.host and, in
    /// one variant, adds a slot for another key of his. Every change of his is a named conflict:
    /// a bare resolve takes none of it, and nothing of the result is his.
    @Test(arguments: [false, true])
    func revokedPartysChangesAreNamedConflicts(withHisSlot: Bool) throws {
        let world = try GitWorld()
        world.set("db.host", "db.real.example")
        let bob = world.addRecipient("bob.key")
        world.commit("bob can read")

        world.git("checkout", "-q", "-b", "feature")
        // Bob pins the vault on his machine (the pin is public): no first-use question stops him.
        let pin = world.expectSuccess(world.coffer(["pin"], key: false)).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let asBob = ["--identity", bob.path], bobsMachine = ["XDG_STATE_HOME": world.root + "/bob-state", "COFFER_VAULT_PIN": pin]
        world.expectSuccess(world.coffer(["set", "db.host", "--overwrite"] + asBob, key: false, env: bobsMachine, stdin: Array("db.bob.example".utf8)))
        var bobsSlot: String?
        let bobsOtherKey = world.keygen("bob-other.key")
        if withHisSlot {
            let added = world.expectSuccess(world.coffer(["slots", "add-recipient", bobsOtherKey.publicKey] + asBob, key: false, env: bobsMachine))
            bobsSlot = added.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        world.commit("bob's branch")
        world.git("checkout", "-q", "main")
        world.expectSuccess(world.coffer(["slots", "remove", bob.slot]))
        world.set("after", "after-revocation-8h")
        world.commit("bob revoked")
        let ours = world.committed("main")

        let merged = world.mergeFeature()
        #expect(merged.status == 1, "\(merged.all)")
        #expect(merged.stderr.contains(
            "conflict in secrets.coffer: entry global/db.host: ours removed a slot (re-keyed), theirs changed under a key the other side's revocation replaced"),
            "\(merged.stderr)")
        if let bobsSlot { #expect(merged.stderr.contains("conflict in secrets.coffer: slot \(bobsSlot): "), "\(merged.stderr)") }
        #expect(world.bytes(world.vault) == ours)

        let bare = world.coffer(["git", "resolve", "secrets.coffer", "--theirs"])
        #expect(bare.status == 5, "\(bare.stderr)")
        #expect(world.bytes(world.vault) == ours)
        world.expectSuccess(world.coffer(["git", "resolve", "secrets.coffer", "--ours", "db.host"] + (bobsSlot.map { [$0] } ?? [])))
        world.git("add", "secrets.coffer")
        world.git("commit", "-q", "--no-edit")
        world.expectValue("db.host", "db.real.example")
        for identity in [bob.path, bobsOtherKey.path] {
            let asHim = world.get("after", ["--identity", identity])
            #expect(asHim.status == 3, "\(asHim.stderr)")
        }
        #expect(try world.decoded().slots.count == 1)
    }

    /// Bob signs his side at generation 2^64-2 with the master key he kept: a merged vault would
    /// land at the top, where every later save fails. The driver refuses; OURS is unchanged.
    @Test func revokedPartysSideAtTheTopGenerationIsRefused() throws {
        let world = try GitWorld()
        world.set("db.host", "db.real.example")
        let bob = world.addRecipient("bob.key")
        world.commit("bob can read")

        world.git("checkout", "-q", "-b", "feature")
        let identities = try IdentityFile.parse(world.bytes(bob.path), path: bob.path, passphrase: nil)
        let bobs = try Vault(bytes: world.bytes(world.vault), path: world.vault)
        try bobs.unlock(identities: identities.map(\.secretKey))
        let grant = try #require(bobs.keyGrant)
        var file = bobs.file
        file.generation = UInt64.max - 2
        let index = try #require(file.entries.firstIndex { $0.name == "db.host" })
        file.entries[index].sealedValue = try EntryCipher(vaultID: file.vaultID, grant: grant)
            .seal(Array("db.bob.example".utf8), name: "db.host", scope: .global)[...]
        let signingKey = try grant.signingKey()
        file.signature = signingKey.signature(for: FormatMessages.fileSignature(hash: BLAKE2b.hash(VaultEncoder.encodeSignedPart(file))))
        try world.write(world.vault, VaultEncoder.encode(file))
        world.commit("bob's branch")
        world.git("checkout", "-q", "main")
        world.expectSuccess(world.coffer(["slots", "remove", bob.slot]))
        world.commit("bob revoked")
        let ours = world.committed("main")

        let merged = world.mergeFeature()
        #expect(merged.status == 1, "\(merged.all)")
        #expect(merged.stderr.contains("theirs is at generation \(UInt64.max - 2), above 2^62"), "\(merged.stderr)")
        #expect(world.bytes(world.vault) == ours)
        world.git("merge", "--abort")
        // On Bob's branch, the history check names his commit.
        world.git("checkout", "-q", "feature")
        let onFeature = world.coffer(["verify", "--history"], key: false)
        #expect(onFeature.status == 4 && onFeature.stderr.contains("at generation \(UInt64.max - 2), above 2^62"), "\(onFeature.stderr)")
        world.git("checkout", "-q", "main")
        world.set("later", "later-value-9i")
    }
    // MARK: verify and setup

    /// A rolled back copy, and a copy under a key a revocation replaced: verify says so and
    /// exits 4, with or without a key.
    @Test func verifyExitsFourOnRollbackAndReplacedKey() throws {
        let world = try GitWorld()
        world.set("a", "a-value-10")
        let mallory = world.addRecipient("mallory.key")
        world.commit("one")
        world.set("b", "b-value-11")
        world.commit("two")
        world.expectSuccess(world.coffer(["verify"], key: false))
        world.git("checkout", "HEAD~1", "--", "secrets.coffer")
        for key in [false, true] {
            let rolledBack = world.coffer(["verify"], key: key)
            #expect(rolledBack.status == 4 && rolledBack.stderr.contains("rollback: "), "\(rolledBack.stderr)")
        }
        world.git("checkout", "HEAD", "--", "secrets.coffer")
        world.expectSuccess(world.coffer(["slots", "remove", mallory.slot]))
        world.commit("revoked")
        world.git("checkout", "-q", "-b", "old", "HEAD~1")
        let replaced = world.coffer(["verify"], key: false)
        #expect(replaced.status == 4 && replaced.stderr.contains("replaced at generation"), "\(replaced.stderr)")
    }

    /// A repository whose .gitattributes is a symbolic link to a file of the user's (committed
    /// so by an attacker): setup refuses to write through it, and the target is unchanged.
    @Test func setupRefusesAnAttributesFileThatIsALink() throws {
        let world = try GitWorld(setup: false, vault: false)
        let target = world.root + "/home/.profile"
        try world.write(target, Array("export A=1\n".utf8))
        #expect(symlink(target, world.repo + "/.gitattributes") == 0)
        let refused = world.coffer(["git", "setup"])
        #expect(refused.status == 6 && refused.stderr.contains("is a symbolic link: refusing to write through it"), "\(refused.stderr)")
        #expect(world.bytes(target) == Array("export A=1\n".utf8))
    }
    // MARK: Attack 3 and the history check

    /// A clean history with rotations, a slot added on a branch and merges (through the driver),
    /// and a commit that deletes the file for a while: verify --history exits 0 with the count,
    /// and from a given commit checks fewer versions.
    @Test func cleanHistoryVerifies() throws {
        let world = try GitWorld()
        world.set("a", "a-value-20")
        world.commit("a")
        let second = Self.commit(world)
        world.expectSuccess(world.coffer(["rotate"]))
        world.commit("rotate")
        world.diverge(feature: { _ = world.addRecipient("carol.key") }, main: { world.set("b", "b-value-21") })
        #expect(world.mergeFeature().status == 0)
        world.git("branch", "-d", "feature")
        world.diverge(feature: { world.expectSuccess(world.coffer(["rotate"])) }, main: { world.set("c", "c-value-22") })
        #expect(world.mergeFeature().status == 0)
        let all = world.expectSuccess(world.coffer(["verify", "--history"], key: false))
        #expect(all.output == "history ok: 9 versions checked\n", "\(all.output)")
        let fromSecond = world.expectSuccess(world.coffer(["verify", "--history", second], key: false))
        #expect(fromSecond.output == "history ok: 8 versions checked\n", "\(fromSecond.output)")
    }

    /// An old copy committed straight onto main (a replay without a merge): verify --history names
    /// that commit and says the generation went down.
    @Test func replayedCommitIsNamedByTheHistoryCheck() throws {
        let world = try GitWorld()
        let replay = Self.oldCopyCommittedOnTop(world, old: "a-old-23", new: "a-new-24")
        world.set("later", "later-value-25", ["--allow-rollback"])
        world.commit("later")
        Self.expectHistoryBreak(world, at: replay, " (generation 2) is older than its parent")
    }

    /// The attack: value `a` set to `old`, then to `new`, then the old file committed on top
    /// as an ordinary commit, which is returned.
    private static func oldCopyCommittedOnTop(_ world: GitWorld, old: String, new: String) -> String {
        world.set("a", old)
        world.commit("old")
        world.set("a", new, ["--overwrite"])
        world.commit("new")
        world.git("checkout", "HEAD~1", "--", "secrets.coffer")
        world.commit("innocent-looking")
        return commit(world)
    }

    /// `verify --history` exits 4 naming `commit` as the first break, `reason` after its name.
    private static func expectHistoryBreak(
        _ world: GitWorld, at commit: String, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let checked = world.coffer(["verify", "--history"], key: false)
        #expect(checked.status == 4, "\(checked.all)", sourceLocation: sourceLocation)
        #expect(checked.stderr.contains("history check failed at commit \(commit): commit \(commit.prefix(12))\(reason)"),
            "\(checked.stderr)", sourceLocation: sourceLocation)
    }

    /// Attack 3: Alice has seen the vault under K0. The admin removes Bob and re-keys (C2, chain
    /// K0 -> K1); Bob, with the old master key, forks the chain at K0 (K0 -> Kbob) keeping his
    /// slot and pushes C3 on top. Alice pulls C2 and C3 together: the file extends her pinned K0,
    /// but the history check finds the fork; her write is refused (nothing sealed to Bob), and
    /// the genuine K1 version is not taken for a forgery afterwards.
    @Test func forkedKeyChainPulledTogetherIsFound() throws {
        let world = try GitWorld()
        world.set("db.host", "db.real.example")
        let bob = world.addRecipient("bob.key")
        world.commit("C1")
        let alice = ["XDG_STATE_HOME": world.root + "/alice"]
        #expect(world.coffer(["get", "db.host"], env: alice).output == "db.real.example")

        world.expectSuccess(world.coffer(["slots", "remove", bob.slot]))
        world.commit("C2: bob removed")
        let c2 = Self.commit(world)
        // Bob: C1's vault, re-keyed by him under the old master key, his slot kept.
        world.git("checkout", "HEAD~1", "--", "secrets.coffer")
        let identities = try IdentityFile.parse(world.bytes(bob.path), path: bob.path, passphrase: nil)
        let forked = try Vault.open(at: world.vault)
        try forked.unlock(identities: identities.map(\.secretKey))
        try forked.rotate()
        try forked.set("db.host", value: Array("db.bob.example".utf8), overwrite: true)
        try forked.save()
        world.commit("C3: bob")
        let c3 = Self.commit(world)
        let before = world.bytes(world.vault)

        let write = world.coffer(["set", "new.secret"], env: alice, stdin: Array("sealed-to-whom-26".utf8))
        #expect(write.status == 4, "\(write.all)")
        #expect(write.stderr.contains("history check: commit \(c3.prefix(12))'s key chain (2 keys, current "), "\(write.stderr)")
        #expect(write.stderr.contains("does not extend its parent \(c2.prefix(12))'s"), "\(write.stderr)")
        #expect(world.bytes(world.vault) == before)
        let read = world.coffer(["get", "db.host"], env: alice)
        #expect(read.stderr.contains("history check: "), "\(read.stderr)")
        let checked = world.coffer(["verify", "--history"], key: false)
        #expect(checked.status == 4 && checked.stderr.contains("history check failed at commit \(c3)"), "\(checked.stderr)")

        // Back on the genuine C2: not a forgery to Alice (her pin stayed at K0), and writable.
        world.git("reset", "-q", "--hard", c2)
        let genuine = world.coffer(["get", "db.host"], env: alice)
        #expect(genuine.status == 0 && genuine.output == "db.real.example", "\(genuine.stderr)")
        world.expectSuccess(world.coffer(["set", "after.reset"], env: alice, stdin: Array("after-reset-27".utf8)))
        let asBob = world.get("after.reset", ["--identity", bob.path])
        #expect(asBob.status == 3, "\(asBob.stderr)")
    }

    // MARK: Keeping one side of a merge whole (git checkout --ours / --theirs)

    /// Both branches changed the same entry, so the driver leaves a conflict; `git checkout
    /// --ours` keeps main's version (generation 2) over the feature's (generation 3): a choice of
    /// a side, not a rollback. verify --history and the next write accept it; the same with --theirs.
    @Test(arguments: ["--ours", "--theirs"])
    func keepingOneSideOfAConflictedMergeIsNotARollback(_ side: String) throws {
        let world = try Self.conflictedMergeKeepingOneSide(side)
        let kept = side == "--ours" ? "main" : "feature"
        #expect(world.bytes(world.vault) == world.committed("HEAD^\(side == "--ours" ? 1 : 2)"))

        let checked = world.coffer(["verify", "--history"], key: false)
        #expect(checked.status == 0, "\(checked.all)")
        world.expectValue("db.host", "db.\(kept).example")
        world.set("after", "after-choice-31")
        world.commit("after")
        world.expectSuccess(world.coffer(["verify", "--history"], key: false))
    }

    /// main and feature (one save more) both changed db.host from the base; the driver leaves a
    /// conflict and the merge is committed keeping `side` whole.
    private static func conflictedMergeKeepingOneSide(_ side: String) throws -> GitWorld {
        let world = try GitWorld()
        world.set("db.host", "db.base.example")
        world.commit("base")
        world.diverge(feature: {
            world.set("db.host", "db.feature.example", ["--overwrite"])
            world.set("db.port", "5433-feature")
        }, main: { world.set("db.host", "db.main.example", ["--overwrite"]) })
        #expect(try world.decoded().generation < world.decoded(Self.blobFile(world, "feature")).generation)
        let merged = world.mergeFeature()
        #expect(merged.status != 0, "\(merged.all)")
        world.git("checkout", side, "secrets.coffer")
        world.git("add", "secrets.coffer")
        world.git("commit", "-q", "--no-edit")
        return world
    }

    /// The vault of `branch`, in a file beside the repository.
    private static func blobFile(_ world: GitWorld, _ branch: String) throws -> String {
        let path = world.root + "/\(branch).coffer"
        try world.write(path, world.committed(branch))
        return path
    }

    /// The attack: a merge commit whose second parent is an old commit (an ancestor of the
    /// first) and whose vault is that old commit's, built with git's plumbing as an attacker
    /// would. It keeps one parent's version whole, but that version is the common history
    /// itself: a rollback, named by the history check.
    @Test func rolledBackThroughAMergeWithAnOldParentIsCaught() throws {
        let world = try GitWorld()
        world.set("api.token", "token-old-32")
        world.commit("old")
        let old = Self.commit(world)
        world.set("api.token", "token-new-33", ["--overwrite"])
        world.commit("rotated the token")
        world.git("checkout", old, "--", "secrets.coffer")
        world.git("add", "secrets.coffer")
        let tree = world.git("write-tree").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let merge = world.git("commit-tree", tree, "-p", "HEAD", "-p", old, "-m", "Merge branch 'cleanup'")
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        world.git("reset", "-q", "--hard", merge)

        Self.expectHistoryBreak(world, at: merge, " (generation 2) is older than its parent")
    }

    /// The attack through a real merge: a branch from an old commit that never touched the vault
    /// (git merges it without a conflict), and the merge then takes that branch's vault (the old
    /// one) with `git checkout feature -- secrets.coffer`. The side kept is no newer than the
    /// parents' common history: a rollback, named by the history check.
    @Test func rolledBackThroughAMergeTakingAnUnchangedSideIsCaught() throws {
        let world = try GitWorld()
        world.set("api.token", "token-old-34")
        world.commit("old")
        world.git("checkout", "-q", "-b", "feature")
        try world.write(world.repo + "/NOTES", Array("notes\n".utf8))
        world.commit("notes")
        world.git("checkout", "-q", "main")
        world.set("api.token", "token-new-35", ["--overwrite"])
        world.commit("rotated the token")
        world.git("merge", "-q", "--no-commit", "feature")
        world.git("checkout", "feature", "--", "secrets.coffer")
        world.commit("Merge branch 'feature'")
        let merge = Self.commit(world)

        Self.expectHistoryBreak(world, at: merge, " (generation 2) is older than its parent")
    }

    /// The attack: Bob, revoked on main (slot removed, re-keyed), changed the vault on his
    /// branch with his old key; the merge keeps his side whole (`git checkout --theirs`). His
    /// side is newer than the common history, but it drops main's key rotation: refused, and a
    /// write on this history is refused too (nothing sealed to Bob).
    @Test func revokedPartysSideKeptWholeThroughAMergeIsCaught() throws {
        let world = try GitWorld()
        world.set("db.host", "db.real.example")
        let bob = world.addRecipient("bob.key")
        world.commit("bob can read")
        let pin = world.expectSuccess(world.coffer(["pin"], key: false)).output.trimmingCharacters(in: .whitespacesAndNewlines)
        world.git("checkout", "-q", "-b", "feature")
        let bobsMachine = ["XDG_STATE_HOME": world.root + "/bob-state", "COFFER_VAULT_PIN": pin]
        world.expectSuccess(world.coffer(
            ["set", "db.host", "--overwrite", "--identity", bob.path], key: false, env: bobsMachine, stdin: Array("db.bob.example".utf8)))
        world.commit("bob's branch")
        world.git("checkout", "-q", "main")
        world.expectSuccess(world.coffer(["slots", "remove", bob.slot]))
        world.commit("bob revoked")

        #expect(world.mergeFeature().status != 0)
        world.git("checkout", "--theirs", "secrets.coffer")
        world.git("add", "secrets.coffer")
        world.git("commit", "-q", "--no-edit")
        let merge = Self.commit(world)
        Self.expectHistoryBreak(world, at: merge, "'s key chain")
        let write = world.coffer(["set", "new.secret"], env: ["XDG_STATE_HOME": world.root + "/fresh-state"], stdin: Array("sealed-to-whom-36".utf8))
        #expect(write.status == 4, "\(write.all)")
    }

    /// The attack: an old version (main's own, since overwritten) committed again on a branch
    /// from the commit before it (`git commit-tree`, a commit of its own), then merged keeping
    /// that branch's side whole. The copy is newer than the merge base, but main's history
    /// already holds it: a rollback, named by the history check and refused before a write.
    @Test func rolledBackThroughAMergeKeepingAReparentedOldCopyIsCaught() throws {
        let world = try GitWorld()
        world.set("api.token", "token-base-37")
        world.commit("base")
        let base = Self.commit(world)
        world.set("api.token", "token-old-38", ["--overwrite"])
        world.commit("old")
        let old = Self.commit(world)
        world.set("api.token", "token-new-39", ["--overwrite"])
        world.commit("rotated the token")
        let tree = Self.commit(world, "\(old)^{tree}")
        let copy = world.git("commit-tree", tree, "-p", base, "-m", "cleanup").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let merge = world.git("commit-tree", tree, "-p", "HEAD", "-p", copy, "-m", "Merge branch 'cleanup'")
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        world.git("reset", "-q", "--hard", merge)

        Self.expectHistoryBreak(world, at: merge, " is a version its parent ")
        let before = world.bytes(world.vault)
        let write = world.coffer(["set", "new.secret"], env: ["XDG_STATE_HOME": world.root + "/fresh-state"], stdin: Array("sealed-on-old-40".utf8))
        #expect(write.status == 4, "\(write.all)")
        #expect(world.bytes(world.vault) == before)
    }

    /// The attack after a genuine choice of a side: main kept its version (`git checkout
    /// --ours`) over the feature's newer one; the attacker then commits the discarded feature
    /// version on top as an ordinary commit. Its generation is above the kept one's, but it is
    /// a version the history already holds: replayed, named by the history check.
    @Test func replayedDiscardedSideAfterKeepingOneSideIsCaught() throws {
        let world = try Self.conflictedMergeKeepingOneSide("--ours")
        world.expectSuccess(world.coffer(["verify", "--history"], key: false))
        world.git("checkout", "feature", "--", "secrets.coffer")
        world.commit("innocent-looking")
        let replay = Self.commit(world)

        Self.expectHistoryBreak(world, at: replay, " is a version its parent ")
    }

    /// The same replay pulled by a machine that checked the history at the merge (its key
    /// unchanged since): the version on file changed, so the commits since are checked again,
    /// and its write is refused (the trust store alone sees only a higher generation).
    @Test func replayedDiscardedSideIsRefusedOnAMachineThatCheckedBefore() throws {
        let world = try Self.conflictedMergeKeepingOneSide("--ours")
        world.expectValue("db.host", "db.main.example")
        world.git("checkout", "feature", "--", "secrets.coffer")
        world.commit("innocent-looking")

        let before = world.bytes(world.vault)
        let write = world.coffer(["set", "new.secret"], stdin: Array("sealed-on-replay-47".utf8))
        #expect(write.status == 4 && write.stderr.contains(" is a version its parent "), "\(write.all)")
        #expect(world.bytes(world.vault) == before)
    }

    /// The attack on a CI runner's shallow clone (`git clone --depth 1`): the old copy replayed
    /// as an ordinary commit at the tip, whose parent the clone does not have. The check cannot
    /// see the generation go down, so it must not call the history ok: it names the commit
    /// where the history is cut, and a write there (a fresh machine) is refused.
    @Test func rolledBackTipInAShallowCloneIsNotCalledOk() throws {
        let world = try GitWorld()
        let tip = Self.oldCopyCommittedOnTop(world, old: "token-old-41", new: "token-new-42")
        let clone = world.root + "/clone"
        world.expectSuccess(world.run(["git", "clone", "-q", "--depth", "1", "file://" + world.repo, clone], cwd: world.root))

        let checked = world.run(["coffer", "verify", "--history"], key: false, cwd: clone)
        #expect(checked.status == 4, "\(checked.all)")
        #expect(checked.stderr.contains("history check failed at commit \(tip): commit \(tip.prefix(12))'s parents are not in this clone"), "\(checked.stderr)")
        let before = world.bytes(clone + "/secrets.coffer")
        let write = world.run(["coffer", "set", "ci.token"], env: ["XDG_STATE_HOME": world.root + "/ci-state"], stdin: Array("from-ci-43".utf8), cwd: clone)
        #expect(write.status == 4, "\(write.all)")
        #expect(world.bytes(clone + "/secrets.coffer") == before)
    }

    /// The attack through a symbolic link: the old version committed as another file whose own
    /// history is consistent (added once), and secrets.coffer made a link to it. Following the
    /// link, a fresh machine would see a vault that never went down; the history check follows
    /// the path the user named, where a link is no vault: refused, nothing written.
    @Test func rolledBackThroughACommittedSymlinkIsCaught() throws {
        let world = try GitWorld()
        world.set("api.token", "token-old-44")
        world.commit("old")
        let old = world.committed("HEAD")
        world.set("api.token", "token-new-45", ["--overwrite"])
        world.commit("rotated the token")
        try world.write(world.repo + "/archive.coffer", old)
        unlink(world.vault)
        symlink("archive.coffer", world.vault)
        world.commit("archive")
        let link = Self.commit(world)

        let checked = world.coffer(["verify", "--history"], key: false)
        #expect(checked.status == 4 && checked.stderr.contains("history check failed at commit \(link)"), "\(checked.all)")
        let write = world.coffer(["set", "new.secret"], env: ["XDG_STATE_HOME": world.root + "/fresh-state"], stdin: Array("sealed-on-old-46".utf8))
        #expect(write.status == 4, "\(write.all)")
        #expect(world.bytes(world.repo + "/archive.coffer") == old)
    }

    /// The attack with no common history: the old file committed as a root commit of its own
    /// (an unrelated history, `git commit-tree` without a parent) and merged keeping it. With no
    /// merge base nothing shows the kept side was written since: a rollback, named as one.
    @Test func rolledBackThroughAMergeOfAnUnrelatedHistoryIsCaught() throws {
        let world = try GitWorld()
        world.set("api.token", "token-old-48")
        world.commit("old")
        let tree = Self.commit(world, "HEAD^{tree}")
        world.set("api.token", "token-new-49", ["--overwrite"])
        world.commit("rotated the token")
        let root = world.git("commit-tree", tree, "-m", "import").output.trimmingCharacters(in: .whitespacesAndNewlines)
        let merge = world.git("commit-tree", tree, "-p", "HEAD", "-p", root, "-m", "Merge branch 'import'")
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        world.git("reset", "-q", "--hard", merge)

        Self.expectHistoryBreak(world, at: merge, " (generation 2) is older than its parent")
    }
}
