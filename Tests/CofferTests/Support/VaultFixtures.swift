import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Synchronization
import Foundation

/// Argon2id at its cheapest (1 pass over 8 KiB): the tests exercise the format, not the KDF.
let testKDF = try! Argon2id.Parameters(opsLimit: 1, memLimit: 8192)

let testPassphrase = "correct horse battery staple"

func secure(_ text: String) -> SecureBytes { SecureBytes(copying: Array(text.utf8)) }

/// An entry as the test vectors write it: `project/domain/name`.
func entryKey(_ name: String, _ scope: Scope) -> String { "\(scope.project)/\(scope.domain)/\(name)" }

/// A vault at `path`, unlocked with `testPassphrase`, holding `entries` (keyed by `entryKey`).
func makeVault(at path: String, entries: [(scope: Scope, name: String, value: [UInt8])]) throws -> Vault {
    let vault = try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: testKDF)
    for entry in entries { try vault.set(entry.name, value: entry.value, in: entry.scope) }
    try vault.save()
    return vault
}

/// Every value the unlocked `vault`'s key can read, keyed by `entryKey`; entries of scopes the
/// key does not grant are left out, any other failure is thrown.
func readableValues(_ vault: Vault) throws -> [String: [UInt8]] {
    var values: [String: [UInt8]] = [:]
    for entry in vault.entries {
        do {
            values[entryKey(entry.name, entry.scope)] = try vault.value(for: entry.name, in: entry.scope)
        } catch CofferError.keyUnavailable {
            continue
        }
    }
    return values
}

/// `signedPart` followed by a signature made with `key`: what a key holder (or a forger with
/// another key) writes.
func signed(_ signedPart: [UInt8], with key: Ed25519.SigningKey) -> [UInt8] {
    signedPart + key.signature(for: FormatMessages.fileSignature(hash: BLAKE2b.hash(signedPart)))
}

/// `bytes` (a whole file) with the byte at `offset` XORed with `mask`.
func flipping(_ bytes: [UInt8], at offset: Int, mask: UInt8 = 0x01) -> [UInt8] {
    var copy = bytes
    copy[offset] ^= mask
    return copy
}

/// Where `needle` starts in `haystack`; the tests only look for byte strings that occur once.
func offset(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
}

extension CofferError {
    /// The error kinds of Specs/vault-format.md §7; other cases by their description.
    var vectorKind: String {
        switch self {
        case .authenticationFailed: "authentication"
        case .notAVault: "not-a-vault"
        case .unsupportedVersion: "unsupported-version"
        case .corrupted: "corrupted"
        case .tampered: "tampered"
        case .forged: "forged"
        default: "\(self)"
        }
    }

    var isInvalidArgument: Bool {
        if case .invalidArgument = self { true } else { false }
    }

    /// The part a corrupted or tampered file names; empty for the other kinds.
    var part: String {
        switch self {
        case let .corrupted(part), let .tampered(part), let .forged(part): part
        default: ""
        }
    }
}

/// Runs `body(0)`, ..., `body(count - 1)` each on its own thread, all at once, and returns
/// the descriptions of the errors they threw.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [String] {
    final class ErrorLog: Sendable {
        let errors = Mutex<[String]>([])
    }
    let log = ErrorLog()
    let done = DispatchSemaphore(value: 0)
    for index in 0..<count {
        Thread {
            defer { done.signal() }
            do { try body(index) } catch { log.errors.withLock { $0.append("\(index): \(error)") } }
        }.start()
    }
    for _ in 0..<count { done.wait() }
    return log.errors.withLock { $0 }
}
