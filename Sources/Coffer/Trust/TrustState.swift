public import CofferCodec

/// This machine's trust state as one command sees it: the trust store (rollbacks, forks, pins,
/// substitutions; Specs/git.md), the confirmed vaults and known passphrase slots beside it
/// (Specs/vault-format.md §8) and the history state. Each file is read at most once, when the
/// command first needs it, and written at most once, by `write()` at the end, under its lock;
/// the rules are those of `TrustStore`, `ConfirmedVaults`, `KnownPassphraseSlots` and
/// `HistoryState`, applied to the state in hand.
public final class TrustState {
    public let trustStorePath: String
    private let store: StateFile<TrustStore.State>
    private let confirmed: StateFile<[[String]]>
    private let passphraseSlots: StateFile<[[String]]>
    private let history: StateFile<[String: HistoryState.Record]>

    /// The state of `trustStore` and of the files beside it (`HistoryState` too).
    public init(trustStore: TrustStore) {
        trustStorePath = trustStore.path
        store = trustStore.file()
        confirmed = ConfirmedVaults.lines(besideTrustStore: trustStore.path).file()
        passphraseSlots = KnownPassphraseSlots.lines(besideTrustStore: trustStore.path).file()
        history = HistoryState(path: HistoryState.path(besideTrustStore: trustStore.path)).file()
    }

    /// Reads again each file read so far that another command replaced since (a `stat` each
    /// otherwise): a write checks the trust rules under the vault's lock against what is current.
    public func refresh() throws {
        try store.refresh()
        try confirmed.refresh()
        try passphraseSlots.refresh()
        try history.refresh()
    }

    /// Writes every file this command changed, each once.
    public func write() throws {
        try store.write()
        try confirmed.write()
        try passphraseSlots.write()
        try history.write()
    }

    // MARK: Trust store

    /// The problems with opening `vault` from `filePath` on `branch` ("" outside git).
    public func findings(for vault: Vault, at filePath: String, branch: String) throws -> [TrustStore.Finding] {
        TrustStore.findings(for: vault, at: filePath, branch: branch, in: try store.current())
    }

    /// `findings`, and when there are none, `remember`.
    public func check(_ vault: Vault, at filePath: String, branch: String) throws -> [TrustStore.Finding] {
        let findings = try findings(for: vault, at: filePath, branch: branch)
        if findings.isEmpty { try remember(vault, at: filePath, branch: branch) }
        return findings
    }

    /// `TrustStore.remember`, written by `write()`.
    public func remember(_ vault: Vault, at filePath: String, branch: String, acceptingRollback: Bool = false) throws {
        try store.change(TrustStore.remembering(vault, at: filePath, branch: branch, acceptingRollback: acceptingRollback))
    }

    /// `TrustStore.trust`, written by `write()`.
    public func trust(_ vault: Vault, at filePath: String, branch: String) throws {
        try store.change(TrustStore.trusting(vault, at: filePath, branch: branch))
    }

    /// What is remembered of `vault`'s id on `branch`.
    public func record(for vault: Vault, branch: String) throws -> TrustStore.Record? {
        try store.current().versions[TextView.hex(vault.vaultID) + " " + branch]
    }

    /// The pinned verification key of `vault`'s id.
    public func pinnedKey(for vault: Vault) throws -> [UInt8]? {
        try store.current().keys[TextView.hex(vault.vaultID)]?.last?.key
    }

    // MARK: Confirmed vaults

    /// Whether a user of this machine vouched for `vault` (`ConfirmedVaults`).
    public func isConfirmed(_ vault: Vault) throws -> Bool {
        try confirmed.current().contains(ConfirmedVaults.record(vault))
    }

    /// Records `vault` as confirmed.
    public func confirm(_ vault: Vault) throws {
        let record = ConfirmedVaults.record(vault)
        try confirmed.change { StateLines.add(record, to: &$0) }
    }

    // MARK: Passphrase slots

    /// Refuses (`forged`, exit 4) a vault whose passphrase slot is known here from another vault.
    public func checkPassphraseSlots(_ vault: Vault) throws {
        try KnownPassphraseSlots.check(vault, against: passphraseSlots.current())
    }

    /// Records the passphrase slot `vault` was unlocked with (`KnownPassphraseSlots`).
    public func rememberUnlockedSlot(of vault: Vault) throws {
        guard let record = KnownPassphraseSlots.record(ofUnlockedSlot: vault) else { return }
        try passphraseSlots.change { StateLines.add(record, to: &$0) }
    }

    // MARK: History state

    public func historyRecord(for vaultID: [UInt8]) throws -> HistoryState.Record? {
        try history.current()[TextView.hex(vaultID)]
    }

    public func rememberHistory(_ record: HistoryState.Record, for vaultID: [UInt8]) throws {
        let id = TextView.hex(vaultID)
        try history.change { $0[id] = record }
    }
}
