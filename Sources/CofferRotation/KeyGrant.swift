public import CofferCodec
public import CofferCrypto

/// Why keys could not be used. Coffer maps these onto `CofferError`.
public enum KeyError: Error, Equatable, Sendable {
    /// No slot opened with the credential given.
    case authenticationFailed
    /// The grant in hand does not cover this scope (a scoped slot), or is not a master key.
    case scopeNotGranted(Scope)
    /// Only a master-key holder can do this (sign, add slots, rotate).
    case masterKeyRequired
    /// The file is authentic-looking but inconsistent with the keys: `part` says where.
    case tampered(part: String)
    /// A passphrase slot's authenticator does not match its vault: the file was made by someone
    /// who copied the slot, not by a holder of the passphrase.
    case forged(slot: String)
    /// A passphrase slot without an authenticator (written by 1.0): `coffer upgrade` adds one.
    case unauthenticatedSlot(slot: String)
    /// The file asks one unlock for more Argon2id work than a reader spends; `reason` names the cap.
    case unlockTooCostly(String)
}

/// Subkey ids of the master key (Specs/vault-format.md §3.1).
public enum SubkeyID {
    public static let signing: UInt64 = 1
    public static let scopeRoot: UInt64 = 2
    public static let session: UInt64 = 3
    static let context: StaticString = "COFFERv1"
}

/// The keys a slot grants: the master key (a full grant), or the scope keys of one scoped slot.
public final class KeyGrant {
    /// The master key of a full grant; nil for a scoped one.
    public let masterKey: SecureBytes?
    /// The scope a scoped grant was made for; `.global` for a full grant.
    public let grantedScope: Scope
    private let scopeRoot: SecureBytes?
    /// A scoped grant's keys; empty for a full grant, which derives them.
    private let scopeKeys: [Scope: SecureBytes]

    /// A full grant over `masterKey` (32 bytes).
    public init(masterKey: SecureBytes) {
        precondition(masterKey.count == SlotLayout.keyByteCount)
        self.masterKey = masterKey
        self.grantedScope = .global
        self.scopeKeys = [:]
        self.scopeRoot = BLAKE2b.deriveSubkey(from: masterKey, id: SubkeyID.scopeRoot, context: SubkeyID.context)
    }

    /// A fresh random master key.
    public static func generate() -> KeyGrant {
        KeyGrant(masterKey: SecureBytes.random(count: SlotLayout.keyByteCount))
    }

    private init(scope: Scope, scopeKeys: [Scope: SecureBytes]) {
        masterKey = nil
        scopeRoot = nil
        grantedScope = scope
        self.scopeKeys = scopeKeys
    }

    /// Parses grant bytes as a slot of `scope` holds them (Specs/vault-format.md §3.3).
    static func parsing(_ grant: SecureBytes, scope: Scope) -> KeyGrant {
        if scope.isGlobal { return KeyGrant(masterKey: grant) }
        var keys: [Scope: SecureBytes] = [:]
        for (index, visible) in scope.visibleScopes.enumerated() {
            keys[visible] = grant.slice(index * 32..<(index + 1) * 32)
        }
        return KeyGrant(scope: scope, scopeKeys: keys)
    }

    public var isFull: Bool { masterKey != nil }

    /// Whether entries of `scope` can be opened with this grant.
    public func canOpen(_ scope: Scope) -> Bool {
        isFull || scopeKeys[scope] != nil
    }

    /// The key of `scope`: a scoped grant's own, or derived from a full grant's scope root on
    /// each call (nothing is stored, so threads may share a grant).
    public func scopeKey(for scope: Scope) throws(KeyError) -> SecureBytes {
        if let key = scopeKeys[scope] { return key }
        guard let scopeRoot else { throw .scopeNotGranted(scope) }
        return BLAKE2b.keyedHash(FormatMessages.scopeKey(scope), key: scopeRoot)
    }

    /// The grant bytes a slot of `scope` wraps: the master key, or the visible scopes' keys.
    public func grantBytes(for scope: Scope) throws(KeyError) -> SecureBytes {
        guard let masterKey else { throw .masterKeyRequired }
        if scope.isGlobal { return masterKey }
        let visible = scope.visibleScopes
        let grant = SecureBytes(count: visible.count * 32)
        for (index, visibleScope) in visible.enumerated() {
            let key = try scopeKey(for: visibleScope)
            grant.withUnsafeMutableBytes { out in
                key.withUnsafeBytes { key in
                    UnsafeMutableRawBufferPointer(rebasing: out[(index * 32)..<((index + 1) * 32)]).copyMemory(from: key)
                }
            }
        }
        return grant
    }

    /// The vault's signing key, which the master key determines.
    public func signingKey() throws(KeyError) -> Ed25519.SigningKey {
        guard let masterKey else { throw .masterKeyRequired }
        let seed = BLAKE2b.deriveSubkey(from: masterKey, id: SubkeyID.signing, context: SubkeyID.context)
        do {
            return try Ed25519.SigningKey(seed: seed)
        } catch {
            preconditionFailure("a 32-byte seed always makes a signing key")
        }
    }

    /// A subkey for binding CLI sessions to this master key.
    public func sessionKey() throws(KeyError) -> SecureBytes {
        guard let masterKey else { throw .masterKeyRequired }
        return BLAKE2b.deriveSubkey(from: masterKey, id: SubkeyID.session, context: SubkeyID.context)
    }
}
