/// The format's limits (Specs/vault-format.md §2.6). Readers check each before allocating.
public enum Limits {
    public static let fileBytes = 256 << 20
    public static let slots = 64
    public static let chainLinks = 1024
    public static let entries = 1_000_000
    public static let nameBytes = 128
    public static let scopeNameBytes = 64
    public static let labelBytes = 128
    /// A plugin slot's recipient text and its stanzas (Specs/vault-format.md 2.1).
    public static let pluginRecipientBytes = 1024
    public static let pluginStanzaBytes = 16 << 10
    public static let descriptionBytes = 1024
    public static let valueBytes = 1 << 20
    public static let extensions = 16
    public static let extensionBytes = 65_536
    public static let opsLimit: ClosedRange<UInt64> = 1...16
    public static let memLimit: ClosedRange<UInt64> = 8192...(4 << 30)
    public static let sealedOverhead = 40
    public static let saltBytes = 16

    /// Passphrase slots one passphrase unlock may derive keys for (Specs/vault-format.md §3.7).
    public static let passphraseSlotsPerUnlock = 8
    /// Argon2id work one passphrase unlock may spend, as the sum over its passphrase slots of
    /// opslimit × memlimit: 16 GiB-passes, four times libsodium's SENSITIVE preset (4 × 1 GiB).
    public static let unlockWork: UInt64 = 16 << 30

    /// Whether Argon2id costs are within what readers accept (memlimit also a multiple of 1024).
    public static func acceptsArgon2id(opsLimit ops: UInt64, memLimit mem: UInt64) -> Bool {
        opsLimit.contains(ops) && memLimit.contains(mem) && mem % 1024 == 0
    }
}

/// The format's rules for names and free text (Specs/vault-format.md §2.4).
public enum Names {
    /// `A-Z a-z 0-9 . _ -` as bits: bit n of `low` is byte n, bit n of `high` is byte 64 + n.
    private static let nameBytesLow: UInt64 = 0x03FF_6000_0000_0000
    private static let nameBytesHigh: UInt64 = 0x07FF_FFFE_87FF_FFFE

    @inline(__always)
    private static func isNameByte(_ byte: UInt8) -> Bool {
        let bit = UInt64(byte & 63)
        return switch byte >> 6 {
        case 0: nameBytesLow >> bit & 1 == 1
        case 1: nameBytesHigh >> bit & 1 == 1
        default: false
        }
    }

    static func isValidName<C: Collection<UInt8>>(_ bytes: C, maxBytes: Int) -> Bool {
        guard let first = bytes.first, bytes.count <= maxBytes,
              first != UInt8(ascii: "."), first != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy(isNameByte)
    }

    /// An entry name: 1...128 bytes of `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`.
    public static func isValidEntryName(_ name: String) -> Bool {
        isValidName(name.utf8, maxBytes: Limits.nameBytes)
    }

    /// A project or domain: empty (absent), or a name of at most 64 bytes.
    public static func isValidScopeName(_ name: String) -> Bool {
        name.isEmpty || isValidName(name.utf8, maxBytes: Limits.scopeNameBytes)
    }

    /// Labels and descriptions: UTF-8 without control characters, at most `maxBytes`.
    public static func isValidText(_ text: String, maxBytes: Int) -> Bool {
        text.utf8.count <= maxBytes && isValidText(text.utf8)
    }

    /// Valid UTF-8 without control characters. The C0 controls and DEL are single bytes in UTF-8,
    /// so they are checked as bytes; decoding checks the rest.
    static func isValidText<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return false }
        guard bytes.contains(where: { $0 >= 0x80 }) else { return true }  // ASCII
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
