import CofferCrypto
#if canImport(Glibc)
import Glibc
#endif

/// The trust rules every way into a vault applies, the `coffer` command's and libcoffer's alike
/// (Specs/vault-format.md §8, Specs/git.md): pins, copied passphrase slots, the trust store's
/// forgery, rollback and fork findings, the automatic history check, and no silent first use.
/// One per process (the CLI) or per handle (libcoffer): it remembers which vaults this use found
/// pinned and which it found unseen. The state files are read at most once and written at
/// most once per use (`TrustState`): `finish()` ends a use. One thread at a time.
public final class VaultTrust: @unchecked Sendable {
    public let store: TrustStore
    /// The trust store and the files beside it, as this use read and changed them.
    private var state: TrustState
    /// Vaults this use checked against at least one pin, successfully.
    private var pinned: Set<[UInt8]> = []
    /// Vaults this use found unseen when it opened them, before opening remembered them.
    private var unseenWhenOpened: Set<[UInt8]> = []

    /// The state files under `environment`'s `$XDG_STATE_HOME` (TrustStore.defaultPath).
    public init(environment: [String: String]) {
        store = TrustStore(path: TrustStore.defaultPath(environment: environment))
        state = TrustState(trustStore: store)
    }

    /// Ends a use: writes what it changed, each file once (under its lock), and forgets what it
    /// read, so that the next use reads the files again.
    public func finish() throws {
        defer { state = TrustState(trustStore: store) }
        try state.write()
    }

    /// Reads again each state file another process replaced since this use read it (a `stat`
    /// each otherwise): a write checks its rules under the vault's lock against what is current.
    public func refresh() throws {
        try state.refresh()
    }

    // MARK: Pins

    /// `COFFER_IDENTITY`: identity text; its `# coffer-pin:` lines are pins.
    public static let identityVariable = "COFFER_IDENTITY"

    /// The pins of one use: `given` (--pin, libcoffer's argument) alone when there are any, so a
    /// pin for another vault in the environment cannot widen them; otherwise `$COFFER_VAULT_PIN`,
    /// the `# coffer-pin:` lines of `identityFile` (when readable) and of `$COFFER_IDENTITY`.
    public static func pins(given: [VaultPin], environment: [String: String], identityFile: String?) throws -> [VaultPin] {
        guard given.isEmpty else { return given }
        var pins: [VaultPin] = []
        if let list = environment[VaultPin.environmentVariable] {
            pins += try VaultPin.pins(inList: list, source: "$\(VaultPin.environmentVariable)")
        }
        if let identityFile, access(identityFile, R_OK) == 0 {
            var contents = try Files.read(identityFile, limit: 1 << 20)
            defer { contents.wipe() }
            pins += try contents.withUnsafeBytes { try VaultPin.pins(inIdentityFile: $0, path: identityFile) }
        }
        if let text = environment[identityVariable] {
            pins += try Array(text.utf8).withUnsafeBytes { try VaultPin.pins(inIdentityFile: $0, path: "$" + identityVariable) }
        }
        return pins
    }

    /// Refuses `vault` (`forged`, exit 4) when `pins` is not empty and none names it; a vault a
    /// pin named needs no first-use confirmation for the rest of this use.
    public func check(_ vault: Vault, pins: [VaultPin]) throws {
        try VaultPin.check(vault, against: pins)
        if !pins.isEmpty { pinned.insert(vault.vaultID) }
    }

    // MARK: Opening and writing

    /// What opening for reading found: trust findings that allow reading (a rollback, a fork),
    /// and why the history check broke, if it did (writes are then refused).
    public struct Opening: Sendable {
        public let findings: [TrustStore.Finding]
        public let historyBreak: String?
    }

    /// Checks `vault`, just read from `path`, for reading: its pins, copied passphrase slots, the
    /// history check and the trust store, which remembers it (unless its history breaks: its key
    /// must not become the pinned one). Forged or substituted vaults are refused (exit 4).
    public func open(_ vault: Vault, at path: String, branch: String, pins: [VaultPin]) throws -> Opening {
        try check(vault, pins: pins)
        try state.checkPassphraseSlots(vault)
        if try state.pinnedKey(for: vault) == nil { unseenWhenOpened.insert(vault.vaultID) }
        let historyBreak = try self.historyBreak(vault, at: path, branch: branch)
        let findings = try Self.refusingBlocked(historyBreak == nil
            ? state.check(vault, at: path, branch: branch) : state.findings(for: vault, at: path, branch: branch))
        return Opening(findings: findings, historyBreak: historyBreak)
    }

    /// Checks `vault` before a write asks for its key: as `open`, but remembering nothing, and a
    /// broken history refuses. Rollbacks and forks are left to `checkWrite`, under the lock.
    public func checkBeforeWriting(_ vault: Vault, at path: String, branch: String, pins: [VaultPin]) throws {
        try check(vault, pins: pins)
        try state.checkPassphraseSlots(vault)
        _ = try Self.refusingBlocked(state.findings(for: vault, at: path, branch: branch))
        if let historyBreak = try historyBreak(vault, at: path, branch: branch) {
            throw CofferError.forged(historyBreak + "; writing refused (after checking, coffer trust)")
        }
    }

    /// Refuses to write `vault` (exit 4) when the trust store finds it rolled back or forked,
    /// unless `allowRollback` and the finding allows that; `override` names the way past, for the message.
    public func checkWrite(_ vault: Vault, at path: String, branch: String, allowRollback: Bool = false, override: String? = nil) throws {
        for finding in try state.findings(for: vault, at: path, branch: branch) where !(allowRollback && finding.allowRollbackOverrides) {
            let hint = finding.allowRollbackOverrides ? override.map { " (\($0) to proceed)" } ?? "" : ""
            throw CofferError.forged(finding.message + (finding.allowRollbackOverrides ? "; writing refused" + hint : ""))
        }
    }

    /// `findings`, unless one blocks even reading (a forged or substituted vault): then an error.
    public static func refusingBlocked(_ findings: [TrustStore.Finding]) throws -> [TrustStore.Finding] {
        if let blocking = findings.first(where: \.blocksReads) { throw CofferError.forged(blocking.message) }
        return findings
    }

    /// The automatic history check (Specs/git.md): when the vault file's version is not the one
    /// recorded when its history was last checked, and it is in a git repository, the commits
    /// since the last checked one are checked once (all of them the first time). Returns why the
    /// history breaks, or nil; git unavailable or failing checks nothing and records nothing.
    public func historyBreak(_ vault: Vault, at path: String, branch: String) throws -> String? {
        guard !branch.isEmpty else { return nil }
        let record = try state.historyRecord(for: vault.vaultID)
        if let record, record.version == HistoryState.version(of: vault) { return nil }
        let head: String?
        do {
            head = try GitHistory.check(vaultAt: path, since: record?.commit, working: vault).head
        } catch let broken as HistoryCheck.Break {
            return "history check: " + broken.reason
        } catch {
            return nil
        }
        try state.rememberHistory(HistoryState.Record(version: HistoryState.version(of: vault), commit: head), for: vault.vaultID)
        return nil
    }

    // MARK: Vouching

    /// Why a write to `vault` needs a user's confirmation (no silent first use), or nil: when a
    /// pin named it in this use, or a user of this machine vouched for it (a passphrase unlock,
    /// `init`, a confirmation, `coffer trust`). Asked after an unlock by identity or session.
    public func unconfirmed(_ vault: Vault) throws -> Unconfirmed? {
        guard !pinned.contains(vault.vaultID), try !state.isConfirmed(vault) else { return nil }
        return Unconfirmed(pin: VaultPin(vault), path: vault.path, firstSeenNow: unseenWhenOpened.contains(vault.vaultID))
    }

    /// A vault never vouched for here, and what to say about it.
    public struct Unconfirmed: Sendable {
        public let pin: VaultPin
        public let path: String
        /// This use opened it first on this machine: a read warns (only the first time).
        public let firstSeenNow: Bool

        public var about: String {
            "\(path) is vault \(pin.fingerprint), never confirmed on this machine, opened without a passphrase or a pin"
        }

        public var howTo: String {
            "if it is the vault you mean (its owner's `coffer pin` tells), pin it: --pin \(pin), $\(VaultPin.environmentVariable), or the line '# \(pin)' in the identity file"
        }

        /// The refusal of a write nobody could confirm (exit 4).
        public var refusal: CofferError { .forged("refused to write: \(about); \(howTo)") }
    }

    /// After a passphrase unlock: its slot's authenticator showed the vault was made by a holder
    /// of the passphrase, so the slot is known and the vault vouched for.
    public func vouchAfterPassphraseUnlock(_ vault: Vault) throws {
        try state.rememberUnlockedSlot(of: vault)
        try state.confirm(vault)
    }

    /// A user confirmed on the terminal that `vault` is the one meant.
    public func confirm(_ vault: Vault) throws {
        try state.confirm(vault)
    }

    /// After a write: `vault` as written is remembered on `branch` (`TrustStore.remember`).
    public func remember(_ vault: Vault, at path: String, branch: String, acceptingRollback: Bool = false) throws {
        try state.remember(vault, at: path, branch: branch, acceptingRollback: acceptingRollback)
    }

    /// The trust store's findings about `vault`, without remembering it.
    public func findings(for vault: Vault, at path: String, branch: String) throws -> [TrustStore.Finding] {
        try state.findings(for: vault, at: path, branch: branch)
    }

    /// What the trust store remembers of `vault`'s id on `branch`.
    public func record(for vault: Vault, branch: String) throws -> TrustStore.Record? {
        try state.record(for: vault, branch: branch)
    }

    /// The pinned verification key of `vault`'s id.
    public func pinnedKey(for vault: Vault) throws -> [UInt8]? {
        try state.pinnedKey(for: vault)
    }

    /// A vault just created at `path`: trusted as made (it pins its own key, replacing any record there).
    public func acceptCreated(_ vault: Vault, at path: String) throws {
        try state.trust(vault, at: path, branch: GitBranch.current(forFileAt: path))
        try vouchAfterPassphraseUnlock(vault)
    }

    /// `coffer trust`: the vault as it is now, its history up to HEAD included, is accepted.
    public func accept(_ vault: Vault, at path: String, branch: String) throws {
        try state.trust(vault, at: path, branch: branch)
        try state.confirm(vault)
        if !branch.isEmpty {
            let record = HistoryState.Record(version: HistoryState.version(of: vault), commit: GitHistory.head(ofRepositoryHolding: path))
            try state.rememberHistory(record, for: vault.vaultID)
        }
    }
}
