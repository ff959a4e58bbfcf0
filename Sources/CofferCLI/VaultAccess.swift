import Coffer

/// Every command opens vaults here, so rollback, fork and forgery checks (Specs/git.md) apply to all.
extension VaultOptions {
    /// The trust rules this process applies, shared with libcoffer (VaultTrust). A command is
    /// one use: it reads each state file at most once and writes it at most once, by a write
    /// under the vault's lock (`modify`) or at its end (`CofferCommand.main`).
    static let trust = VaultTrust(environment: ProcessInfoLite.environment)
    static var trustStore: TrustStore { trust.store }

    /// Opens the vault for reading: refuses forged or substituted vaults, warns on rollbacks and forks.
    func open() throws -> Vault {
        try openWithFindings().vault
    }

    /// `open`, and what it warned about: the trust findings, and a break the history check found.
    func openWithFindings() throws -> (vault: Vault, findings: [TrustStore.Finding], historyBreak: String?) {
        let path = try resolvedPath()
        return try checkingTrust(Vault.open(at: path), at: path)
    }

    /// `open` for reading `name` as a reader selecting `scope` sees it. With a session, a file
    /// unchanged since this shell verified it is read in part (Specs/fast-read.md); the trust
    /// rules apply on every read all the same.
    func open(reading name: String, for scope: Scope) throws -> Vault {
        let path = try resolvedPath()
        let states = ProcessInfoLite.environment[SessionStore.environmentVariable].flatMap { VerifiedStates(store: Sessions.store, token: $0) }
        let read = try VerifiedRead(at: path, lookups: scope.visibleScopes.map { (name, $0) }, states: states)
        KeySources.report(read.throughRecord ? "file unchanged since verified: read without re-hashing it" : "verified the whole file")
        let vault = try checkingTrust(read.vault, at: path).vault
        read.rememberState()
        return vault
    }

    /// The trust rules on a vault just read from `path`; refuses what they block, warns of the rest.
    private func checkingTrust(_ vault: Vault, at path: String) throws -> (vault: Vault, findings: [TrustStore.Finding], historyBreak: String?) {
        let opening = try Self.trust.open(vault, at: path, branch: GitBranch.current(forFileAt: path), pins: try pins())
        if let historyBreak = opening.historyBreak { Terminal.warn(historyBreak + "; writes are refused") }
        for finding in opening.findings { Terminal.warn(finding.message) }
        return (vault, opening.findings, opening.historyBreak)
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
            try Self.trust.checkBeforeWriting(vault, at: path, branch: branch, pins: try pins())
            try unlocking(vault)
        }) { vault in
            // Against the trust state as it is now: another writer may have changed it meanwhile.
            try Self.trust.refresh()
            try Self.trust.checkWrite(vault, at: path, branch: branch, allowRollback: allowRollback, override: "--allow-rollback")
            let result = try body(vault)
            if vault.hasUnsavedChanges { try vault.save() }
            try Self.trust.remember(vault, at: path, branch: branch, acceptingRollback: allowRollback)
            // Written under the vault's lock, once.
            try Self.trust.finish()
            return result
        }
    }
}
