/// A vault file as values: what `VaultDecoder` reads and `VaultEncoder` writes (Specs/vault-format.md §2).
public struct VaultFile: Equatable, Sendable {
    public static let magic: [UInt8] = [0x89, 0x43, 0x4F, 0x46, 0x46, 0x45, 0x52, 0x0A]
    public static let major: UInt8 = 1
    /// 1.1 added the passphrase slot authenticator (Specs/vault-format.md §2.5, §3.6).
    public static let minor: UInt8 = 1
    public static let vaultIDByteCount = 16
    public static let keyByteCount = 32
    public static let signatureByteCount = 64

    /// The minor version the file was written with (this build writes `VaultFile.minor`).
    public var minor: UInt8
    public var vaultID: [UInt8]
    public var generation: UInt64
    public var keyChain: KeyChain
    public var slots: [Slot]
    /// In canonical order: by scope, then name.
    public var entries: [Entry]
    public var signature: [UInt8]

    public init(
        minor: UInt8 = VaultFile.minor, vaultID: [UInt8], generation: UInt64, keyChain: KeyChain,
        slots: [Slot], entries: [Entry], signature: [UInt8] = []
    ) {
        self.minor = minor
        self.vaultID = vaultID
        self.generation = generation
        self.keyChain = keyChain
        self.slots = slots
        self.entries = entries
        self.signature = signature
    }
}

/// The vault's verification keys, oldest first; the last one is current.
public struct KeyChain: Equatable, Sendable {
    public struct Link: Equatable, Sendable {
        public var generation: UInt64
        public var nextKey: [UInt8]
        /// Made by the previous key over `FormatMessages.chainLink`.
        public var signature: [UInt8]

        public init(generation: UInt64, nextKey: [UInt8], signature: [UInt8]) {
            self.generation = generation
            self.nextKey = nextKey
            self.signature = signature
        }
    }

    public var genesisKey: [UInt8]
    public var links: [Link]

    public init(genesisKey: [UInt8], links: [Link] = []) {
        self.genesisKey = genesisKey
        self.links = links
    }

    /// The key that verifies the file's signature.
    public var currentKey: [UInt8] { links.last?.nextKey ?? genesisKey }

    /// Every verification key the vault has had, oldest first.
    public var allKeys: [[UInt8]] { [genesisKey] + links.map(\.nextKey) }
}

/// Which entries a name belongs to: global, a project, a domain, or both. Empty strings mean absent.
public struct Scope: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var project: String
    public var domain: String

    public init(project: String = "", domain: String = "") {
        self.project = project
        self.domain = domain
    }

    public static let global = Scope()

    public var isGlobal: Bool { project.isEmpty && domain.isEmpty }

    /// The scopes a reader selecting this scope sees, most specific first (Specs/vault-format.md §3.3).
    public var visibleScopes: [Scope] {
        var scopes: [Scope] = []
        if !project.isEmpty && !domain.isEmpty { scopes.append(self) }
        if !project.isEmpty { scopes.append(Scope(project: project)) }
        if !domain.isEmpty { scopes.append(Scope(domain: domain)) }
        scopes.append(.global)
        return scopes
    }

    /// `global`, `project=P`, `domain=D` or `project=P,domain=D`.
    public var description: String {
        switch (project.isEmpty, domain.isEmpty) {
        case (true, true): "global"
        case (false, true): "project=\(project)"
        case (true, false): "domain=\(domain)"
        case (false, false): "project=\(project),domain=\(domain)"
        }
    }

    public static func < (a: Scope, b: Scope) -> Bool { compare(a, b) < 0 }

    /// Canonical order (project, then domain, as bytes): negative, zero or positive.
    public static func compare(_ a: Scope, _ b: Scope) -> Int {
        let project = Bytewise.compare(a.project, b.project)
        return project != 0 ? project : Bytewise.compare(a.domain, b.domain)
    }
}

/// A key slot: one way to obtain the master key (or, when scoped, some scope keys).
public struct Slot: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The secret key is Argon2id of a passphrase with these parameters.
        case passphrase(salt: [UInt8], opsLimit: UInt64, memLimit: UInt64)
        /// The secret key is an identity's (age format).
        case recipient
        /// The secret key is an OpenSSH Ed25519 key's, converted to X25519 as age does; the slot
        /// keeps the Ed25519 public key so it can be shown as OpenSSH shows it.
        case sshEd25519(publicKey: [UInt8])
        /// The secret key derives from a 16-byte key an age plugin wrapped into `stanzas` (age's
        /// header stanza text) for `recipient` (`age1NAME1...`).
        case plugin(recipient: String, stanzas: [UInt8])

        public var code: UInt8 {
            switch self {
            case .passphrase: 1
            case .recipient: 2
            case .sshEd25519: 3
            case .plugin: 4
            }
        }
    }

    public var id: UInt32
    public var kind: Kind
    public var label: String
    public var created: UInt64
    /// Global for a full slot (grants the master key); otherwise the scope it grants.
    public var scope: Scope
    /// The X25519 public key the grant is sealed to.
    public var publicKey: [UInt8]
    /// `crypto_box_seal(slot binding || grant, publicKey)`.
    public var wrapped: [UInt8]
    /// A passphrase slot's MAC over its vault's identity (§3.6), kept in the slot's extension
    /// list under `authenticatorTag`; nil in recipient slots and in slots written by 1.0.
    public var authenticator: [UInt8]?

    /// The slot extension tag of the authenticator: even, so a 1.0 reader skips it.
    public static let authenticatorTag: UInt64 = 2
    public static let authenticatorByteCount = 32

    public init(
        id: UInt32, kind: Kind, label: String, created: UInt64, scope: Scope, publicKey: [UInt8], wrapped: [UInt8],
        authenticator: [UInt8]? = nil
    ) {
        self.id = id
        self.kind = kind
        self.label = label
        self.created = created
        self.scope = scope
        self.publicKey = publicKey
        self.wrapped = wrapped
        self.authenticator = authenticator
    }

    /// The slot id as shown to users: 8 lower-case hex digits.
    public var idText: String { Slot.idText(id) }

    public static func idText(_ id: UInt32) -> String {
        let hex = String(id, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Parses an id as `idText` shows it.
    public static func id(fromText text: String) -> UInt32? {
        text.utf8.count == 8 ? UInt32(text, radix: 16) : nil
    }
}

/// One secret: plaintext name, scope and metadata, and its sealed value.
public struct Entry: Equatable, Sendable {
    public static let noRevealFlag: UInt64 = 1
    /// Flag bits a reader must understand (bits 0...31); of these, 1.0 defines bit 0 only.
    public static let criticalFlagMask: UInt64 = 0xFFFF_FFFF
    public static let knownFlags: UInt64 = noRevealFlag

    public var name: String
    public var scope: Scope
    public var created: UInt64
    public var updated: UInt64
    public var flags: UInt64
    public var description: String
    /// `nonce || ciphertext || tag`; a slice of the file when decoded, so no copy is made.
    public var sealedValue: ArraySlice<UInt8>

    public init(
        name: String, scope: Scope, created: UInt64, updated: UInt64, flags: UInt64,
        description: String, sealedValue: ArraySlice<UInt8>
    ) {
        self.name = name
        self.scope = scope
        self.created = created
        self.updated = updated
        self.flags = flags
        self.description = description
        self.sealedValue = sealedValue
    }

    public var isNoReveal: Bool { flags & Entry.noRevealFlag != 0 }

    /// Canonical order: scope, then name, compared as bytes.
    public static func precedes(_ a: Entry, _ b: Entry) -> Bool { compare(a, b) < 0 }

    /// Canonical order as a comparison: negative, zero or positive.
    public static func compare(_ a: Entry, _ b: Entry) -> Int {
        let scope = Scope.compare(a.scope, b.scope)
        return scope != 0 ? scope : Bytewise.compare(a.name, b.name)
    }
}

/// Orders strings by their UTF-8 bytes, as the format's canonical order does.
enum Bytewise {
    /// Negative, zero or positive as `a` sorts before, equal to or after `b`.
    static func compare(_ a: String, _ b: String) -> Int {
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in compare(x[...], y[...]) } }
    }

    static func compare(_ a: Slice<UnsafeBufferPointer<UInt8>>, _ b: Slice<UnsafeBufferPointer<UInt8>>) -> Int {
        for (x, y) in zip(a, b) where x != y { return Int(x) - Int(y) }
        return a.count - b.count
    }

    static func compare(_ a: Slice<UnsafeBufferPointer<UInt8>>, _ b: ArraySlice<UInt8>) -> Int {
        b.withUnsafeBufferPointer { compare(a, $0[...]) }
    }
}
