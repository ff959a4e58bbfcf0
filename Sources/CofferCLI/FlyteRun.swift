import Coffer

/// `run --flyte` and `--flyte-files` (Coffer's FlyteLayout): the variables, and the files' folder.
enum FlyteRun {
    static func environment(
        _ vault: Vault, scope: Scope, only: [String], mappings: [(variable: String, name: String)], prefix: String,
        files: Bool, created: inout FlyteSecretFiles?
    ) throws -> [(variable: String, value: [UInt8])] {
        guard prefix.isEmpty else { throw Failure(.usage, "--prefix does not go with --flyte: $FLYTE_SECRETS_ENV_PREFIX sets Flyte's") }
        let names = only.isEmpty && !mappings.isEmpty ? [] : only.isEmpty ? nil : only
        // Names are checked before any value is decrypted.
        for entry in try vault.resolvedEntries(for: scope, only: names) { _ = try FlyteLayout.groupAndKey(entry.name) }
        var secrets = try vault.secrets(for: scope, only: names)
        defer { for index in secrets.indices { secrets[index].value.wipe() } }
        var environment = try FlyteLayout.environment(secrets, prefix: FlyteLayout.prefix(environment: ProcessInfoLite.environment))
        environment += try vault.environment(for: scope, only: [], mappings: mappings)
        if let clash = Dictionary(grouping: environment.map(\.variable), by: { $0 }).first(where: { $0.value.count > 1 }) {
            throw Failure(.conflict, "variable \(clash.key) is set twice (by --env and by --flyte)")
        }
        if files {
            guard let runtime = ProcessInfoLite.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty else {
                throw Failure(.usage, "--flyte-files needs $XDG_RUNTIME_DIR (a private, memory-backed folder) to write the secrets in")
            }
            let folder = try FlyteSecretFiles(secrets, runtimeFolder: runtime)
            created = folder
            environment.append((FlyteLayout.folderVariable, Array(folder.folder.utf8)))
        }
        return environment
    }
}
