import ArgumentParser
import Coffer
import CofferCrypto
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct Pin: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pin",
            abstract: "Print the vault's pin: one line naming its id and first key, for --pin, $COFFER_VAULT_PIN or an identity file.",
            discussion: """
                With a pin, coffer refuses any other vault (exit 4) before asking for a key: a forged \
                vault made from this one's public parts, or another vault at this path. Rotations and \
                re-keys keep the pin. Specs/vault-format.md §8.
                """)

        @OptionGroup var location: VaultOptions

        func run() throws {
            Terminal.output(VaultPin(try location.open()).description + "\n")
        }
    }
}

extension VaultOptions {
    /// Refuses `vault` unless it matches a pin from --pin, $COFFER_VAULT_PIN or
    /// $COFFER_IDENTITY_FILE's comments (when any is given); before any key is asked for.
    func checkPins(_ vault: Vault) throws {
        try Self.checkPins(vault, flags: pin, identityFile: ProcessInfoLite.environment["COFFER_IDENTITY_FILE"])
    }

    static func checkPins(_ vault: Vault, flags: [String], identityFile: String?) throws {
        var pins = try flags.map { try VaultPin(parsing: $0, source: "--pin") }
        if let list = ProcessInfoLite.environment[VaultPin.environmentVariable] {
            pins += try VaultPin.pins(inList: list, source: "$\(VaultPin.environmentVariable)")
        }
        if let identityFile, access(identityFile, R_OK) == 0 {
            let contents = try FileInput.read(identityFile, limit: 1 << 20)
            pins += try contents.withUnsafeBytes { try VaultPin.pins(inIdentityFile: $0, path: identityFile) }
        }
        if let text = ProcessInfoLite.environment[KeySources.identityVariable] {
            pins += try Array(text.utf8).withUnsafeBytes { try VaultPin.pins(inIdentityFile: $0, path: "$" + KeySources.identityVariable) }
        }
        try VaultPin.check(vault, against: pins)
        if !pins.isEmpty { FirstUse.pinned.insert(vault.vaultID) }
    }

    /// The `# coffer-pin:...` line for this vault, to put in an identity file.
    func pinLine() throws -> [UInt8] {
        Array(VaultPin(try open()).identityFileLine.utf8)
    }
}
