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
    /// The pins a vault must match (VaultTrust.pins): --pin, $COFFER_VAULT_PIN, and the comments
    /// of $COFFER_IDENTITY_FILE or `identityFile`, and of $COFFER_IDENTITY.
    func pins(identityFile: String? = nil) throws -> [VaultPin] {
        let environment = ProcessInfoLite.environment
        return try VaultTrust.pins(
            given: pin.map { try VaultPin(parsing: $0, source: "--pin") }, environment: environment,
            identityFile: identityFile ?? environment["COFFER_IDENTITY_FILE"])
    }

    /// The `# coffer-pin:...` line for this vault, to put in an identity file.
    func pinLine() throws -> [UInt8] {
        Array(VaultPin(try open()).identityFileLine.utf8)
    }
}
