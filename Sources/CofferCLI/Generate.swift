import ArgumentParser
import Coffer
import CofferCrypto

extension CofferCommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Store a random secret without showing it.")

        enum Charset: String, ExpressibleByArgument, CaseIterable {
            case alnum, ascii, hex, base64

            var alphabet: [UInt8] {
                switch self {
                case .alnum: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
                case .ascii: Array(33...126)
                case .hex: Array("0123456789abcdef".utf8)
                case .base64: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
                }
            }
        }

        @Argument(help: "The secret's name.")
        var name: String

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(name: .long, help: "Number of characters (default 32).")
        var length = 32

        @Option(name: .long, help: "alnum (default), ascii (printable), hex or base64 alphabet.")
        var charset = Charset.alnum

        @Flag(name: .long, help: "Replace an existing secret of this name.")
        var overwrite = false

        @Option(name: .long, help: "A description stored in plaintext beside the name.")
        var description: String?

        func validate() throws {
            guard (1...4096).contains(length) else { throw ValidationError("--length must be 1 to 4096") }
        }

        /// Uniform characters from `alphabet` by rejection sampling of random bytes.
        static func randomText(length: Int, alphabet: [UInt8]) -> [UInt8] {
            let limit = 256 - 256 % alphabet.count
            var text: [UInt8] = []
            text.reserveCapacity(length)
            while text.count < length {
                for byte in SecureRandom.bytes(length) where Int(byte) < limit && text.count < length {
                    text.append(alphabet[Int(byte) % alphabet.count])
                }
            }
            return text
        }

        func run() throws {
            let value = Self.randomText(length: length, alphabet: charset.alphabet)
            try location.modify(unlock: unlock) { vault in
                try vault.set(name, value: value, in: scopeOptions.scope, overwrite: overwrite, description: description)
            }
            Terminal.writeAll(2, Array("coffer: generated \(name) (\(length) \(charset.rawValue) characters)\n".utf8))
        }
    }
}
