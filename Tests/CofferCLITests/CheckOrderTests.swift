import Foundation
import Testing

/// Checks that need no key come before any value or passphrase is asked for; text that could
/// hide what it says is refused; the empty-value rule is the same on every input path.
@Suite struct CheckOrderTests {
    /// A passphrase file that does not exist: a command that reached the passphrase would fail
    /// with 6, so any other code shows the check came first.
    static func noKey(_ box: Sandbox) -> [String] { ["--vault", box.vault, "--passphrase-file", box.root + "/never-read"] }

    @Test func keylessChecksComeBeforeValueAndPassphrase() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("pg.password", "check-order-value")
        let key = Self.noKey(box)
        // set: an existing name, an invalid name, an invalid scope (stdin is never read: empty)
        box.expectFailure(5) { box.coffer(["set", "pg.password"] + key, stdin: []) }
        box.expectFailure(1) { box.coffer(["set", "bad name"] + key, stdin: []) }
        box.expectFailure(1) { box.coffer(["set", "ok", "--project", "a/b"] + key, stdin: []) }
        // import: a clash and a parse error
        let clash = box.root + "/clash.env"
        try box.write(clash, "NEW=1\npg.password=2\n")
        let clashed = box.expectFailure(5) { box.coffer(["import", clash] + key) }
        #expect(clashed.stderr.contains("clash.env:2"), "\(clashed.stderr)")
        let broken = box.root + "/broken.json"
        try box.write(broken, "{\"a\": 1,}")
        box.expectFailure(1) { box.coffer(["import", broken] + key) }
        // render: a name the scope cannot resolve
        let template = box.root + "/flow.yml"
        try box.write(template, "a: {{ secret('nowhere') }}\n")
        let unknown = box.expectFailure(1) { box.coffer(["render", template] + key) }
        #expect(unknown.stderr.contains("flow.yml:1: unknown secret nowhere"), "\(unknown.stderr)")
    }

    @Test func labelsAndDescriptionsRefuseHiddenControls() throws {
        let box = try Sandbox()
        box.makeVault()
        for text in ["C1 \u{85} next line", "bidi \u{202E}txt.exe", "isolate \u{2066}x\u{2069}", "mark \u{200F}", "del \u{7F}"] {
            let result = box.expectFailure(1) {
                box.unlocked(["set", "described", "--description", text], stdin: Array("v4lue".utf8))
            }
            #expect(result.stderr.contains("bidirectional"), "\(result.stderr)")
        }
        let label = box.root + "/other.coffer"
        box.expectFailure(1, vault: label) {
            box.coffer(["init", "--vault", label, "--label", "ops\u{202E}", "--passphrase-file", box.passphraseFile] + Sandbox.tinyKDF)
        }
        box.store("plain", "v4lue", ["--description", "café — ok"])
    }

    @Test func emptyValuesAreRefusedOnEveryPath() throws {
        let box = try Sandbox()
        box.makeVault()
        let empty = box.root + "/empty"
        try box.write(empty, "")
        for (args, stdin) in [(["--from-file", empty], [UInt8]()), (["--value", ""], []), ([], []), ([], Array("\n".utf8))] {
            let result = box.expectFailure(1) { box.unlocked(["set", "empty"] + args, stdin: stdin) }
            #expect(result.stderr.contains("empty"), "\(args): \(result.stderr)")
        }
        let dotenv = box.root + "/blank.env"
        try box.write(dotenv, "A=1\nB=\n")
        let imported = box.expectFailure(1) { box.unlocked(["import", dotenv]) }
        #expect(imported.stderr.contains("blank.env:2") && imported.stderr.contains("empty"), "\(imported.stderr)")
    }
}
