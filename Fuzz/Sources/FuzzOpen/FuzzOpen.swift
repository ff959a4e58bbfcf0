import Coffer
import CofferCrypto

/// The passphrase of the test vectors, the seed corpus (their slots use the format's smallest
/// Argon2id). libFuzzer calls the target from one thread only.
nonisolated(unsafe) private let passphrase = SecureBytes(copying: Array("correct horse battery staple".utf8))

/// The whole open path: parse, verify the signature, unlock with the test passphrase (the
/// corpus uses the smallest Argon2id the format allows) and open every entry. Every input must
/// end in an error or in values; nothing may trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOpen(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let vault = try? Vault(bytes: bytes, path: "fuzz.coffer") else { return 0 }
    // Refuse slow slots: the fuzzer is after parsing bugs, not Argon2id's cost.
    for slot in vault.slots {
        if case let .passphrase(_, ops, mem) = slot.kind, ops > 1 || mem > 65_536 { return 0 }
    }
    guard (try? vault.unlock(passphrase: passphrase)) != nil else { return 0 }
    for entry in vault.entries {
        _ = try? vault.value(for: entry.name, in: entry.scope)
    }
    return 0
}
