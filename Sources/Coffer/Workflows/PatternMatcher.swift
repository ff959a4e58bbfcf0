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
/// keep one entry per byte value (256 × 4 bytes). The states up to two bytes deep, which ordinary
/// output visits most, also get dense rows (up to 8 MiB of them) so that scanning stays fast.
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
    /// At most 8 MiB of full rows.
    private static let maxDenseStates = 8192

    /// `patterns` must be non-empty and hold no empty pattern; duplicates are fine.
    init(patterns: [[UInt8]]) {
        // Sorted and laid end to end: a node's patterns are a contiguous range, those ending at the node first.
        let order = Self.sortedOrder(patterns)
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

        // Full rows for the states up to two bytes deep (most of what ordinary output visits), at
        // most `maxDenseStates` of them; each is filled once its failure link is known.
        let denseStates = min(label.count, Int(levelStart.count > 3 ? levelStart[3] : Int32(label.count)), Self.maxDenseStates)
        var dense = [Int32](repeating: 0, count: denseStates * 256)
        var failure = [Int32](repeating: 0, count: label.count)
        func fillRow(_ state: Int) {
            for child in Int(firstChild[state])..<Int(firstChild[state + 1]) {
                dense[state * 256 + Int(label[child])] = Int32(child)
            }
            guard state > 0 else { return }
            let fallback = Int(failure[state]) * 256
            for byte in 0..<256 where dense[state * 256 + byte] == 0 { dense[state * 256 + byte] = dense[fallback + byte] }
        }
        if denseStates > 0 { fillRow(0) }

        // Failure links, breadth-first: a state's parent and every shallower state are done, and
        // so are the rows of the shallower states (a failure link points to a shallower state).
        for parent in 1..<max(label.count, 1) {
            if parent < denseStates { fillRow(parent) }
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

    /// The indices of `patterns` in lexicographic order of the patterns (a prefix first). Sorted by
    /// their first 8 bytes as one big-endian number (zero-padded, which keeps the order), then by
    /// memcmp where those are equal: comparing indices by memcmp alone took a fifth of the set-up
    /// for 10,000 secrets.
    private static func sortedOrder(_ patterns: [[UInt8]]) -> [Int] {
        var keys = patterns.indices.map { index in
            var prefix: UInt64 = 0
            for (position, byte) in patterns[index].prefix(8).enumerated() { prefix |= UInt64(byte) << (56 - 8 * position) }
            return (prefix: prefix, index: index)
        }
        keys.sort { first, second in
            guard first.prefix == second.prefix else { return first.prefix < second.prefix }
            return patterns[first.index].withUnsafeBytes { a in
                patterns[second.index].withUnsafeBytes { b in
                    let order = memcmp(a.baseAddress!, b.baseAddress!, min(a.count, b.count))
                    return order != 0 ? order < 0 : a.count < b.count
                }
            }
        }
        return keys.map(\.index)
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
    private func holdBack(_ state: Int32) -> Int {
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

    /// Where a scan of one stream stands.
    struct Cursor: Sendable {
        /// The automaton's state on the stream as it is.
        var state: Int32 = 0
        /// The hex digits since the last line break; far below zero once the line holds anything else.
        var lineHexDigits = 0
        /// The automaton's state on the stream with xxd's line breaks taken out, while an occurrence
        /// may still run across one of them (nil otherwise: it would find nothing the first does not).
        var joined: Int32?
        /// The stream positions of the line breaks taken out, while `joined` is set.
        var removed: [Int] = []

        /// The stream's first `count` bytes are gone: positions move down by `count`. Line breaks
        /// among them are behind anything the joined run can still find (see `holdBack`).
        mutating func drop(_ count: Int) {
            guard !removed.isEmpty else { return }
            removed = removed.compactMap { $0 >= count ? $0 - count : nil }
            if removed.isEmpty { joined = nil }
        }
    }

    /// `xxd -p` writes 30 bytes as 60 hex digits a line.
    static let xxdLineLength = 60
    /// `Cursor.lineHexDigits` of a line holding something else than hex digits: far enough below
    /// zero that no line reaches `xxdLineLength` from it.
    private static let notHexLine = Int.min / 2

    /// Runs `bytes` through the automaton twice over: as they are, and with each line break
    /// (`\n`, `\r`) that ends a line of exactly `xxdLineLength` hex digits taken out, so that hex
    /// wrapped by `xxd -p` matches too. Each occurrence is added to `covered` as `offset`-shifted
    /// ranges, merged with ranges it overlaps or touches; a line break taken out stays uncovered.
    ///
    /// The second run starts only at such a line break, from the first run's state, and stops as
    /// soon as its state no longer reaches back across one: from then on, what it would find the
    /// first run finds too. Ordinary output costs it a counter.
    func scan(_ bytes: [UInt8], cursor: inout Cursor, offset: Int, into covered: inout [Range<Int>]) {
        var state = Int(cursor.state)
        var lineHexDigits = cursor.lineHexDigits
        label.withUnsafeBufferPointer { label in
        firstChild.withUnsafeBufferPointer { firstChild in
        failure.withUnsafeBufferPointer { failure in
        flags.withUnsafeBufferPointer { flags in
        dense.withUnsafeBufferPointer { dense in
            @inline(__always) func next(_ state: Int, _ byte: UInt8) -> Int {
                var state = state
                while true {
                    if state < denseStates { return Int(dense[state &* 256 &+ Int(byte)]) }
                    if let next = Self.child(of: state, byte, label: label, firstChild: firstChild) { return next }
                    state = Int(failure[state])
                }
            }
            for (index, byte) in bytes.enumerated() {
                var skippedByJoined = false
                if byte &- UInt8(ascii: "0") < 10 || (byte | 0x20) &- UInt8(ascii: "a") < 6 {
                    lineHexDigits &+= 1
                } else if byte == 0x0A || byte == 0x0D {
                    if lineHexDigits == Self.xxdLineLength {
                        if cursor.joined == nil { cursor.joined = Int32(state) }
                        cursor.removed.append(offset + index)
                        skippedByJoined = true
                    }
                    if byte == 0x0A { lineHexDigits = 0 } else if !skippedByJoined { lineHexDigits = Self.notHexLine }
                } else {
                    lineHexDigits = Self.notHexLine
                }
                state = next(state, byte)
                let end = offset + index + 1
                if !skippedByJoined, let joined = cursor.joined {
                    let joinedState = next(Int(joined), byte)
                    if flags[joinedState] & Self.output != 0 {
                        coverJoined(end: end, length: matchLength(joinedState), removed: cursor.removed, into: &covered)
                    }
                    // No occurrence it may still find reaches back to the last line break taken out: stop.
                    if holdBack(Int32(joinedState)) <= end - 1 - cursor.removed.last! {
                        cursor.joined = nil
                        cursor.removed.removeAll(keepingCapacity: true)
                    } else {
                        cursor.joined = Int32(joinedState)
                    }
                }
                guard flags[state] & Self.output != 0 else { continue }
                Self.cover(end - matchLength(state)..<end, into: &covered)
            }
        }
        }
        }
        }
        }
        cursor.state = Int32(state)
        cursor.lineHexDigits = lineHexDigits
    }

    /// How many bytes at the end of the `total` scanned may still start an occurrence, in either
    /// run: no later occurrence can start before them.
    func holdBack(_ cursor: Cursor, total: Int) -> Int {
        var held = holdBack(cursor.state)
        if let joined = cursor.joined {
            held = max(held, total - Self.start(ofJoined: holdBack(joined), end: total, removed: cursor.removed))
        }
        return held
    }

    /// Where in the stream the last `length` bytes of the joined run before `end` start.
    private static func start(ofJoined length: Int, end: Int, removed: [Int]) -> Int {
        var start = end - length
        for position in removed.reversed() {
            guard position >= start else { break }
            start -= 1
        }
        return start
    }

    /// Covers an occurrence found by the joined run, without the line breaks taken out inside it.
    private func coverJoined(end: Int, length: Int, removed: [Int], into covered: inout [Range<Int>]) {
        var start = Self.start(ofJoined: length, end: end, removed: removed)
        for position in removed where position >= start && position < end {
            Self.cover(start..<position, into: &covered)
            start = position + 1
        }
        Self.cover(start..<end, into: &covered)
    }

    /// Adds `range` to the sorted, disjoint and non-touching `covered`, merging what it overlaps or touches.
    @inline(__always)
    private static func cover(_ range: Range<Int>, into covered: inout [Range<Int>]) {
        guard !range.isEmpty else { return }
        var start = range.lowerBound, end = range.upperBound
        var after = covered.count
        while after > 0 && covered[after - 1].lowerBound > end { after -= 1 }
        var first = after
        while first > 0 && covered[first - 1].upperBound >= start {
            first -= 1
            start = min(start, covered[first].lowerBound)
            end = max(end, covered[first].upperBound)
        }
        if first == covered.count {
            covered.append(start..<end)
        } else {
            covered.replaceSubrange(first..<after, with: CollectionOfOne(start..<end))
        }
    }
}
