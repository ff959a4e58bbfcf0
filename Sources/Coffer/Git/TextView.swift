public import CofferCodec
import CofferCrypto
import CofferRotation

/// A stable text view of a vault for `git diff` (Specs/git.md): one line per fact, never a
/// value. A changed value shows as a changed fingerprint of its sealed bytes.
public enum TextView {
    public static func render(_ file: VaultFile) -> String {
        var lines = [
            "coffer-vault \(VaultFile.major).\(file.minor)",
            "vault-id \(hex(file.vaultID))",
            "generation \(file.generation)",
            "verification-key \(hex(file.keyChain.currentKey))",
            "key-chain \(file.keyChain.links.count)",
        ]
        for slot in file.slots {
            var line = "slot \(slot.idText) "
            switch slot.kind {
            case let .passphrase(_, ops, mem): line += "passphrase argon2id-ops=\(ops) argon2id-mem=\(mem)"
            case .recipient: line += "recipient key=\(hex(slot.publicKey))"
            case let .sshEd25519(sshKey):
                line += "ssh-ed25519 \(SSHPublicKey.fingerprint(ed25519: sshKey)) key=\(hex(slot.publicKey))"
            case let .plugin(recipient, _): line += "plugin recipient=\(recipient) key=\(hex(slot.publicKey))"
            }
            line += " scope=\(slot.scope) label=\(quoted(slot.label)) created=\(slot.created)"
            lines.append(line)
        }
        for entry in file.entries {
            lines.append(
                "entry \(entry.scope) \(entry.name) created=\(entry.created) updated=\(entry.updated)"
                    + " flags=\(entry.isNoReveal ? "no-reveal" : "-") description=\(quoted(entry.description))"
                    + " value=\(fingerprint(entry.sealedValue))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// 16 hex digits of BLAKE2b over the sealed bytes: changes with every new seal, reveals nothing.
    public static func fingerprint(_ sealed: ArraySlice<UInt8>) -> String {
        hex(sealed.withUnsafeBytes { BLAKE2b.hash($0, byteCount: 16) }.prefix(8))
    }

    /// Lower-case hex, as every text form of Coffer shows ids and keys.
    public static func hex<C: Collection<UInt8>>(_ bytes: C) -> String {
        String(decoding: ByteEncoding.hex(Array(bytes), uppercase: false), as: UTF8.self)
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingBackslashesAndQuotes() + "\""
    }
}

extension String {
    func replacingBackslashesAndQuotes() -> String {
        var out = ""
        for character in self {
            if character == "\\" || character == "\"" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
