import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

// The C ABI of include/coffer.h: each function is a thin shell over the Coffer library that turns
// errors into the README's exit codes and a message kept on the handle. The trust rules are the
// CLI's own (VaultTrust): pins, the trust store, the history check and no silent first use.

/// What one `coffer_vault *` holds. Used by one thread at a time (the header says so).
final class VaultHandle {
    var vault: Vault?
    let environment = ProcessEnvironment.variables()
    let trust: VaultTrust
    /// The pins of coffer_open's argument, $COFFER_VAULT_PIN and the identity comments (VaultTrust.pins).
    var pins: [VaultPin] = []
    private(set) var message: UnsafeMutablePointer<CChar> = strdup("")
    private(set) var path: UnsafeMutablePointer<CChar> = strdup("")

    init() {
        trust = VaultTrust(environment: environment)
    }

    func setMessage(_ text: String) {
        free(message)
        message = strdup(text)
    }

    func setPath(_ text: String) {
        free(path)
        path = strdup(text)
    }

    func openVault() throws -> Vault {
        guard let vault else { throw CofferError.invalidArgument("no vault is open on this handle") }
        return vault
    }

    deinit {
        free(message)
        free(path)
    }
}

private func handle(_ pointer: OpaquePointer?) -> VaultHandle? {
    pointer.map { Unmanaged<VaultHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

/// Runs `body` on the handle: 0 and an empty message, or the error's status and message.
private func perform(_ pointer: OpaquePointer?, _ body: (VaultHandle) throws -> Void) -> Int32 {
    guard let handle = handle(pointer) else { return 1 }
    do {
        handle.setMessage("")
        // Each call is one use of the trust state: what it learned is written at its end, also
        // after a failure (a vault seen stays remembered).
        defer { try? handle.trust.finish() }
        try body(handle)
        try handle.trust.finish()
        return 0
    } catch {
        let (status, message) = describe(error)
        handle.setMessage(message)
        return status
    }
}

/// The status and message of any error the library throws; never a value.
private func describe(_ error: Error) -> (Int32, String) {
    switch error {
    case let error as CofferError: return (error.exitCode, error.message)
    case let error as IdentityError:
        switch error {
        case .passphraseRequired, .wrongPassphrase: return (3, error.description)
        case .malformed, .noIdentity, .unsupported: return (1, error.description)
        }
    case let rejection as SessionStore.Rejection:
        return (3, rejection == .none ? "no session for this vault and token" : "the session could not be used (\(rejection))")
    default: return (6, "unexpected error")
    }
}

private func text(_ pointer: UnsafePointer<CChar>?, _ what: String) throws -> String {
    guard let pointer else { throw CofferError.invalidArgument("\(what) is missing") }
    guard let text = String(validatingCString: pointer) else { throw CofferError.invalidArgument("\(what) is not UTF-8") }
    return text
}

private func scope(_ project: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?) throws -> Scope {
    Scope(project: project == nil ? "" : try text(project, "project"), domain: domain == nil ? "" : try text(domain, "domain"))
}

private func bytes(_ pointer: UnsafePointer<UInt8>?, _ length: Int, _ what: String) throws -> UnsafeRawBufferPointer {
    guard length >= 0, pointer != nil || length == 0 else { throw CofferError.invalidArgument("\(what) is missing") }
    return UnsafeRawBufferPointer(start: pointer, count: length)
}

/// Reads a file into guarded memory, the array it passed through wiped.
private func readSecretFile(_ path: String, limit: Int) throws -> SecureBytes {
    var contents = try Files.read(path, limit: limit)
    defer { contents.wipe() }
    return SecureBytes(copying: contents)
}

/// A buffer for the caller, freed (and zeroed) by `coffer_free`: its length is kept in front of it,
/// and a NUL follows the bytes for callers that read text.
private let bufferHeader = 16

private func handOver(_ bytes: UnsafeRawBufferPointer, to out: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
                      length: UnsafeMutablePointer<Int>?) throws {
    guard let out else { throw CofferError.invalidArgument("the output pointer is missing") }
    guard let block = malloc(bufferHeader + bytes.count + 1) else { throw CofferError.io(path: "", reason: "out of memory") }
    block.storeBytes(of: bytes.count, as: Int.self)
    let start = block + bufferHeader
    if let base = bytes.baseAddress { start.copyMemory(from: base, byteCount: bytes.count) }
    start.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
    out.pointee = start.assumingMemoryBound(to: UInt8.self)
    length?.pointee = bytes.count
}

// MARK: Handles

@_cdecl("coffer_open")
public func coffer_open(_ path: UnsafePointer<CChar>?, _ flags: UInt32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    coffer_open_pinned(path, flags, nil, out)
}

@_cdecl("coffer_open_pinned")
public func coffer_open_pinned(
    _ path: UnsafePointer<CChar>?, _ flags: UInt32, _ pins: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    withNewHandle(out) { handle in
        let chosen = try vaultPath(path, flags, handle, creating: false)
        let given = try pins.map { try VaultPin.pins(inList: try text($0, "pins"), source: "the pin argument") } ?? []
        handle.pins = try VaultTrust.pins(given: given, environment: handle.environment, identityFile: handle.environment["COFFER_IDENTITY_FILE"])
        let vault = try Vault.open(at: chosen)
        let opening = try handle.trust.open(vault, at: chosen, branch: GitBranch.current(forFileAt: chosen), pins: handle.pins)
        handle.vault = vault
        // Rollbacks, forks and a broken history allow reading, as in the CLI: said in the message, refused at save.
        handle.setMessage(((opening.historyBreak.map { [$0 + "; writes are refused"] } ?? []) + opening.findings.map(\.message))
            .joined(separator: "; "))
    }
}

/// A new handle in `*out` (also on failure, carrying the message), `body` run on it.
private func withNewHandle(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ body: (VaultHandle) throws -> Void) -> Int32 {
    guard let out else { return 1 }
    let pointer = OpaquePointer(Unmanaged.passRetained(VaultHandle()).toOpaque())
    out.pointee = pointer
    return perform(pointer, body)
}

/// The vault path as the CLI chooses it: `path` when given; else with COFFER_OPEN_LOCAL the local
/// vault; else the search order (`creating`: $COFFER_VAULT, else secrets.coffer here).
private func vaultPath(_ path: UnsafePointer<CChar>?, _ flags: UInt32, _ handle: VaultHandle, creating: Bool) throws -> String {
    let chosen: String
    if let path, path.pointee != 0 {
        chosen = try text(path, "path")
    } else if flags & 1 != 0 {
        chosen = creating
            ? try VaultLocation.localVaultPathForCreating(environment: handle.environment)
            : VaultLocation.localVaultPath(environment: handle.environment)
    } else if creating {
        chosen = VaultLocation.creationPath(environment: handle.environment)
    } else {
        chosen = VaultLocation.discover(environment: handle.environment, currentDirectory: ProcessEnvironment.currentDirectory)
    }
    handle.setPath(chosen)
    return chosen
}

// MARK: Creating

@_cdecl("coffer_create_passphrase")
public func coffer_create_passphrase(
    _ path: UnsafePointer<CChar>?, _ flags: UInt32, _ passphrase: UnsafePointer<UInt8>?, _ length: Int,
    _ kdfOps: UInt64, _ kdfMemoryMiB: UInt64, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    withNewHandle(out) { handle in
        let secret = SecureBytes(copying: try bytes(passphrase, length, "passphrase"))
        guard secret.count > 0 else { throw CofferError.invalidArgument("the passphrase is empty") }
        let kdf: Argon2id.Parameters
        switch (kdfOps, kdfMemoryMiB) {
        case (0, 0): kdf = .moderate
        case (1..., 1...): kdf = try Vault.kdf(passes: kdfOps, memoryMiB: kdfMemoryMiB)
        default: throw CofferError.invalidArgument("kdf_ops and kdf_memory_mib are both 0 (the default) or both set")
        }
        let chosen = try vaultPath(path, flags, handle, creating: true)
        try created(handle, Vault.create(at: chosen, passphrase: secret, kdf: kdf), at: chosen)
    }
}

@_cdecl("coffer_create_recipient")
public func coffer_create_recipient(
    _ path: UnsafePointer<CChar>?, _ flags: UInt32, _ recipient: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    withNewHandle(out) { handle in
        let parsed = try Recipient(parsing: try text(recipient, "recipient"))
        let chosen = try vaultPath(path, flags, handle, creating: true)
        try created(handle, Vault.create(at: chosen, recipient: parsed.publicKey), at: chosen)
    }
}

/// A vault just made by this handle: trusted as made, as `coffer init` does, and unlocked when
/// its creator holds the key (a passphrase).
private func created(_ handle: VaultHandle, _ vault: Vault, at path: String) throws {
    try handle.trust.acceptCreated(vault, at: path)
    handle.vault = vault
}

@_cdecl("coffer_close")
public func coffer_close(_ pointer: OpaquePointer?) {
    guard let pointer else { return }
    Unmanaged<VaultHandle>.fromOpaque(UnsafeRawPointer(pointer)).release()
}

@_cdecl("coffer_message")
public func coffer_message(_ pointer: OpaquePointer?) -> UnsafePointer<CChar>? {
    handle(pointer).map { UnsafePointer($0.message) }
}

@_cdecl("coffer_path")
public func coffer_path(_ pointer: OpaquePointer?) -> UnsafePointer<CChar>? {
    handle(pointer).map { UnsafePointer($0.path) }
}

@_cdecl("coffer_free")
public func coffer_free(_ buffer: UnsafeMutableRawPointer?) {
    guard let buffer else { return }
    let block = buffer - bufferHeader
    let length = block.load(as: Int.self)
    SecureMemory.wipe(UnsafeMutableRawBufferPointer(start: block, count: bufferHeader + length + 1))
    free(block)
}

// MARK: Unlocking

@_cdecl("coffer_unlock_passphrase")
public func coffer_unlock_passphrase(_ pointer: OpaquePointer?, _ passphrase: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    perform(pointer) { handle in
        try unlock(handle, passphrase: SecureBytes(copying: try bytes(passphrase, length, "passphrase")))
    }
}

@_cdecl("coffer_unlock_identity_file")
public func coffer_unlock_identity_file(
    _ pointer: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ passphrase: UnsafePointer<UInt8>?, _ length: Int
) -> Int32 {
    perform(pointer) { handle in
        let path = try text(path, "identity file")
        let protection = passphrase == nil ? nil : SecureBytes(copying: try bytes(passphrase, length, "passphrase"))
        try unlock(handle, identities: readSecretFile(path, limit: 1 << 20), source: path, passphrase: protection)
    }
}

@_cdecl("coffer_unlock_identity")
public func coffer_unlock_identity(_ pointer: OpaquePointer?, _ identity: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    perform(pointer) { handle in
        let contents = SecureBytes(copying: try bytes(identity, length, "identity"))
        try unlock(handle, identities: contents, source: "identity text", passphrase: nil)
    }
}

@_cdecl("coffer_unlock_session")
public func coffer_unlock_session(_ pointer: OpaquePointer?, _ token: UnsafePointer<CChar>?) -> Int32 {
    perform(pointer) { handle in
        let token = try token.map { try text($0, "token") } ?? handle.environment[SessionStore.environmentVariable] ?? ""
        guard !token.isEmpty else { throw CofferError.keyUnavailable("no session token given and $COFFER_SESSION is not set") }
        let vault = try handle.openVault()
        try sessions(handle).resume(vault, token: token, now: Timestamp.now())
        try noteFirstUse(handle, vault)
    }
}

@_cdecl("coffer_unlock_default")
public func coffer_unlock_default(_ pointer: OpaquePointer?) -> Int32 {
    perform(pointer) { handle in
        let vault = try handle.openVault()
        let environment = handle.environment
        if let token = environment[SessionStore.environmentVariable], !token.isEmpty,
           (try? sessions(handle).resume(vault, token: token, now: Timestamp.now())) != nil {
            return try noteFirstUse(handle, vault)
        }
        if let path = environment["COFFER_IDENTITY_FILE"], !path.isEmpty {
            try unlock(handle, identities: readSecretFile(path, limit: 1 << 20), source: path, passphrase: nil)
        } else if let text = environment[VaultTrust.identityVariable], !text.isEmpty {
            try unlock(handle, identities: SecureBytes(copying: Array(text.utf8)), source: "$" + VaultTrust.identityVariable, passphrase: nil)
        } else if let path = environment["COFFER_PASSPHRASE_FILE"], !path.isEmpty {
            try unlock(handle, passphrase: readSecretFile(path, limit: 4096).droppingFinalNewline())
        } else {
            throw CofferError.keyUnavailable("no key: no valid session ($COFFER_SESSION), $COFFER_IDENTITY_FILE, $COFFER_IDENTITY or $COFFER_PASSPHRASE_FILE")
        }
    }
}

private func sessions(_ handle: VaultHandle) -> SessionStore {
    SessionStore(folder: SessionStore.defaultFolder(environment: handle.environment))
}

/// A passphrase unlock vouches for the vault (its slot authenticator held), as in the CLI.
private func unlock(_ handle: VaultHandle, passphrase: SecureBytes) throws {
    let vault = try handle.openVault()
    try vault.unlock(passphrase: passphrase)
    try handle.trust.vouchAfterPassphraseUnlock(vault)
}

/// The identity text's `# coffer-pin:` lines must name the vault (before any key is tried).
private func unlock(_ handle: VaultHandle, identities contents: SecureBytes, source: String, passphrase: SecureBytes?) throws {
    let vault = try handle.openVault()
    try handle.trust.check(vault, pins: try contents.withUnsafeBytes { try VaultPin.pins(inIdentityFile: $0, path: source) })
    let identities = try IdentityFile.parse(contents, path: source, passphrase: passphrase)
    try vault.unlock(identities: identities.map(\.secretKey))
    try noteFirstUse(handle, vault)
}

/// After an unlock by identity or session, a vault never vouched for here is said in the
/// message the first time it is read; writing it is refused (`refuseUnconfirmedWrite`).
private func noteFirstUse(_ handle: VaultHandle, _ vault: Vault) throws {
    if let unconfirmed = try handle.trust.unconfirmed(vault), unconfirmed.firstSeenNow {
        handle.setMessage("\(unconfirmed.about); \(unconfirmed.howTo)")
    }
}

/// No silent first use: with no terminal to confirm on, a write to an unpinned vault that no
/// user here vouched for, unlocked by identity or session, is refused (exit 4).
private func refuseUnconfirmedWrite(_ handle: VaultHandle, _ vault: Vault) throws {
    guard vault.isUnlocked else { return }
    if let unconfirmed = try handle.trust.unconfirmed(vault) { throw unconfirmed.refusal }
}

// MARK: Entries

@_cdecl("coffer_get")
public func coffer_get(
    _ pointer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ project: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?,
    _ value: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ length: UnsafeMutablePointer<Int>?
) -> Int32 {
    perform(pointer) { handle in
        let vault = try handle.openVault()
        let entry = try vault.revealableEntry(try text(name, "name"), for: try scope(project, domain))
        var secret = try vault.value(for: entry.name, in: entry.scope)
        defer { secret.wipe() }
        try secret.withUnsafeBytes { try handOver($0, to: value, length: length) }
    }
}

@_cdecl("coffer_set")
public func coffer_set(
    _ pointer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ project: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?,
    _ value: UnsafePointer<UInt8>?, _ length: Int, _ description: UnsafePointer<CChar>?, _ flags: UInt32
) -> Int32 {
    perform(pointer) { handle in
        var copy = Array(try bytes(value, length, "value"))
        defer { copy.wipe() }
        let vault = try handle.openVault()
        try refuseUnconfirmedWrite(handle, vault)
        try vault.set(
            try text(name, "name"), value: copy, in: try scope(project, domain), overwrite: flags & 1 != 0,
            description: try description.map { try text($0, "description") }, noReveal: flags & 2 != 0 ? true : nil)
    }
}

@_cdecl("coffer_delete")
public func coffer_delete(
    _ pointer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ project: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?
) -> Int32 {
    perform(pointer) { handle in
        let vault = try handle.openVault()
        try refuseUnconfirmedWrite(handle, vault)
        try vault.remove(try text(name, "name"), in: try scope(project, domain))
    }
}

@_cdecl("coffer_list")
public func coffer_list(
    _ pointer: OpaquePointer?, _ project: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?,
    _ json: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ length: UnsafeMutablePointer<Int>?
) -> Int32 {
    perform(pointer) { handle in
        let vault = try handle.openVault()
        let entries = project == nil && domain == nil ? vault.entries : vault.resolvedEntries(for: try scope(project, domain))
        let text = Array(VaultEntry.json(entries).utf8)
        try text.withUnsafeBytes { try handOver($0, to: json, length: length) }
    }
}

@_cdecl("coffer_has_unsaved_changes")
public func coffer_has_unsaved_changes(_ pointer: OpaquePointer?) -> Int32 {
    handle(pointer)?.vault?.hasUnsavedChanges == true ? 1 : 0
}

@_cdecl("coffer_save")
public func coffer_save(_ pointer: OpaquePointer?) -> Int32 {
    perform(pointer) { handle in
        let vault = try handle.openVault()
        guard vault.hasUnsavedChanges else { return }
        let path = vault.path
        let branch = GitBranch.current(forFileAt: path)
        // A file changed since it was opened is a conflict (as Vault.save says under the lock),
        // not a rollback of this older copy.
        guard try ConstantTime.equals(Vault.open(at: path).signature, vault.signature) else {
            throw CofferError.conflict("\(path) changed on disk since it was read")
        }
        try refuseUnconfirmedWrite(handle, vault)
        try handle.trust.checkBeforeWriting(vault, at: path, branch: branch, pins: handle.pins)
        try handle.trust.refresh()
        try handle.trust.checkWrite(vault, at: path, branch: branch)
        try vault.save()
        try handle.trust.remember(vault, at: path, branch: branch)
    }
}
