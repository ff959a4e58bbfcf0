import Coffer
#if canImport(Glibc)
import Glibc
#endif

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
        let variables = environment.map(\.variable) + (files ? [FlyteLayout.folderVariable] : [])
        if let clash = Dictionary(grouping: variables, by: { $0 }).first(where: { $0.value.count > 1 }) {
            throw Failure(.conflict, "variable \(clash.key) is set twice (by --env and by --flyte)")
        }
        if files {
            guard let runtime = ProcessInfoLite.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty else {
                throw Failure(.usage, "--flyte-files needs $XDG_RUNTIME_DIR (a private, memory-backed folder) to write the secrets in")
            }
            // Signals wait while the files are written and the handler that removes them is set.
            var signals = sigset_t(), previous = sigset_t()
            sigemptyset(&signals)
            for signal in RemovalOnSignal.signals { sigaddset(&signals, signal) }
            pthread_sigmask(SIG_BLOCK, &signals, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            let folder = try FlyteSecretFiles(secrets, runtimeFolder: runtime)
            created = folder
            RemovalOnSignal.arm(folder.paths)
        }
        // Secrets only: the folder's variable is added by the caller, which masks these values and not the path.
        return environment
    }
}

/// Paths for the signal handler to remove: C strings, NULL-terminated, allocated once.
nonisolated(unsafe) private var pathsToRemove: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

/// Until `run`'s own handlers take over (they pass signals to the command, and the files are then
/// removed when it ends), a signal that would end coffer removes the secret files first.
private enum RemovalOnSignal {
    static let signals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    static func arm(_ paths: [String]) {
        let list = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: paths.count + 1)
        for (index, path) in paths.enumerated() { list[index] = strdup(path) }
        list[paths.count] = nil
        pathsToRemove = list
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { signal in
            // unlink and rmdir only: both are async-signal-safe.
            var entry = pathsToRemove
            while let path = entry?.pointee {
                if unlink(path) != 0 { rmdir(path) }
                entry = entry! + 1
            }
            Glibc.signal(signal, SIG_DFL)
            raise(signal)
        }
        sigemptyset(&action.sa_mask)
        for signal in signals {
            var current = sigaction()
            sigaction(signal, nil, &current)
            // A signal coffer was started ignoring stays ignored.
            if unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            sigaction(signal, &action, nil)
        }
    }
}
