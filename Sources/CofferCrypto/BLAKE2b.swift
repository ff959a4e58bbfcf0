internal import CSodium

/// BLAKE2b (`crypto_generichash`) and subkey derivation (`crypto_kdf_derive_from_key`).
public enum BLAKE2b {
    public static let maxByteCount = Int(crypto_generichash_BYTES_MAX)

    /// Unkeyed hash of `byteCount` bytes (16...64).
    public static func hash(_ data: UnsafeRawBufferPointer, byteCount: Int = 64) -> [UInt8] {
        Sodium.ensureInitialized()
        precondition((Int(crypto_generichash_BYTES_MIN)...maxByteCount).contains(byteCount))
        var digest = [UInt8](repeating: 0, count: byteCount)
        _ = crypto_generichash(
            &digest, byteCount, data.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(data.count), nil, 0)
        return digest
    }

    public static func hash(_ data: [UInt8], byteCount: Int = 64) -> [UInt8] {
        data.withUnsafeBytes { hash($0, byteCount: byteCount) }
    }

    /// Unkeyed hash of `pieces` one after the other, as of their concatenation (which is not made).
    public static func hash(pieces: [ArraySlice<UInt8>], byteCount: Int = 64) -> [UInt8] {
        Sodium.ensureInitialized()
        precondition((Int(crypto_generichash_BYTES_MIN)...maxByteCount).contains(byteCount))
        // libsodium's state wants 64-byte alignment, which a Swift value does not promise.
        let memory = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        defer { memory.deallocate() }
        let state = OpaquePointer(memory)
        _ = crypto_generichash_init(state, nil, 0, byteCount)
        for piece in pieces {
            piece.withUnsafeBufferPointer { _ = crypto_generichash_update(state, $0.baseAddress, UInt64($0.count)) }
        }
        var digest = [UInt8](repeating: 0, count: byteCount)
        _ = crypto_generichash_final(state, &digest, byteCount)
        return digest
    }

    /// Keyed hash of `message` under `key`, written into `output` (guarded memory); used to derive keys.
    public static func keyedHash(_ message: UnsafeRawBufferPointer, key: SecureBytes, into output: SecureBytes) {
        Sodium.ensureInitialized()
        precondition((Int(crypto_generichash_KEYBYTES_MIN)...Int(crypto_generichash_KEYBYTES_MAX)).contains(key.count))
        precondition((Int(crypto_generichash_BYTES_MIN)...maxByteCount).contains(output.count))
        output.withUnsafeMutableBytes { out in
            key.withUnsafeBytes { key in
                _ = crypto_generichash(
                    out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count,
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                    key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
            }
        }
    }

    public static func keyedHash(_ message: [UInt8], key: SecureBytes, byteCount: Int = 32) -> SecureBytes {
        let output = SecureBytes(count: byteCount)
        message.withUnsafeBytes { keyedHash($0, key: key, into: output) }
        return output
    }

    /// Keyed hashes of many messages under one key: the state `crypto_generichash_init` makes
    /// with the key is kept, and each message hashed from a copy of it (`update`, `final`). The
    /// digest is `keyedHash`'s; the state's set-up is paid once per key instead of once per
    /// message. (The key block itself is compressed with each message still: libsodium buffers
    /// it until more input comes, so it is about a tenth of a keyed hash of a short message that
    /// this saves, measured.) Both states hold the key: they are in guarded memory.
    public final class KeyedHasher {
        public let byteCount: Int
        private let keyed: SecureBytes
        private let working: SecureBytes

        /// A hasher under `key` (16...64 bytes) giving `byteCount`-byte digests (16...64).
        public init(key: SecureBytes, byteCount: Int = 32) {
            Sodium.ensureInitialized()
            precondition((Int(crypto_generichash_BYTES_MIN)...maxByteCount).contains(byteCount))
            self.byteCount = byteCount
            // `sodium_malloc` puts a buffer against the end of its page: a size that is a
            // multiple of 64 gives the 64-byte alignment libsodium's state asks for.
            let stateByteCount = (crypto_generichash_statebytes() + 63) / 64 * 64
            keyed = SecureBytes(count: stateByteCount)
            working = SecureBytes(count: stateByteCount)
            keyed.withUnsafeBytes { precondition(Int(bitPattern: $0.baseAddress) % 64 == 0, "state not 64-byte aligned") }
            working.withUnsafeBytes { precondition(Int(bitPattern: $0.baseAddress) % 64 == 0, "state not 64-byte aligned") }
            setKey(key)
        }

        /// Hashes under `key` from now on, reusing this hasher's memory.
        public func setKey(_ key: SecureBytes) {
            precondition((Int(crypto_generichash_KEYBYTES_MIN)...Int(crypto_generichash_KEYBYTES_MAX)).contains(key.count))
            keyed.withUnsafeMutableBytes { state in
                key.withUnsafeBytes { key in
                    _ = crypto_generichash_init(
                        OpaquePointer(state.baseAddress!), key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count,
                        byteCount)
                }
            }
        }

        /// The keyed hash of `message`, written into `output` (guarded memory of `byteCount` bytes).
        public func hash(_ message: UnsafeRawBufferPointer, into output: SecureBytes) {
            precondition(output.count == byteCount)
            working.withUnsafeMutableBytes { working in
                keyed.withUnsafeBytes { working.copyMemory(from: $0) }
                let state = OpaquePointer(working.baseAddress!)
                _ = crypto_generichash_update(
                    state, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count))
                output.withUnsafeMutableBytes { out in
                    _ = crypto_generichash_final(state, out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count)
                }
            }
        }
    }

    /// Subkey `id` of a 32-byte master key under an 8-byte `context` (`crypto_kdf_derive_from_key`).
    public static func deriveSubkey(from key: SecureBytes, id: UInt64, context: StaticString, byteCount: Int = 32) -> SecureBytes {
        Sodium.ensureInitialized()
        precondition(key.count == Int(crypto_kdf_KEYBYTES) && context.utf8CodeUnitCount == Int(crypto_kdf_CONTEXTBYTES))
        precondition((Int(crypto_kdf_BYTES_MIN)...Int(crypto_kdf_BYTES_MAX)).contains(byteCount))
        let subkey = SecureBytes(count: byteCount)
        subkey.withUnsafeMutableBytes { out in
            key.withUnsafeBytes { key in
                context.withUTF8Buffer { context in
                    _ = crypto_kdf_derive_from_key(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self), byteCount, id,
                        UnsafeRawPointer(context.baseAddress!).assumingMemoryBound(to: CChar.self),
                        key.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        return subkey
    }
}
