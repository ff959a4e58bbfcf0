internal import CLibSSH
internal import CSodium
#if canImport(Glibc)
import Glibc
#endif

/// Decrypts passphrase-protected OpenSSH private key files through libssh.
///
/// OpenSSH protects keys with bcrypt-pbkdf and AES-256-CTR. libsodium has neither (no Blowfish,
/// no AES-CTR), and no maintained C library in Debian exports bcrypt-pbkdf on its own (libbsd,
/// nettle, libgcrypt and OpenSSL do not); libssh, maintained and packaged, reads such files.
/// So libssh decrypts the file and exports the key again without a passphrase, in memory, and
/// Coffer parses that as it parses an unprotected key. libssh is used for nothing else, so it is
/// loaded only then (dlopen): linked, it and the libraries it needs (OpenSSL, Kerberos, ...) were
/// loaded and relocated at every start, about 4.7 million instructions of the 13.5 million of
/// `coffer --version` (callgrind, Benchmarks/README.md "Start-up").
public enum OpenSSHKeyDecryption {
    /// Whether libssh could be loaded (the libssh-4 package).
    public static var isAvailable: Bool { LibSSH.loaded != nil }

    /// The key of `file` (a whole PEM file) as an unprotected OpenSSH private key file, in
    /// guarded memory; nil when `passphrase` does not open it (or libssh cannot read it).
    public static func decrypt(_ file: UnsafeRawBufferPointer, passphrase: SecureBytes) -> SecureBytes? {
        guard let ssh = LibSSH.loaded else { return nil }
        let text = nulTerminated(file)
        let password = passphrase.withUnsafeBytes { nulTerminated($0) }
        var key: ssh_key?
        let imported = text.withUnsafeBytes { text in
            password.withUnsafeBytes { password in
                ssh.importPrivateKey(
                    text.baseAddress!.assumingMemoryBound(to: CChar.self), password.baseAddress!.assumingMemoryBound(to: CChar.self),
                    nil, nil, &key)
            }
        }
        guard imported == SSH_OK, let key else { return nil }
        defer { ssh.freeKey(key) }
        var exported: UnsafeMutablePointer<CChar>?
        guard ssh.exportPrivateKey(key, nil, nil, nil, &exported) == SSH_OK, let exported else { return nil }
        let count = strlen(exported)
        let result = SecureBytes(copying: UnsafeRawBufferPointer(start: exported, count: count))
        sodium_memzero(exported, count)
        ssh.freeString(exported)
        return result
    }

    private static func nulTerminated(_ bytes: UnsafeRawBufferPointer) -> SecureBytes {
        let copy = SecureBytes(count: bytes.count + 1)
        copy.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[..<bytes.count]).copyMemory(from: bytes) }
        return copy
    }
}

/// The four libssh functions Coffer calls, looked up in libssh.so.4 on first use.
private struct LibSSH {
    typealias ImportPrivateKey = @convention(c) (
        UnsafePointer<CChar>?, UnsafePointer<CChar>?, ssh_auth_callback?, UnsafeMutableRawPointer?, UnsafeMutablePointer<ssh_key?>?
    ) -> Int32
    typealias ExportPrivateKey = @convention(c) (
        ssh_key?, UnsafePointer<CChar>?, ssh_auth_callback?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> Int32
    typealias FreeKey = @convention(c) (ssh_key?) -> Void
    typealias FreeString = @convention(c) (UnsafeMutablePointer<CChar>?) -> Void

    let importPrivateKey: ImportPrivateKey
    let exportPrivateKey: ExportPrivateKey
    let freeKey: FreeKey
    let freeString: FreeString

    /// nil when the library or one of the functions is missing. Loaded once, never unloaded.
    nonisolated(unsafe) static let loaded: LibSSH? = {
        guard let handle = dlopen("libssh.so.4", RTLD_NOW | RTLD_LOCAL) else { return nil }
        func symbol<Function>(_ name: String, as type: Function.Type) -> Function? {
            dlsym(handle, name).map { unsafeBitCast($0, to: type) }
        }
        guard let importPrivateKey = symbol("ssh_pki_import_privkey_base64", as: ImportPrivateKey.self),
              let exportPrivateKey = symbol("ssh_pki_export_privkey_base64", as: ExportPrivateKey.self),
              let freeKey = symbol("ssh_key_free", as: FreeKey.self),
              let freeString = symbol("ssh_string_free_char", as: FreeString.self) else { return nil }
        return LibSSH(importPrivateKey: importPrivateKey, exportPrivateKey: exportPrivateKey, freeKey: freeKey, freeString: freeString)
    }()
}
