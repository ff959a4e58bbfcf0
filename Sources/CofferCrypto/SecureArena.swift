internal import CSodium
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Guarded memory for small keys, shared: slots carved from `sodium_malloc` regions (locked
/// against swapping, kept out of core dumps, guard pages around each region) and zeroed when
/// they are given back. A `sodium_malloc` of its own for every key costs an mmap, two mprotects
/// and an mlock, and as many calls again to free it: about 0.5 ms of CPU and 0.7 ms of wall time
/// of a `coffer set` that makes and frees a dozen keys (measured against plain malloc, 60
/// alternating rounds). What is given up: guard pages between two keys of one region (an
/// overrun from one key reaches another key, still in locked, zeroed memory, never the heap).
///
/// Regions are kept for the life of the process; a slot is zeroed as it is given back.
final class SecureArena: @unchecked Sendable {
    static let shared = SecureArena()

    /// The slot sizes, smallest first: keys and signing keys (64), hash states (512). Larger
    /// buffers get a `sodium_malloc` of their own. Multiples of 64, so a slot is 64-byte aligned
    /// (regions start on a page).
    static let slotSizes = [64, 512]
    static let regionByteCount = 16 * 1024

    /// Free slots of each size. Unchecked Sendable: read and changed only under `lock`.
    private var free: [[UnsafeMutableRawPointer]]
    private let lock: UnsafeMutablePointer<pthread_mutex_t>

    /// An arena of its own (tests); the process shares `shared`.
    init() {
        // `sodium_malloc` aborts while libsodium is uninitialised, or being initialised on
        // another thread: an arena made before any `SecureBytes` (a test's) did so at random.
        Sodium.ensureInitialized()
        free = Self.slotSizes.map { _ in [] }
        lock = .allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
    }

    /// The size class for `count` bytes, or nil when a slot would be too small.
    static func sizeClass(for count: Int) -> Int? {
        slotSizes.firstIndex { count <= $0 }
    }

    /// A zeroed slot of `slotSizes[sizeClass]` bytes.
    func allocate(sizeClass: Int) -> UnsafeMutableRawPointer {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if free[sizeClass].isEmpty {
            let slotSize = Self.slotSizes[sizeClass]
            guard let region = sodium_malloc(Self.regionByteCount) else {
                fatalError("sodium_malloc failed: out of guarded memory")
            }
            sodium_memzero(region, Self.regionByteCount)
            precondition(Int(bitPattern: region) % 64 == 0, "a region starts on a page")
            free[sizeClass] = stride(from: Self.regionByteCount - slotSize, through: 0, by: -slotSize).map { region + $0 }
        }
        return free[sizeClass].removeLast()
    }

    /// Zeroes `slot` and takes it back.
    func release(_ slot: UnsafeMutableRawPointer, sizeClass: Int) {
        sodium_memzero(slot, Self.slotSizes[sizeClass])
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        free[sizeClass].append(slot)
    }
}
