import Coffer
import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

/// Keys found without a flag: identity text in $COFFER_IDENTITY (CI secrets) and the default
/// identity files (Specs/identity-files.md §10).
enum KeySources {
    static let identityVariable = VaultTrust.identityVariable
    static let noDefaultsVariable = "COFFER_NO_DEFAULT_IDENTITIES"

    /// Set by -v: say which key opened the vault.
    nonisolated(unsafe) static var verbose = false

    static func report(_ line: String) {
        if verbose { Terminal.writeAll(2, Array("coffer: \(line)\n".utf8)) }
    }

    /// X25519 identities and age plugin identities from one identity file or text.
    struct Keys {
        var identities: [Identity] = []
        var plugins: [PluginKey] = []

        /// Parses `contents`; `passphrase` is asked only for a protected file.
        init(_ contents: SecureBytes, path: String, passphrase: () throws -> SecureBytes) throws {
            do {
                identities = try IdentityFile.parse(contents, path: path, passphrase: nil, plugins: &plugins)
            } catch IdentityError.passphraseRequired {
                plugins = []
                identities = try IdentityFile.parse(contents, path: path, passphrase: try passphrase(), plugins: &plugins)
            }
        }

        /// Opens `vault` with an X25519 identity's slot, else with a plugin slot whose plugin
        /// has one of these identities (running the plugin once per such slot).
        func unlock(_ vault: Vault) throws {
            if !identities.isEmpty {
                do {
                    return try vault.unlock(identities: identities.map(\.secretKey))
                } catch CofferError.authenticationFailed {}
            }
            for slot in vault.slots {
                guard case let .plugin(recipient, stanzas) = slot.kind, let name = PluginKey.recipient(recipient)?.name else { continue }
                let mine = plugins.filter { $0.name == name }
                guard !mine.isEmpty else { continue }
                guard let parsed = AgePlugin.Stanza.parseAll(stanzas) else {
                    throw Failure(.corrupted, "slot \(slot.idText): malformed plugin stanzas")
                }
                guard let key = try AgePlugin.unwrap(parsed, with: mine) else { continue }
                do {
                    return try vault.unlock(identities: [SlotWrapping.pluginSecretKey(key)])
                } catch CofferError.authenticationFailed {}
            }
            throw Failure(CofferError.authenticationFailed)
        }
    }

    /// The keys in $COFFER_IDENTITY, or nil when it is unset or empty. The text is copied from
    /// the environment straight into guarded memory and never quoted in errors.
    static func environmentKeys() throws -> Keys? {
        guard let value = getenv(identityVariable) else { return nil }
        let count = strlen(value)
        guard count > 0 else { return nil }
        let text = SecureBytes(copying: UnsafeRawBufferPointer(start: value, count: count))
        do {
            return try Keys(text, path: "$" + identityVariable) { throw IdentityError.passphraseRequired(path: "$" + identityVariable) }
        } catch let error as IdentityError {
            throw Failure(error)
        }
    }

    /// The default identity files, in the order they are tried; only those that exist.
    static func defaultIdentityPaths(_ environment: [String: String]) -> [String] {
        func folder(_ variable: String, else fallback: String) -> String {
            environment[variable].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"] ?? "") + fallback
        }
        let candidates = [
            FileSystemPaths.dataHome + "/coffer/identity.txt",
            folder("XDG_CONFIG_HOME", else: "/.config") + "/sops/age/keys.txt",
            (environment["HOME"] ?? "") + "/.ssh/id_ed25519",
        ]
        return candidates.filter { access($0, F_OK) == 0 }
    }

    /// Tries the default identity files in order; true when one opened `vault`. A file that
    /// cannot be read or parsed is skipped with a warning. Passphrase-protected files, and the
    /// plugin identities of any file, are skipped unless `passphrase` is given (so a session is
    /// tried before anyone is asked); their paths are added to `protected`.
    static func unlockWithDefaults(
        _ vault: Vault, paths: [String], protected: inout [String], passphrase: ((String) throws -> SecureBytes)?
    ) throws -> Bool {
        for path in paths {
            var keys: Keys
            do {
                keys = try UnlockOptions.readKeys(path) {
                    guard let passphrase else { throw IdentityError.passphraseRequired(path: path) }
                    return try passphrase("Passphrase for identity \(path): ")
                }
            } catch let error as IdentityError {
                // A key of a type Coffer does not take, or a locked one not asked for now, is
                // normal for a default file (an ssh-rsa key, a protected SSH key): said with -v only.
                switch error {
                case .passphraseRequired:
                    protected.append(path)
                    report("skipped default identity \(error)")
                case .unsupported: report("skipped default identity \(error)")
                case .malformed, .noIdentity, .wrongPassphrase: Terminal.warn("skipped default identity \(error)")
                }
                continue
            } catch let failure as Failure {
                Terminal.warn("skipped default identity \(failure.message)")
                continue
            }
            // Plugins may ask for a PIN or a touch: like passphrases, only after the session.
            if passphrase == nil, !keys.plugins.isEmpty {
                protected.append(path)
                keys.plugins = []
            }
            do {
                try keys.unlock(vault)
            } catch let failure as Failure where failure.code == .authentication {
                report("default identity \(path) has no slot in this vault")
                continue
            }
            report("opened with identity \(path)\(slotSuffix(vault))")
            return true
        }
        return false
    }

    static func slotSuffix(_ vault: Vault) -> String {
        vault.unlockedSlot.map { " (slot \($0.idText))" } ?? ""
    }
}
