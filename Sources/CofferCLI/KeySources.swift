import Coffer
import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

/// Keys found without a flag: identity text in $COFFER_IDENTITY (CI secrets) and the default
/// identity files (Specs/identity-files.md §10).
enum KeySources {
    static let identityVariable = "COFFER_IDENTITY"
    static let noDefaultsVariable = "COFFER_NO_DEFAULT_IDENTITIES"

    /// Set by -v: say which key opened the vault.
    nonisolated(unsafe) static var verbose = false

    static func report(_ line: String) {
        if verbose { Terminal.writeAll(2, Array("coffer: \(line)\n".utf8)) }
    }

    /// The identities in $COFFER_IDENTITY, or nil when it is unset or empty. The text is copied
    /// from the environment straight into guarded memory and never quoted in errors.
    static func environmentIdentities() throws -> [Identity]? {
        guard let value = getenv(identityVariable) else { return nil }
        let count = strlen(value)
        guard count > 0 else { return nil }
        let text = SecureBytes(copying: UnsafeRawBufferPointer(start: value, count: count))
        do {
            return try IdentityFile.parse(text, path: "$" + identityVariable, passphrase: nil)
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
    /// cannot be read or parsed is skipped with a warning. Passphrase-protected files are skipped
    /// unless `passphrase` is given (so a session is tried before anyone is asked); their paths
    /// are added to `protected`.
    static func unlockWithDefaults(
        _ vault: Vault, paths: [String], protected: inout [String], passphrase: ((String) throws -> SecureBytes)?
    ) throws -> Bool {
        for path in paths {
            let identities: [Identity]
            do {
                identities = try UnlockOptions.readIdentities(path) {
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
            do {
                try vault.unlock(identities: identities.map(\.secretKey))
            } catch CofferError.authenticationFailed {
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
