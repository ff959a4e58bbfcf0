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
                An unknown name, or a secret() form other than that one (a filter, {{- trimming, a second \
                argument), fails with the template's line, before any key is asked for, and writes nothing. \
                In a .yml, .yaml or .json template a value that would break the quotes around it fails too \
                (with --escape none); --escape yaml|json|shell writes each value escaped for the quotes it \
                stands in (a bare reference gets quotes of its own).
                """)

        @Argument(help: "The template file.", completion: .file())
        var template: String

        @Option(name: [.customShort("o"), .long], help: "Write to this file (mode 0600) instead of stdout.", completion: .file())
        var output: String?

        @Option(name: .long, help: "How values are written: none (as they are; the default, as Kestra does), yaml, json or shell (quoted for that syntax).")
        var escape: TemplateRenderer.Escape = .none

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
            var rendered = try vault.render(template: text, path: template, scope: scope, escape: escape)
            defer { rendered.wipe() }
            if let output {
                try Files.replace(output, with: rendered, mode: 0o600)
            } else {
                Terminal.writeAll(1, rendered)
            }
        }
    }
}

extension TemplateRenderer.Escape: ExpressibleByArgument {}
