internal import CSodium

/// Key material in guarded memory, `sodium_malloc`'s (locked against swapping where the system
/// allows, out of core dumps), zeroed on release: up to 512 bytes a slot of a shared region
/// (`SecureArena`), anything larger a `sodium_malloc` of its own with its own guard pages.
///
/// The bytes are reachable only through `withUnsafeBytes`; the type never converts itself
/// into an `Array` or `Data`, so no silent copies end up on the ordinary heap.
public final class SecureBytes {
    private let base: UnsafeMutableRawPointer
    public let count: Int
    /// The arena's size class of `base`; nil for memory of its own.
    private let sizeClass: Int?

    /// `count` zero bytes.
    public init(count: Int) {
        precondition(count >= 0)
        Sodium.ensureInitialized()
        self.count = count
        sizeClass = SecureArena.sizeClass(for: max(count, 1))
        if let sizeClass {
            base = SecureArena.shared.allocate(sizeClass: sizeClass)
        } else {
            guard let pointer = sodium_malloc(count) else {
                fatalError("sodium_malloc failed: out of guarded memory")
            }
            base = pointer
            sodium_memzero(base, count)
        }
    }

    /// `count` random bytes.
    public static func random(count: Int) -> SecureBytes {
        let key = SecureBytes(count: count)
        key.withUnsafeMutableBytes { SecureRandom.fill($0) }
        return key
    }

    /// A guarded copy of `bytes`; the caller remains responsible for wiping the source.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 {
            base.copyMemory(from: source, byteCount: bytes.count)
        }
    }

    /// A guarded copy of `bytes[range]`, without an intermediate array.
    public convenience init(copying bytes: [UInt8], range: Range<Int>? = nil) {
        let range = range ?? bytes.indices
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count)
        self.init(count: range.count)
        bytes.withUnsafeBytes { source in
            if !range.isEmpty {
                base.copyMemory(from: source.baseAddress! + range.lowerBound, byteCount: range.count)
            }
        }
    }

    deinit {
        if let sizeClass {
            SecureArena.shared.release(base, sizeClass: sizeClass)
        } else {
            sodium_free(base)
        }
    }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    public func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }

    /// These bytes without one final line ending (LF or CRLF), as a passphrase file holds them.
    public func droppingFinalNewline() -> SecureBytes {
        let trimmed = withUnsafeBytes { bytes -> Int in
            guard bytes.last == 0x0A else { return bytes.count }
            return bytes.count >= 2 && bytes[bytes.count - 2] == 0x0D ? bytes.count - 2 : bytes.count - 1
        }
        return trimmed == count ? self : slice(0..<trimmed)
    }

    /// A guarded copy of bytes `range` of this buffer.
    public func slice(_ range: Range<Int>) -> SecureBytes {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        return SecureBytes(copying: UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }
}

extension SecureBytes: Equatable {
    /// Constant-time comparison.
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in ConstantTime.equals(a, b) } }
    }
}
