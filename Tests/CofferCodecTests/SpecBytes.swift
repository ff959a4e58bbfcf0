import CofferCodec

// Vault files spelled out field by field from Specs/vault-format.md §1–2, independently of
// CofferCodec's own writer, so that the tests check the codec against the document. Every
// field is raw bytes, so a test can put anything (an invalid name, a non-minimal integer) in it.

func uvarint(_ value: UInt64) -> [UInt8] {
    var value = value, bytes: [UInt8] = []
    while value >= 0x80 {
        bytes.append(UInt8(value & 0x7F) | 0x80)
        value >>= 7
    }
    return bytes + [UInt8(value)]
}

func lp(_ bytes: [UInt8]) -> [UInt8] { uvarint(UInt64(bytes.count)) + bytes }

func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

/// An extension list (§2.3) of `(tag, body)` pairs, in the order given.
func extensions(_ items: [(tag: UInt64, body: [UInt8])]) -> [UInt8] {
    items.reduce(uvarint(UInt64(items.count))) { $0 + uvarint($1.tag) + lp($1.body) }
}

struct RawSlot {
    var id: UInt32
    var kind: UInt8 = 1
    var label = ascii("passphrase")
    var created = uvarint(1_700_000_000)
    var project: [UInt8] = []
    var domain: [UInt8] = []
    var salt = [UInt8](repeating: 0x11, count: 16)
    var opsLimit = uvarint(2)
    var memLimit = uvarint(64 << 20)
    var publicKey = [UInt8](repeating: 0x22, count: 32)
    /// nil: filler of the length §3.4 requires for the slot's scope.
    var wrapped: [UInt8]?
    var extensions: [UInt8] = [0]

    /// §3.3–3.4: 48 + len(slot_binding) + 32 bytes per granted key.
    var requiredWrappedCount: Int {
        let binding = ascii("coffer-slot\0").count + 1 + 16 + 4 + lp(project).count + lp(domain).count
        let keys = project.isEmpty && domain.isEmpty ? 1 : (project.isEmpty || domain.isEmpty ? 2 : 4)
        return 48 + binding + 32 * keys
    }

    var bytes: [UInt8] {
        var out = littleEndian(id) + [kind] + lp(label) + created + lp(project) + lp(domain)
        if kind == 1 { out += salt + opsLimit + memLimit }
        return out + publicKey + lp(wrapped ?? [UInt8](repeating: 0x66, count: requiredWrappedCount)) + extensions
    }
}

struct RawEntry {
    var name: [UInt8]
    var project: [UInt8]
    var domain: [UInt8]
    var created = uvarint(1_700_000_000)
    var updated = uvarint(1_700_000_100)
    var flags = uvarint(0)
    var description: [UInt8] = []
    var extensions: [UInt8] = [0]
    var sealed = [UInt8](repeating: 0x77, count: 45)

    init(_ project: String, _ domain: String, _ name: String) {
        self.project = ascii(project)
        self.domain = ascii(domain)
        self.name = ascii(name)
    }

    var bytes: [UInt8] {
        lp(name) + lp(project) + lp(domain) + created + updated + flags + lp(description) + extensions + lp(sealed)
    }
}

struct RawFile {
    var magic: [UInt8] = [0x89, 0x43, 0x4F, 0x46, 0x46, 0x45, 0x52, 0x0A]
    var major: UInt8 = 1
    var minor: UInt8 = 0
    var vaultID = [UInt8](repeating: 0x33, count: 16)
    var generation: UInt64 = 7
    var genesisKey = [UInt8](repeating: 0x44, count: 32)
    /// link_count and the links.
    var chain = uvarint(0)
    var extensions: [UInt8] = [0]
    /// nil: the number of `slots`.
    var slotCount: [UInt8]?
    var slots = [RawSlot(id: 0x0102_0304)]
    /// nil: the number of `entries`.
    var entryCount: [UInt8]?
    var entries = [RawEntry("", "", "API_TOKEN"), RawEntry("web", "", "db.password"), RawEntry("web", "prod", "db.password")]
    var signature = [UInt8](repeating: 0x55, count: 64)

    var bytes: [UInt8] {
        var out = magic + [major, minor] + vaultID + littleEndian(generation) + genesisKey + chain + extensions
        out += slotCount ?? uvarint(UInt64(slots.count))
        out += slots.flatMap(\.bytes)
        out += entryCount ?? uvarint(UInt64(entries.count))
        out += entries.flatMap(\.bytes)
        return out + signature
    }
}

/// The decoder's error for `bytes`, nil when they decode.
func decodeError(_ bytes: [UInt8]) -> CodecError? {
    do {
        _ = try VaultDecoder.decode(bytes)
        return nil
    } catch {
        return error
    }
}

extension CodecError {
    /// Where a `.malformed` file went wrong.
    var part: String? {
        if case let .malformed(part, _) = self { part } else { nil }
    }

    static func entry(_ reason: String, in part: String = "global/API_TOKEN") -> CodecError {
        .malformed(part: "entry \(part)", reason: reason)
    }

    static func slot(_ reason: String) -> CodecError {
        .malformed(part: "slot 01020304", reason: reason)
    }
}
