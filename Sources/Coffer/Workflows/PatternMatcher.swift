#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An Aho–Corasick automaton over bytes whose memory grows with the total length of the patterns.
///
/// States are numbered breadth-first, so the children of a state are consecutive, sorted by their
/// byte, and the depth of a state follows from its number. Per state it keeps the byte leading to
/// it, its first child, its failure link and two flags: about 10 bytes, where a dense table would
/// keep one entry per byte value (256 × 4 bytes). The root and the states one byte deep, which
/// ordinary output visits most, also get dense rows so that scanning stays fast.
final class PatternMatcher: Sendable {
    /// The byte on the edge into each state (unused for the root).
    private let label: [UInt8]
    /// The children of state `s` are `firstChild[s]..<firstChild[s + 1]`.
    private let firstChild: [Int32]
    /// The state for the longest proper suffix of the state's string that is also in the trie.
    private let failure: [Int32]
    /// `terminal`: a pattern ends here; `output`: a pattern ends here or along the failure links.
    private let flags: [UInt8]
    /// `levelStart[d]`: the first state `d` bytes deep (the last entry is the state count).
    private let levelStart: [Int32]
    /// Full transitions of the root and of the states one byte deep: `dense[s * 256 + byte]`.
    private let dense: [Int32]
    private let denseStates: Int

    private static let terminal: UInt8 = 1
    private static let output: UInt8 = 2

    /// `patterns` must be non-empty and hold no empty pattern; duplicates are fine.
    init(patterns: [[UInt8]]) {
        // Sorted and laid end to end: a node's patterns are a contiguous range, those ending at the node first.
        // memcmp: the generic lexicographicallyPrecedes took a tenth of the set-up for 10,000 secrets.
        let order = patterns.indices.sorted { first, second in
            patterns[first].withUnsafeBytes { a in
                patterns[second].withUnsafeBytes { b in
                    let order = memcmp(a.baseAddress!, b.baseAddress!, min(a.count, b.count))
                    return order != 0 ? order < 0 : a.count < b.count
                }
            }
        }
        var bytes: [UInt8] = []
        var starts: [Int] = []
        bytes.reserveCapacity(patterns.reduce(0) { $0 + $1.count })
        starts.reserveCapacity(order.count + 1)
        for index in order {
            starts.append(bytes.count)
            bytes += patterns[index]
        }
        starts.append(bytes.count)

        // At most one state per pattern byte, plus the root.
        var label: [UInt8] = [0]
        var firstChild: [Int32] = []
        var flags: [UInt8] = [0]
        label.reserveCapacity(bytes.count + 1)
        firstChild.reserveCapacity(bytes.count + 2)
        flags.reserveCapacity(bytes.count + 1)
        var levelStart: [Int32] = [0]
        // The nodes of the current level, in state order, as ranges of the sorted patterns.
        var level: [Range<Int>] = [0..<order.count]
        // Reused from level to level: a long pattern has as many levels as bytes.
        var next: [Range<Int>] = []
        var depth = 0
        while !level.isEmpty {
            levelStart.append(levelStart.last! + Int32(level.count))
            next.removeAll(keepingCapacity: true)
            for var range in level {
                firstChild.append(Int32(label.count))
                while let first = range.first, starts[first + 1] - starts[first] == depth {
                    flags[firstChild.count - 1] |= Self.terminal
                    range = range.dropFirst()
                }
                while let first = range.first {
                    let byte = bytes[starts[first] + depth]
                    var end = first + 1
                    while end < range.upperBound && bytes[starts[end] + depth] == byte { end += 1 }
                    label.append(byte)
                    flags.append(0)
                    next.append(first..<end)
                    range = end..<range.upperBound
                }
            }
            swap(&level, &next)
            depth += 1
        }
        firstChild.append(Int32(label.count))
        levelStart.removeLast()
        bytes = []
        starts = []

        // Full rows for the root and the states one byte deep (whose failure link is the root).
        let denseStates = min(label.count, Int(levelStart.count > 2 ? levelStart[2] : Int32(label.count)))
        var dense = [Int32](repeating: 0, count: denseStates * 256)
        for state in 0..<denseStates {
            for child in Int(firstChild[state])..<Int(firstChild[state + 1]) {
                dense[state * 256 + Int(label[child])] = Int32(child)
            }
            if state > 0 {
                for byte in 0..<256 where dense[state * 256 + byte] == 0 { dense[state * 256 + byte] = dense[byte] }
            }
        }

        // Failure links, breadth-first: a state's parent and every shallower state are done.
        var failure = [Int32](repeating: 0, count: label.count)
        for parent in 1..<max(label.count, 1) {
            for state in Int(firstChild[parent])..<Int(firstChild[parent + 1]) {
                let byte = label[state]
                var candidate = Int(failure[parent])
                while true {
                    if candidate < denseStates {
                        failure[state] = dense[candidate * 256 + Int(byte)]
                        break
                    }
                    if let next = Self.child(of: candidate, byte, label: label, firstChild: firstChild) {
                        failure[state] = Int32(next)
                        break
                    }
                    candidate = Int(failure[candidate])
                }
            }
        }
        // Breadth-first again: a failure link always points to a shallower state.
        for state in 1..<label.count where flags[state] & Self.terminal != 0 || flags[Int(failure[state])] & Self.output != 0 {
            flags[state] |= Self.output
        }
        self.label = label
        self.firstChild = firstChild
        self.failure = failure
        self.flags = flags
        self.levelStart = levelStart
        self.dense = dense
        self.denseStates = denseStates
    }

    /// The child of `state` reached by `byte`, if any: children are sorted by their byte.
    @inline(__always)
    private static func child<Labels: RandomAccessCollection<UInt8>, Children: RandomAccessCollection<Int32>>(
        of state: Int, _ byte: UInt8, label: Labels, firstChild: Children
    ) -> Int? where Labels.Index == Int, Children.Index == Int {
        var low = Int(firstChild[state]), high = Int(firstChild[state + 1])
        while high - low > 8 {
            let middle = (low + high) / 2
            // Keeps `middle` in range when it is not below `byte`: it may be the match.
            if label[middle] < byte { low = middle + 1 } else { high = middle + 1 }
        }
        while low < high && label[low] < byte { low += 1 }
        return low < high && label[low] == byte ? low : nil
    }

    /// The number of states, for tests and benchmarks.
    var stateCount: Int { label.count }

    /// How many bytes deep `state` is.
    private func depth(_ state: Int) -> Int {
        var low = 0, high = levelStart.count
        while high - low > 1 {
            let middle = (low + high) / 2
            if Int(levelStart[middle]) <= state { low = middle } else { high = middle }
        }
        return low
    }

    /// The length of the longest suffix read that is a proper prefix of some pattern, in `state`:
    /// no later occurrence can start before it.
    func holdBack(_ state: Int32) -> Int {
        var state = Int(state)
        while state != 0 && firstChild[state + 1] == firstChild[state] { state = Int(failure[state]) }
        return depth(state)
    }

    /// The length of the longest pattern ending in `state`, which has the output flag.
    private func matchLength(_ state: Int) -> Int {
        var state = state
        while flags[state] & Self.terminal == 0 { state = Int(failure[state]) }
        return depth(state)
    }

    /// Runs `bytes` from `state`, adding each occurrence found to `covered` as a range of
    /// `offset`-shifted indices, merged with ranges it overlaps or touches. Returns the end state.
    func scan(_ bytes: [UInt8], from state: Int32, offset: Int, into covered: inout [Range<Int>]) -> Int32 {
        var state = Int(state)
        label.withUnsafeBufferPointer { label in
        firstChild.withUnsafeBufferPointer { firstChild in
        failure.withUnsafeBufferPointer { failure in
        flags.withUnsafeBufferPointer { flags in
        dense.withUnsafeBufferPointer { dense in
            for (index, byte) in bytes.enumerated() {
                while true {
                    if state < denseStates {
                        state = Int(dense[state &* 256 &+ Int(byte)])
                        break
                    }
                    if let next = Self.child(of: state, byte, label: label, firstChild: firstChild) {
                        state = next
                        break
                    }
                    state = Int(failure[state])
                }
                guard flags[state] & Self.output != 0 else { continue }
                let end = offset + index + 1
                var start = end - matchLength(state)
                while let last = covered.last, last.upperBound >= start {
                    start = min(start, last.lowerBound)
                    covered.removeLast()
                }
                covered.append(start..<end)
            }
        }
        }
        }
        }
        }
        return Int32(state)
    }
}
