@testable import CofferCrypto
import Dispatch
import Testing

struct SecureBytesTests {
    @Test func zeroFilledOnCreation() {
        let bytes = SecureBytes(count: 48)
        #expect(bytes.count == 48)
        #expect(bytes.array == [UInt8](repeating: 0, count: 48))
        #expect(SecureBytes(count: 0).array == [])
    }

    @Test func randomContents() {
        let first = SecureBytes.random(count: 32)
        #expect(first.count == 32)
        #expect(first != SecureBytes.random(count: 32))
        #expect(first != SecureBytes(count: 32))
    }

    @Test func writesAreVisible() {
        let bytes = SecureBytes(count: 4)
        bytes.withUnsafeMutableBytes { $0.copyBytes(from: [1, 2, 3, 4]) }
        #expect(bytes.array == [1, 2, 3, 4])
    }

    @Test func equalityComparesContents() {
        let bytes = SecureBytes(copying: [1, 2, 3])
        #expect(bytes == bytes)
        #expect(bytes == SecureBytes(copying: [1, 2, 3]))
        #expect(bytes != SecureBytes(copying: [1, 2, 4]))
        #expect(bytes != SecureBytes(copying: [1, 2]))
        #expect(bytes != SecureBytes(copying: [1, 2, 3, 0]))
        #expect(SecureBytes(count: 0) == SecureBytes(copying: []))
    }

    @Test func copying() {
        let source: [UInt8] = [10, 11, 12, 13, 14, 15]
        #expect(SecureBytes(copying: source).array == source)
        #expect(SecureBytes(copying: source, range: 2..<5).array == [12, 13, 14])
        #expect(SecureBytes(copying: source, range: 3..<3).count == 0)
        #expect(source.withUnsafeBytes { SecureBytes(copying: $0) }.array == source)
        #expect(SecureBytes(copying: UnsafeRawBufferPointer(start: nil, count: 0)).count == 0)
    }

    @Test func sliceIsAnIndependentCopy() {
        let bytes = SecureBytes(copying: [0, 1, 2, 3, 4, 5, 6, 7])
        let slice = bytes.slice(2..<6)
        #expect(slice.array == [2, 3, 4, 5])
        #expect(bytes.slice(0..<8) == bytes)
        #expect(bytes.slice(8..<8).count == 0)
        bytes.withUnsafeMutableBytes { $0[3] = 0xff }
        #expect(slice.array == [2, 3, 4, 5])
    }

    @Test func largeBuffersHaveGuardedMemoryOfTheirOwn() {
        let large = SecureBytes(count: 4097)
        #expect(large.array == [UInt8](repeating: 0, count: 4097))
        large.withUnsafeMutableBytes { $0[4096] = 7 }
        #expect(large.array.last == 7)
    }

    /// Keys made and dropped on many threads at once: no two live keys share a byte.
    @Test func keysOnManyThreadsNeverShareMemory() {
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for round in 0..<500 {
                let count = [1, 32, 64, 65, 384, 512][round % 6]
                let pattern = UInt8(truncatingIfNeeded: thread * 31 + round)
                let keys = (0..<4).map { _ in SecureBytes(copying: [UInt8](repeating: pattern, count: count)) }
                for key in keys { #expect(key.array == [UInt8](repeating: pattern, count: count), "a key changed under its owner") }
            }
        }
    }
}

struct SecureArenaTests {
    /// A slot given back is zeroed at once: the key it held is gone before anyone else gets it.
    @Test func aSlotIsZeroedWhenGivenBackAndGivenOutAgainZeroed() {
        let arena = SecureArena()
        for sizeClass in SecureArena.slotSizes.indices {
            let size = SecureArena.slotSizes[sizeClass]
            let slot = arena.allocate(sizeClass: sizeClass)
            slot.initializeMemory(as: UInt8.self, repeating: 0xAB, count: size)
            arena.release(slot, sizeClass: sizeClass)
            #expect(UnsafeRawBufferPointer(start: slot, count: size).allSatisfy { $0 == 0 })
            let again = arena.allocate(sizeClass: sizeClass)
            #expect(again == slot)
            #expect(UnsafeRawBufferPointer(start: again, count: size).allSatisfy { $0 == 0 })
        }
    }

    /// Slots are distinct, 64-byte aligned, and a full region is followed by a new one.
    @Test func slotsAreDistinctAlignedAndRegionsGrow() {
        let arena = SecureArena()
        let perRegion = SecureArena.regionByteCount / SecureArena.slotSizes[0]
        let slots = (0..<(perRegion + 3)).map { _ in arena.allocate(sizeClass: 0) }
        #expect(Set(slots).count == slots.count)
        #expect(slots.allSatisfy { Int(bitPattern: $0) % 64 == 0 })
        let addresses = slots.map { Int(bitPattern: $0) }.sorted()
        #expect(zip(addresses, addresses.dropFirst()).allSatisfy { $1 - $0 >= SecureArena.slotSizes[0] })
        #expect(SecureArena.sizeClass(for: 64) == 0 && SecureArena.sizeClass(for: 65) == 1)
        #expect(SecureArena.sizeClass(for: 512) == 1 && SecureArena.sizeClass(for: 513) == nil)
    }
}

struct ConstantTimeTests {
    @Test func equals() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([0, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(!ConstantTime.equals([], [0]))
        #expect(ConstantTime.equals([], []))
        let a: [UInt8] = [9, 8, 7], b: [UInt8] = [9, 8, 7]
        #expect(a.withUnsafeBytes { x in b.withUnsafeBytes { y in ConstantTime.equals(x, y) } })
    }
}

struct SecureRandomTests {
    @Test func bytes() {
        let first = SecureRandom.bytes(32)
        #expect(first.count == 32)
        #expect(first != SecureRandom.bytes(32))
        #expect(SecureRandom.bytes(0) == [])
    }

    @Test func fill() {
        var buffer = [UInt8](repeating: 0, count: 64)
        buffer.withUnsafeMutableBytes { SecureRandom.fill($0) }
        #expect(buffer != [UInt8](repeating: 0, count: 64))
        SecureRandom.fill(UnsafeMutableRawBufferPointer(start: nil, count: 0))
    }
}
