/// An Aho–Corasick automaton over bytes, compiled to a dense DFA.
///
/// Bytes are first mapped to classes (one per byte value that occurs in a pattern, plus one for
/// all others), so the transition table has `states × classes` entries rather than `states × 256`.
/// Scanning costs one table lookup per byte.
final class PatternMatcher: Sendable {
    /// Class of each byte value; 0 for bytes that occur in no pattern.
    private let classes: [Int32]
    private let width: Int
    /// `next[state * width + class]`: the state after reading a byte of that class.
    private let next: [Int32]
    /// Length of the longest pattern ending at each state, 0 if none.
    private let matchLength: [Int32]
    /// Per state, the length of the longest suffix read that is a proper prefix of some pattern:
    /// no later occurrence can start before it.
    let holdBack: [Int32]

    /// `patterns` must be non-empty; duplicates are fine.
    init(patterns: [[UInt8]]) {
        var classes = [Int32](repeating: 0, count: 256)
        var classCount: Int32 = 1
        for pattern in patterns {
            for byte in pattern where classes[Int(byte)] == 0 {
                classes[Int(byte)] = classCount
                classCount += 1
            }
        }
        let width = Int(classCount)

        // The trie; -1 marks a missing edge.
        var next = [Int32](repeating: -1, count: width)
        var depth: [Int32] = [0]
        var matchLength: [Int32] = [0]
        var hasChild = [false]
        for pattern in patterns {
            var state = 0
            for byte in pattern {
                let slot = state * width + Int(classes[Int(byte)])
                if next[slot] < 0 {
                    next[slot] = Int32(depth.count)
                    next += repeatElement(-1, count: width)
                    depth.append(depth[state] + 1)
                    matchLength.append(0)
                    hasChild.append(false)
                    hasChild[state] = true
                }
                state = Int(next[slot])
            }
            matchLength[state] = Int32(pattern.count)
        }

        // Breadth-first: fill missing edges from the failure state, whose row is already complete.
        var failure = [Int32](repeating: 0, count: depth.count)
        var holdBack = [Int32](repeating: 0, count: depth.count)
        var queue = [0]
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            for byteClass in 0..<width {
                let slot = state * width + byteClass
                let fallback = state == 0 ? 0 : next[Int(failure[state]) * width + byteClass]
                guard next[slot] >= 0 else {
                    next[slot] = fallback
                    continue
                }
                let child = Int(next[slot])
                failure[child] = fallback
                matchLength[child] = max(matchLength[child], matchLength[Int(fallback)])
                holdBack[child] = hasChild[child] ? depth[child] : holdBack[Int(fallback)]
                queue.append(child)
            }
        }
        self.classes = classes
        self.width = width
        self.next = next
        self.matchLength = matchLength
        self.holdBack = holdBack
    }

    /// Runs `bytes` from `state`, adding each occurrence found to `covered` as a range of
    /// `offset`-shifted indices, merged with ranges it overlaps or touches. Returns the end state.
    func scan(_ bytes: [UInt8], from state: Int32, offset: Int, into covered: inout [Range<Int>]) -> Int32 {
        var state = Int(state)
        for (index, byte) in bytes.enumerated() {
            state = Int(next[state * width + Int(classes[Int(byte)])])
            let length = Int(matchLength[state])
            guard length > 0 else { continue }
            let end = offset + index + 1
            var start = end - length
            while let last = covered.last, last.upperBound >= start {
                start = min(start, last.lowerBound)
                covered.removeLast()
            }
            covered.append(start..<end)
        }
        return Int32(state)
    }
}
