import ArgumentParser
import Coffer
import CofferCrypto
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write the secrets a scope resolves as dotenv, JSON, YAML, Kestra variables or a Kubernetes Secret.",
            discussion: """
                dotenv: PG_USER="..." lines. json, yaml: a flat map of names to values. kestra: \
                SECRET_NAME=<base64> lines, as Kestra reads secrets from its environment, NAME being the \
                secret's name as render's secret('NAME') uses it; a name Kestra cannot hold (anything but \
                letters, digits and _, or a leading digit) is refused. k8s: a v1 \
                Secret manifest with base64 data. dotenv, json and yaml need text values. No-reveal \
                secrets are refused (exit 5). Values are not written to a terminal unless --force is given; \
                -o writes a file atomically with mode 0600.
                """)

        @Option(name: .long, help: "dotenv, json, yaml, kestra or k8s.")
        var format: ExportFormat

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(name: .long, parsing: .upToNextOption, help: "Export only these secrets.", completion: Completions.names)
        var only: [String] = []

        @Option(name: .long, help: "The Secret's metadata.name (k8s; default coffer-secrets).")
        var k8sName = "coffer-secrets"

        @Option(name: .long, help: "The Secret's metadata.namespace (k8s).")
        var k8sNamespace: String?

        @Option(name: [.customShort("o"), .long], help: "Write to this file (mode 0600) instead of stdout.", completion: .file())
        var output: String?

        @Flag(name: .long, help: "Write values to stdout even when it is a terminal.")
        var force = false

        func run() throws {
            if output == nil && !force && Terminal.stdoutIsTTY {
                throw Failure(.usage, "refusing to print secret values to a terminal; use -o FILE, a pipe, or --force")
            }
            let vault = try location.open()
            let scope = scopeOptions.scope
            let names = only.isEmpty ? nil : only
            // Missing and no-reveal names fail before any key is asked for.
            if let hidden = try vault.resolvedEntries(for: scope, only: names).first(where: \.isNoReveal) {
                throw CofferError.notRevealable(name: hidden.name)
            }
            try unlock.unlock(vault)
            var text = try vault.export(format: format, scope: scope, only: names, k8sName: k8sName, k8sNamespace: k8sNamespace)
            defer { text.wipe() }
            if let output {
                try Files.replace(output, with: text, mode: 0o600)
            } else {
                Terminal.writeAll(1, text)
            }
        }
    }
}

extension ExportFormat: ExpressibleByArgument {}
