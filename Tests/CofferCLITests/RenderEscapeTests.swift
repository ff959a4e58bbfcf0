import Foundation
import Testing
import Yams

/// `render --escape`, the quoting check of YAML/JSON templates and unsupported secret() forms,
/// through the built CLI.
@Suite struct RenderEscapeTests {
    static let awkward = #"pa"ss'w\rd: #1"#

    static func sandbox() throws -> Sandbox {
        let box = try Sandbox()
        box.makeVault()
        box.store("q", awkward)
        return box
    }

    @Test func aValueThatWouldBreakYAMLQuotingFailsNamingTheLine() throws {
        let box = try Self.sandbox()
        let template = box.work + "/flow.yml"
        try box.write(template, "id: demo\ntoken: \"{{ secret('q') }}\"\n")
        let refused = box.expectFailure(1) { box.unlocked(["render", template]) }
        #expect(refused.stderr.contains("flow.yml:2") && refused.stderr.contains("--escape"), "\(refused.stderr)")

        let escaped = box.unlocked(["render", template, "--escape", "yaml"])
        #expect(escaped.status == 0, "\(escaped.stderr)")
        let parsed = try Yams.load(yaml: escaped.output) as? [String: Any]
        #expect(parsed?["token"] as? String == Self.awkward)
    }

    @Test func jsonAndShellEscapes() throws {
        let box = try Self.sandbox()
        let json = box.work + "/config.json"
        try box.write(json, "{\"token\": \"{{ secret('q') }}\", \"bare\": {{ secret('q') }}}\n")
        let rendered = box.unlocked(["render", json, "--escape", "json"])
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(rendered.stdout)) as? [String: String]
        #expect(object == ["token": Self.awkward, "bare": Self.awkward])

        let script = box.work + "/env.sh"
        try box.write(script, "export TOKEN={{ secret('q') }}\n")
        let shell = box.unlocked(["render", script, "--escape", "shell"])
        #expect(shell.status == 0, "\(shell.stderr)")
        try box.write(script, shell.output + "printf %s \"$TOKEN\"\n")
        let sourced = CofferProcess.runShell(#". "$1""#, [script], cwd: box.work)
        #expect(sourced.output == Self.awkward)
    }

    @Test(arguments: ["{{- secret('q') -}}", "{{ secret('q') | trim }}", "{{ secret('q', namespace='y') }}"])
    func unsupportedFormsFailNamingFileAndLine(reference: String) throws {
        let box = try Self.sandbox()
        let template = box.work + "/flow.tpl"
        try box.write(template, "a: 1\nb: \(reference)\n")
        let refused = box.expectFailure(1) { box.unlocked(["render", template]) }
        #expect(refused.stderr.contains("flow.tpl:2") && refused.stderr.contains("not supported"), "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
    }
}
