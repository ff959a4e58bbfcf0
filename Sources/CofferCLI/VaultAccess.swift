import Coffer

/// Every command opens vaults here, so rollback, fork and forgery checks (Specs/git.md) apply to all.
extension VaultOptions {
    static let trustStore = TrustStore(path: TrustStore.defaultPath(environment: ProcessInfoLite.environment))
    static let knownSlots = KnownPassphraseSlots(besideTrustStore: trustStore.path)

    /// Opens the vault for reading: refuses forged or substituted vaults, warns on rollbacks and forks.
    func open() throws -> Vault {
        try openWithFindings().vault
    }

    /// `open`, and what it warned about: the trust findings, and a break the history check found.
    func openWithFindings() throws -> (vault: Vault, findings: [TrustStore.Finding], historyBreak: String?) {
        let path = try resolvedPath()
        let vault = try Vault.open(at: path)
        try checkPins(vault)
        try Self.knownSlots.check(vault)
        try FirstUse.noteOpening(vault)
        let branch = GitBranch.current(forFileAt: path)
        let historyBreak = try Self.historyBreak(vault, at: path, branch: branch)
        // A vault whose history breaks is not remembered: its key must not become the pin.
        let findings = try Self.refusingBlocked(historyBreak == nil
            ? Self.trustStore.check(vault, at: path, branch: branch) : Self.trustStore.findings(for: vault, at: path, branch: branch))
        if let historyBreak { Terminal.warn(historyBreak + "; writes are refused") }
        for finding in findings { Terminal.warn(finding.message) }
        return (vault, findings, historyBreak)
    }

    static let historyState = HistoryState(path: HistoryState.defaultPath(environment: ProcessInfoLite.environment))

    /// The automatic history check (Specs/git.md): when the vault's verification key is not the
    /// one recorded when its history was last checked, and it is in a git repository, the commits
    /// since the last checked one are checked once (all of them the first time). Returns why the
    /// history breaks, or nil; git unavailable or failing checks nothing and records nothing.
    static func historyBreak(_ vault: Vault, at path: String, branch: String) throws -> String? {
        guard !branch.isEmpty else { return nil }
        let record = try historyState.record(for: vault.vaultID)
        if let record, record.key == vault.verificationKey { return nil }
        let head: String?
        do {
            head = try GitHistory.check(vaultAt: path, since: record?.commit, working: vault).head
        } catch let broken as HistoryCheck.Break {
            return "history check: " + broken.reason
        } catch {
            return nil
        }
        try historyState.remember(HistoryState.Record(key: vault.verificationKey, commit: head), for: vault.vaultID)
        return nil
    }

    /// A locked read-modify-write; refuses rollbacks and forks unless --allow-rollback.
    func modify<R>(unlock: UnlockOptions, _ body: (Vault) throws -> R) throws -> R {
        try modify(unlocking: { try unlock.unlock($0, forWriting: true) }, body)
    }

    /// `modify` with the vault unlocked by `unlocking` (a grant already in hand, for example).
    func modify<R>(unlocking: (Vault) throws -> Void, _ body: (Vault) throws -> R) throws -> R {
        let path = try resolvedPath()
        let branch = GitBranch.current(forFileAt: path)
        // A forged or substituted vault is refused before any passphrase is asked for; rollbacks
        // and forks are checked under the lock only: before it, another writer may be ahead.
        return try Vault.modify(at: path, unlock: { vault in
            try checkPins(vault)
            try Self.knownSlots.check(vault)
            _ = try Self.refusingBlocked(Self.trustStore.findings(for: vault, at: path, branch: branch))
            if let historyBreak = try Self.historyBreak(vault, at: path, branch: branch) {
                throw Failure(.corrupted, historyBreak + "; writing refused (after checking, coffer trust)")
            }
            try unlocking(vault)
        }) { vault in
            try checkForWriting(vault, at: path, branch: branch)
            let result = try body(vault)
            if vault.hasUnsavedChanges { try vault.save() }
            try Self.trustStore.remember(vault, at: path, branch: branch, acceptingRollback: allowRollback)
            return result
        }
    }

    /// `findings`, unless one blocks even reading (a forged or substituted vault): then an error.
    static func refusingBlocked(_ findings: [TrustStore.Finding]) throws -> [TrustStore.Finding] {
        if let blocking = findings.first(where: \.blocksReads) { throw Failure(.corrupted, blocking.message) }
        return findings
    }

    private func checkForWriting(_ vault: Vault, at path: String, branch: String) throws {
        for finding in try Self.trustStore.findings(for: vault, at: path, branch: branch)
        where !(allowRollback && finding.allowRollbackOverrides) {
            throw Failure(.corrupted, finding.message + (finding.allowRollbackOverrides ? "; writing refused (--allow-rollback to proceed)" : ""))
        }
    }
}
