import ArgumentParser
import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

/// Which vault a command works on.
struct VaultOptions: ParsableArguments {
    @Option(
        name: .long, help: "The vault file (default: $COFFER_VAULT, else the nearest secrets.coffer, else the local vault).",
        completion: Completions.vaultFiles)
    var vault: String?

    @Flag(name: .long, help: "Use your local vault under $XDG_DATA_HOME/coffer/ (TD's --local).")
    var local = false

    @Flag(name: [.customShort("v"), .long], help: "Say which vault is used, on stderr.")
    var verbose = false

    @Flag(name: .long, help: "Write even though the vault is older than one seen before (a rollback) or a fork.")
    var allowRollback = false

    @Option(name: .long, help: "Refuse any vault but this one: a pin from `coffer pin` (also $COFFER_VAULT_PIN, and identity file comments).")
    var pin: [String] = []

    /// The vault path by the documented search order (VaultLocation).
    func resolvedPath(creating: Bool = false) throws -> String {
        let environment = ProcessInfoLite.environment
        let path: String
        if let vault {
            path = vault
        } else if local {
            path = creating
                ? try VaultLocation.localVaultPathForCreating(environment: environment) : VaultLocation.localVaultPath(environment: environment)
        } else if creating {
            path = VaultLocation.creationPath(environment: environment)
        } else {
            path = VaultLocation.discover(environment: environment, currentDirectory: ProcessInfoLite.currentDirectory)
            let local = VaultLocation.localVaultPath(environment: environment)
            if path == local, environment["COFFER_VAULT"]?.isEmpty ?? true, access(path, F_OK) != 0 {
                let here = ProcessInfoLite.currentDirectory + "/" + VaultLocation.projectVaultName
                throw Failure(.notFound, "no vault here (looked in \(here) and up to the repository root, and \(local)): create one with `coffer init`")
            }
        }
        if verbose {
            KeySources.verbose = true
            Terminal.writeAll(2, Array("coffer: vault \(path)\n".utf8))
        }
        return path
    }

    static func makeFolders(_ path: String) throws {
        var prefix = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw Failure(.io, "\(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// Where keys come from: a session, an identity file, a passphrase file or descriptor, or the terminal.
struct UnlockOptions: ParsableArguments {
    @Option(name: .long, help: "Read the passphrase from this file (also $COFFER_PASSPHRASE_FILE).", completion: .file())
    var passphraseFile: String?

    @Option(name: .long, help: "Read the passphrase from this open file descriptor.")
    var passphraseFD: Int32?

    @Option(name: [.customShort("i"), .long], help: "Unlock with this age identity file (also $COFFER_IDENTITY_FILE).", completion: .file())
    var identity: String?

    @Flag(name: .long, help: "Do not try the default identity files (also $COFFER_NO_DEFAULT_IDENTITIES=1).")
    var noDefaultIdentities = false

    /// Whether a non-interactive key source was given.
    var hasKeySource: Bool {
        passphraseFile != nil || passphraseFD != nil || identity != nil
            || ProcessInfoLite.environment["COFFER_PASSPHRASE_FILE"] != nil
            || ProcessInfoLite.environment["COFFER_IDENTITY_FILE"] != nil
            || ProcessInfoLite.environment[KeySources.identityVariable] != nil
    }

    /// Unlocks `vault` from the first available source: --identity, --passphrase-file or
    /// --passphrase-fd; else, when none of $COFFER_IDENTITY_FILE, $COFFER_IDENTITY and
    /// $COFFER_PASSPHRASE_FILE is set, the default identity files that need no passphrase; else a
    /// valid session; else the protected default identity files, asked on the terminal; else
    /// $COFFER_IDENTITY_FILE, $COFFER_IDENTITY or $COFFER_PASSPHRASE_FILE; else the terminal.
    /// Never blocks without a terminal.
    /// `forWriting`: a write follows, so a vault never seen here, opened by identity or session
    /// without a pin, must be confirmed on the terminal (`FirstUse`).
    func unlock(_ vault: Vault, forWriting: Bool = false) throws {
        try unlock(vault, allowSession: true, forWriting: forWriting)
    }

    /// `interactive: false` never asks on the terminal (git drivers): a missing key is an error.
    func unlock(_ vault: Vault, allowSession: Bool, interactive: Bool = true, forWriting: Bool = false) throws {
        let environment = ProcessInfoLite.environment
        let pins = try VaultTrust.pins(given: [], environment: environment, identityFile: identity ?? environment["COFFER_IDENTITY_FILE"])
        try VaultOptions.trust.check(vault, pins: pins)
        if try unlockWithoutPassphrase(vault, allowSession: allowSession, interactive: interactive) {
            try FirstUse.check(vault, forWriting: forWriting)
            return
        }
        try vault.unlock(passphrase: try passphrase(prompt: "Passphrase for \(vault.path): ", interactive: interactive))
        KeySources.report("opened with a passphrase\(KeySources.slotSuffix(vault))")
        try VaultOptions.trust.vouchAfterPassphraseUnlock(vault)
    }

    /// Unlocks `vault` with an identity or a session, in `unlock`'s order; false when the
    /// passphrase is what remains to try.
    private func unlockWithoutPassphrase(_ vault: Vault, allowSession: Bool, interactive: Bool) throws -> Bool {
        let environment = ProcessInfoLite.environment
        let explicit = identity != nil || passphraseFile != nil || passphraseFD != nil
        let useDefaults = !explicit && !hasKeySource && !noDefaultIdentities && environment[KeySources.noDefaultsVariable] != "1"
        var protectedDefaults: [String] = []
        if useDefaults, try KeySources.unlockWithDefaults(
            vault, paths: KeySources.defaultIdentityPaths(environment), protected: &protectedDefaults, passphrase: nil) {
            return true
        }
        if allowSession, !explicit, Sessions.resume(vault) {
            KeySources.report("opened with a session")
            return true
        }
        if interactive, !protectedDefaults.isEmpty, try KeySources.unlockWithDefaults(
            vault, paths: protectedDefaults, protected: &protectedDefaults, passphrase: { try passphrase(prompt: $0) }) {
            return true
        }
        if let identityPath = identity ?? environment["COFFER_IDENTITY_FILE"] {
            let keys = try Self.loadKeys(identityPath) {
                try passphrase(prompt: "Passphrase for identity \(identityPath): ", interactive: interactive)
            }
            try keys.unlock(vault)
            KeySources.report("opened with identity \(identityPath)\(KeySources.slotSuffix(vault))")
            return true
        }
        if !explicit, let keys = try KeySources.environmentKeys() {
            try keys.unlock(vault)
            KeySources.report("opened with $\(KeySources.identityVariable)\(KeySources.slotSuffix(vault))")
            return true
        }
        return false
    }

    /// The current passphrase, from a file, a descriptor or (when `interactive`) the terminal.
    func passphrase(prompt: String, interactive: Bool = true) throws -> SecureBytes {
        if let path = passphraseFile {
            return try Self.readPassphraseFile(path)
        }
        if let fd = passphraseFD {
            return Terminal.droppingFinalNewline(try Terminal.readSecret(fd: fd, limit: 4096, what: "passphrase descriptor \(fd)"))
        }
        if let path = ProcessInfoLite.environment["COFFER_PASSPHRASE_FILE"] {
            return try Self.readPassphraseFile(path)
        }
        guard interactive, let typed = try Terminal.prompt(prompt) else {
            throw Failure(
                .authentication,
                "no passphrase: no terminal to ask on; use --passphrase-file, --passphrase-fd, --identity, or a session (coffer unlock)")
        }
        return typed
    }

    /// A missing passphrase file is an I/O failure (6), not a missing vault or entry (2).
    static func readPassphraseFile(_ path: String) throws -> SecureBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(.io, "passphrase file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        return Terminal.droppingFinalNewline(try Terminal.readSecret(fd: fd, limit: 4096, what: path))
    }

    /// The X25519 identities in an identity file; `passphrase` is asked only for a protected file.
    static func loadIdentities(_ path: String, passphrase: () throws -> SecureBytes) throws -> [Identity] {
        try loadKeys(path, passphrase: passphrase).identities
    }

    /// The identities and plugin identities in an identity file.
    static func loadKeys(_ path: String, passphrase: () throws -> SecureBytes) throws -> KeySources.Keys {
        do {
            return try readKeys(path, passphrase: passphrase)
        } catch let error as IdentityError {
            throw Failure(error)
        }
    }

    /// `loadKeys`, with the file's problems as `IdentityError`s.
    static func readKeys(_ path: String, passphrase: () throws -> SecureBytes) throws -> KeySources.Keys {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw Failure(errno == ENOENT ? .notFound : .io, "\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let contents = try Terminal.readSecret(fd: fd, limit: 1 << 20, what: path)
        return try KeySources.Keys(contents, path: path, passphrase: passphrase)
    }

    /// A new passphrase: from `file`, else asked twice on the terminal; `fileOption` is the
    /// command's flag for the file, named when there is no terminal.
    static func newPassphrase(file: String?, fileOption: String = "--new-passphrase-file") throws -> SecureBytes {
        if let file {
            let passphrase = try readPassphraseFile(file)
            guard passphrase.count > 0 else { throw Failure(.usage, "\(file) is empty: an empty passphrase is not accepted") }
            return passphrase
        }
        guard let first = try Terminal.prompt("New passphrase: ") else {
            throw Failure(.authentication, "no terminal to ask for a new passphrase on; use \(fileOption)")
        }
        guard let second = try Terminal.prompt("Repeat the new passphrase: ") else {
            throw Failure(.authentication, "no terminal to ask for a new passphrase on; use \(fileOption)")
        }
        guard first == second else { throw Failure(.usage, "the two passphrases differ: nothing changed") }
        guard first.count > 0 else { throw Failure(.usage, "an empty passphrase is not accepted") }
        return first
    }
}

extension SessionStore.Rejection {
    var explanation: String {
        switch self {
        case .none: "not found"
        case .expired: "expired and was ended"
        case .tampered: "file failed verification and was removed"
        case .foreign: "was made for another vault or key and was removed"
        case .otherVersion: "belongs to another version of this vault (its master key differs)"
        case .malformedToken: "token in $COFFER_SESSION is malformed"
        }
    }
}

extension Failure {
    init(_ error: IdentityError) {
        switch error {
        case .malformed, .unsupported: self.init(.usage, error.description)
        case let .passphraseRequired(path): self.init(.authentication, "\(path) is passphrase-protected")
        case let .wrongPassphrase(path): self.init(.authentication, "wrong passphrase for identity \(path)")
        case let .noIdentity(path): self.init(.usage, "\(path) holds no identity")
        }
    }
}

/// The scope a command selects (Flyte's project and domain).
struct ScopeOptions: ParsableArguments {
    @Option(name: .long, help: "Project scope.", completion: Completions.projects)
    var project: String?

    @Option(name: .long, help: "Domain scope (e.g. development, staging, production).", completion: Completions.domains)
    var domain: String?

    var scope: Scope { Scope(project: project ?? "", domain: domain ?? "") }
    var isSet: Bool { project != nil || domain != nil }
}

/// The process's environment and working folder, read once.
enum ProcessInfoLite {
    static let environment = ProcessEnvironment.variables()

    static var currentDirectory: String { ProcessEnvironment.currentDirectory }
}
