import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

// The C ABI of include/coffer.h: each function is a thin shell over the Coffer library that turns
// errors into the README's exit codes and a message kept on the handle.

/// What one `coffer_vault *` holds. Used by one thread at a time (the header says so).
final class VaultHandle {
    var vault: Vault?
    let environment = ProcessEnvironment.variables()
    private(set) var message: UnsafeMutablePointer<CChar> = strdup("")
    private(set) var path: UnsafeMutablePointer<CChar> = strdup("")

    var trustStore: TrustStore { TrustStore(path: TrustStore.defaultPath(environment: environment)) }

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

/// A vault this machine's trust state refuses (forged, substituted, or for a write a rollback or
/// fork): exit code 4, with the trust store's own message.
struct TrustRefusal: Error {
    let message: String
}

private func handle(_ pointer: OpaquePointer?) -> VaultHandle? {
    pointer.map { Unmanaged<VaultHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
}

/// Runs `body` on the handle: 0 and an empty message, or the error's status and message.
private func perform(_ pointer: OpaquePointer?, _ body: (VaultHandle) throws -> Void) -> Int32 {
    guard let handle = handle(pointer) else { return 1 }
    do {
        handle.setMessage("")
        try body(handle)
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
    case let refusal as TrustRefusal: return (4, refusal.message)
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
    guard let out else { return 1 }
    let created = VaultHandle()
    let pointer = OpaquePointer(Unmanaged.passRetained(created).toOpaque())
    out.pointee = pointer
    return perform(pointer) { handle in
        let chosen: String
        if let path, path.pointee != 0 {
            chosen = try text(path, "path")
        } else if flags & 1 != 0 {
            chosen = VaultLocation.localVaultPath(environment: handle.environment)
        } else {
            chosen = VaultLocation.discover(environment: handle.environment, currentDirectory: ProcessEnvironment.currentDirectory)
        }
        handle.setPath(chosen)
        let vault = try Vault.open(at: chosen)
        let findings = try handle.trustStore.check(vault, at: chosen, branch: GitBranch.current(forFileAt: chosen))
        if let blocking = findings.first(where: \.blocksReads) { throw TrustRefusal(message: blocking.message) }
        handle.vault = vault
        // Rollbacks and forks allow reading, as in the CLI: said in the message, refused at save.
        handle.setMessage(findings.map(\.message).joined(separator: "; "))
    }
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
        try handle.openVault().unlock(passphrase: SecureBytes(copying: try bytes(passphrase, length, "passphrase")))
    }
}

@_cdecl("coffer_unlock_identity_file")
public func coffer_unlock_identity_file(
    _ pointer: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ passphrase: UnsafePointer<UInt8>?, _ length: Int
) -> Int32 {
    perform(pointer) { handle in
        let path = try text(path, "identity file")
        let protection = passphrase == nil ? nil : SecureBytes(copying: try bytes(passphrase, length, "passphrase"))
        try unlock(handle.openVault(), identities: readSecretFile(path, limit: 1 << 20), source: path, passphrase: protection)
    }
}

@_cdecl("coffer_unlock_identity")
public func coffer_unlock_identity(_ pointer: OpaquePointer?, _ identity: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
    perform(pointer) { handle in
        let contents = SecureBytes(copying: try bytes(identity, length, "identity"))
        try unlock(handle.openVault(), identities: contents, source: "identity text", passphrase: nil)
    }
}

@_cdecl("coffer_unlock_session")
public func coffer_unlock_session(_ pointer: OpaquePointer?, _ token: UnsafePointer<CChar>?) -> Int32 {
    perform(pointer) { handle in
        let token = try token.map { try text($0, "token") } ?? handle.environment[SessionStore.environmentVariable] ?? ""
        guard !token.isEmpty else { throw CofferError.keyUnavailable("no session token given and $COFFER_SESSION is not set") }
        try sessions(handle).resume(handle.openVault(), token: token, now: Timestamp.now())
    }
}

@_cdecl("coffer_unlock_default")
public func coffer_unlock_default(_ pointer: OpaquePointer?) -> Int32 {
    perform(pointer) { handle in
        let vault = try handle.openVault()
        let environment = handle.environment
        if let token = environment[SessionStore.environmentVariable], !token.isEmpty,
           (try? sessions(handle).resume(vault, token: token, now: Timestamp.now())) != nil {
            return
        }
        if let path = environment["COFFER_IDENTITY_FILE"], !path.isEmpty {
            try unlock(vault, identities: readSecretFile(path, limit: 1 << 20), source: path, passphrase: nil)
        } else if let text = environment["COFFER_IDENTITY"], !text.isEmpty {
            try unlock(vault, identities: SecureBytes(copying: Array(text.utf8)), source: "$COFFER_IDENTITY", passphrase: nil)
        } else if let path = environment["COFFER_PASSPHRASE_FILE"], !path.isEmpty {
            try vault.unlock(passphrase: readSecretFile(path, limit: 4096).droppingFinalNewline())
        } else {
            throw CofferError.keyUnavailable("no key: no valid session ($COFFER_SESSION), $COFFER_IDENTITY_FILE, $COFFER_IDENTITY or $COFFER_PASSPHRASE_FILE")
        }
    }
}

private func sessions(_ handle: VaultHandle) -> SessionStore {
    SessionStore(folder: SessionStore.defaultFolder(environment: handle.environment))
}

private func unlock(_ vault: Vault, identities contents: SecureBytes, source: String, passphrase: SecureBytes?) throws {
    let identities = try IdentityFile.parse(contents, path: source, passphrase: passphrase)
    try vault.unlock(identities: identities.map(\.secretKey))
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
        try handle.openVault().set(
            try text(name, "name"), value: copy, in: try scope(project, domain), overwrite: flags & 1 != 0,
            description: try description.map { try text($0, "description") }, noReveal: flags & 2 != 0 ? true : nil)
    }
}

@_cdecl("coffer_delete")
public func coffer_delete(
    _ pointer: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ project: UnsafePointer<CChar>?, _ domain: UnsafePointer<CChar>?
) -> Int32 {
    perform(pointer) { handle in
        try handle.openVault().remove(try text(name, "name"), in: try scope(project, domain))
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
        let store = handle.trustStore
        if let finding = try store.findings(for: vault, at: path, branch: branch).first {
            throw TrustRefusal(message: finding.message + "; writing refused")
        }
        try vault.save()
        try store.remember(vault, at: path, branch: branch)
    }
}
