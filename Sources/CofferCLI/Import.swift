import ArgumentParser
import Coffer
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import secrets from a YAML, JSON or .env file, all or nothing.",
            discussion: """
                YAML and JSON: flat or nested maps; nested keys are joined with dots (pg: {user: x} gives \
                pg.user). .env: as python-dotenv reads it with interpolation off ($ is always literal). \
                The format comes from the file name unless --format is given. A malformed file, or a name \
                that exists without --overwrite, changes nothing and names the line.
                """)

        @Argument(help: "The file to import.", completion: .file(extensions: ["yml", "yaml", "json", "env"]))
        var path: String

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(name: .long, help: "yaml, json or dotenv (default: from the file name).")
        var format: ImportFormat?

        @Flag(name: .long, help: "Replace secrets that already exist.")
        var overwrite = false

        @Flag(name: .long, help: "Say what was imported as JSON on stdout (schema: Specs/cli-json.md).")
        var json = false

        func run() throws {
            try Self.importFile(
                path, format: format, into: location, scope: scopeOptions.scope, unlock: unlock, overwrite: overwrite, json: json)
        }

        static func importFile(
            _ path: String, format: ImportFormat?, into location: VaultOptions, scope: Scope, unlock: UnlockOptions, overwrite: Bool,
            json: Bool = false
        ) throws {
            guard let format = format ?? ImportFormat(inferringFrom: path) else {
                throw Failure(.usage, "cannot tell the format of \(path) from its name; use --format yaml|json|dotenv")
            }
            let secrets = try SecretImport.parse(try FileInput.readContent(path, limit: 64 << 20, what: "secrets"), format: format, path: path)
            for secret in secrets {
                do {
                    try Vault.validate(name: secret.name, scope: scope)
                } catch CofferError.invalidArgument(let reason) {
                    throw CofferError.malformedInput(path: path, line: secret.line, reason: reason)
                }
                guard !secret.value.isEmpty else {
                    throw CofferError.malformedInput(path: path, line: secret.line, reason: "\(secret.name) is empty: coffer stores no empty values")
                }
            }
            // Clashes are found before the passphrase is asked for, and again under the lock.
            func refuseClashes(_ vault: Vault) throws -> [ImportedSecret] {
                let existing = secrets.filter { vault.entry($0.name, in: scope) != nil }
                if let clash = existing.first, !overwrite {
                    throw Failure(
                        .conflict, "\(path):\(clash.line): \(clash.name) already exists (\(scope)); use --overwrite to replace it")
                }
                return existing
            }
            _ = try refuseClashes(try location.open())
            // Sealed before the folder's lock, which is held only for the merge and the save. The
            // unlock runs again under the lock only if the key changed meanwhile: then so does the seal.
            let items = secrets.map { ($0.name, $0.value) }
            var sealed: Vault.SealedBatch?
            let (existing, warnings) = try location.modify(unlocking: { vault in
                try unlock.unlock(vault, forWriting: true)
                sealed = try vault.seal(items, in: scope)
                ImportTestHook.afterSeal()
            }) { vault in
                let existing = try refuseClashes(vault)
                try vault.merge(sealed!, overwrite: true)
                sealed = nil  // now in the vault's entry list: not kept through the save
                return (Set(existing.map(\.name)), StoreWarnings.lines(for: secrets.map { ($0.name, $0.value.count) }, in: vault))
            }
            warnings.forEach(Terminal.warn)
            if json {
                let names = { (replaced: Bool) in JSONOutput.array(secrets.filter { existing.contains($0.name) == replaced }.map { JSONOutput.string($0.name) }) }
                Terminal.output(JSONOutput.object([
                    ("imported", "\(secrets.count)"), ("project", JSONOutput.string(scope.project)), ("domain", JSONOutput.string(scope.domain)),
                    ("added", names(false)), ("replaced", names(true)),
                ]) + "\n")
            } else {
                Terminal.writeAll(
                    2, Array("coffer: imported \(secrets.count): \(secrets.count - existing.count) added, \(existing.count) replaced\n".utf8))
            }
        }
    }
}

extension ImportFormat: ExpressibleByArgument {}

/// Test-only: with `COFFER_TEST_AFTER_IMPORT_SEAL=<shell command>` in the environment, `import`
/// runs the command (without that variable) once its values are sealed, before it takes the
/// folder's lock: a concurrent writer at the one moment that matters. Debug builds only.
enum ImportTestHook {
    #if DEBUG
    static func afterSeal() {
        guard let command = getenv("COFFER_TEST_AFTER_IMPORT_SEAL").map({ String(cString: $0) }) else { return }
        unsetenv("COFFER_TEST_AFTER_IMPORT_SEAL")
        _ = system(command)
    }
    #else
    @inline(__always) static func afterSeal() {}
    #endif
}

