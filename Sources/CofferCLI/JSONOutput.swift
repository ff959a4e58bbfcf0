import Coffer
import CofferCodec
import CofferRotation

/// The `--json` outputs: objects whose keys keep the order given (stable across runs), values
/// already encoded. The schemas are in Specs/cli-json.md.
enum JSONOutput {
    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { Formatting.json($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    static func string(_ text: String) -> String { Formatting.json(text) }

    static func optional(_ text: String?) -> String { text.map(string) ?? "null" }

    /// A key slot, as `slots list --json` and `inspect --json` show it.
    static func slot(_ slot: Slot) -> String {
        var fields = [
            ("id", string(slot.idText)),
            ("label", string(slot.label)),
            ("project", string(slot.scope.project)),
            ("domain", string(slot.scope.domain)),
            ("created", string(Formatting.timestamp(slot.created))),
        ]
        switch slot.kind {
        case let .passphrase(_, ops, mem):
            fields += [("type", string("passphrase")), ("opsLimit", "\(ops)"), ("memLimit", "\(mem)")]
        case .recipient:
            fields += [("type", string("recipient")), ("recipient", string((try? Recipient(publicKey: slot.publicKey))?.text ?? ""))]
        case let .sshEd25519(sshKey):
            fields += [
                ("type", string("ssh-ed25519")), ("recipient", string((try? SSHPublicKey(ed25519: sshKey))?.text ?? "")),
                ("fingerprint", string(SSHPublicKey.fingerprint(ed25519: sshKey))),
            ]
        case let .plugin(recipient, _):
            fields += [("type", string("plugin")), ("recipient", string(recipient))]
        }
        return object(fields)
    }
}
