public import CofferCodec

/// A vault's identity as one line a user can keep: its id and genesis key (Specs/vault-format.md
/// §8). Both are fixed for the vault's life: rotations and re-keys keep them, and no one without
/// the first master key can sign a file that carries them (§4).
public struct VaultPin: Equatable, Sendable, CustomStringConvertible {
    public static let prefix = "coffer-pin:v1:"
    /// `COFFER_VAULT_PIN`: one or more pins, separated by whitespace.
    public static let environmentVariable = "COFFER_VAULT_PIN"
    /// A comment line of an identity file carrying a pin is `# ` and the pin (age ignores it).
    public static let identityFileLinePrefix = "# " + prefix

    public let vaultID: [UInt8]
    public let genesisKey: [UInt8]

    public init(vaultID: [UInt8], genesisKey: [UInt8]) {
        self.vaultID = vaultID
        self.genesisKey = genesisKey
    }

    public init(_ vault: Vault) {
        self.init(vaultID: vault.vaultID, genesisKey: vault.keyChain.genesisKey)
    }

    /// `coffer-pin:v1:<vault id, 32 lower-case hex digits>:<genesis key, 64 lower-case hex digits>`.
    public var description: String {
        Self.prefix + TextView.hex(vaultID) + ":" + TextView.hex(genesisKey)
    }

    /// The comment line that carries this pin in an identity file, newline included.
    public var identityFileLine: String { "# " + description + "\n" }

    /// Parses `description`'s form exactly; anything else is an error naming where it came from.
    public init(parsing text: some StringProtocol, source: String) throws {
        let text = Substring(text)
        let fields = text.dropFirst(Self.prefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard text.hasPrefix(Self.prefix), fields.count == 2,
              let id = Self.lowerHex(fields[0], count: VaultFile.vaultIDByteCount),
              let key = Self.lowerHex(fields[1], count: VaultFile.keyByteCount) else {
            throw CofferError.invalidArgument("\(source): not a vault pin (expected \(Self.prefix)<32 hex digits>:<64 hex digits>)")
        }
        self.init(vaultID: id, genesisKey: key)
    }

    private static func lowerHex(_ text: Substring, count: Int) -> [UInt8]? {
        let digits = text.utf8.compactMap { byte -> UInt8? in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        guard digits.count == text.utf8.count, digits.count == count * 2 else { return nil }
        return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }

    /// The pins in a whitespace-separated list (`COFFER_VAULT_PIN`).
    public static func pins(inList text: String, source: String) throws -> [VaultPin] {
        try text.split(whereSeparator: \.isWhitespace).map { try VaultPin(parsing: $0, source: source) }
    }

    /// The pins on `# coffer-pin:v1:...` comment lines of an identity file's text (CRLF accepted).
    /// Only comment lines are read; the file's keys are left to the identity parser.
    public static func pins(inIdentityFile contents: UnsafeRawBufferPointer, path: String) throws -> [VaultPin] {
        var pins: [VaultPin] = []
        for (number, line) in contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where line.starts(with: identityFileLinePrefix.utf8) {
            var text = String(decoding: line.dropFirst(2), as: UTF8.self)
            if text.hasSuffix("\r") { text.removeLast() }
            pins.append(try VaultPin(parsing: text, source: "\(path):\(number + 1)"))
        }
        return pins
    }

    /// A short fingerprint of the identity a pin names, as messages show it.
    public var fingerprint: String { TextView.fingerprint((vaultID + genesisKey)[...]) }

    /// Refuses `vault` (`forged`, exit 4) when `pins` is not empty and none of them names it.
    public static func check(_ vault: Vault, against pins: [VaultPin]) throws {
        let actual = VaultPin(vault)
        guard !pins.isEmpty, !pins.contains(actual) else { return }
        let expected = pins.map(\.fingerprint).joined(separator: ", ")
        throw CofferError.forged(
            "\(vault.path) is vault \(actual.fingerprint), not the pinned vault \(expected): refused (forged or substituted, or the wrong pin)")
    }
}
