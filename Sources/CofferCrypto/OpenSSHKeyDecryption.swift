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
/// Coffer parses that as it parses an unprotected key. libssh is used for nothing else.
public enum OpenSSHKeyDecryption {
    /// The key of `file` (a whole PEM file) as an unprotected OpenSSH private key file, in
    /// guarded memory; nil when `passphrase` does not open it (or libssh cannot read it).
    public static func decrypt(_ file: UnsafeRawBufferPointer, passphrase: SecureBytes) -> SecureBytes? {
        let text = nulTerminated(file)
        let password = passphrase.withUnsafeBytes { nulTerminated($0) }
        var key: ssh_key?
        let imported = text.withUnsafeBytes { text in
            password.withUnsafeBytes { password in
                ssh_pki_import_privkey_base64(
                    text.baseAddress!.assumingMemoryBound(to: CChar.self), password.baseAddress!.assumingMemoryBound(to: CChar.self),
                    nil, nil, &key)
            }
        }
        guard imported == SSH_OK, let key else { return nil }
        defer { ssh_key_free(key) }
        var exported: UnsafeMutablePointer<CChar>?
        guard ssh_pki_export_privkey_base64(key, nil, nil, nil, &exported) == SSH_OK, let exported else { return nil }
        let count = strlen(exported)
        let result = SecureBytes(copying: UnsafeRawBufferPointer(start: exported, count: count))
        sodium_memzero(exported, count)
        ssh_string_free_char(exported)
        return result
    }

    private static func nulTerminated(_ bytes: UnsafeRawBufferPointer) -> SecureBytes {
        let copy = SecureBytes(count: bytes.count + 1)
        copy.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[..<bytes.count]).copyMemory(from: bytes) }
        return copy
    }
}
