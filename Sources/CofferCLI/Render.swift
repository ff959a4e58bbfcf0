import ArgumentParser
import Coffer
import CofferCrypto

extension CofferCommand {
    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "render",
            abstract: "Fill a template's {{ secret('NAME') }} references with secret values.",
            discussion: """
                Each reference, with single or double quotes and any spaces inside the braces, is replaced \
                by the value the scope resolves NAME to (no-reveal secrets included); everything else is \
                copied as is. Output goes to stdout, or with -o to a file written atomically with mode 0600. \
                An unknown name fails with the template's line, before any key is asked for, and writes nothing.
                """)

        @Argument(help: "The template file.", completion: .file())
        var template: String

        @Option(name: [.customShort("o"), .long], help: "Write to this file (mode 0600) instead of stdout.", completion: .file())
        var output: String?

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        func run() throws {
            let text = try FileInput.readContent(template, limit: 64 << 20, what: "template")
            let vault = try location.open()
            let scope = scopeOptions.scope
            // Names are checked before unlocking: a wrong template costs no passphrase.
            _ = try TemplateRenderer.render(text, path: template) { vault.resolve($0, for: scope) == nil ? nil : [] }
            try unlock.unlock(vault)
            var rendered = try vault.render(template: text, path: template, scope: scope)
            defer { rendered.wipe() }
            if let output {
                try Files.replace(output, with: rendered, mode: 0o600)
            } else {
                Terminal.writeAll(1, rendered)
            }
        }
    }
}
