/// Streaming redaction of secret values in an output stream (use one masker per stream).
///
/// Each value is looked for raw and in its common encodings: standard base64 and base64url,
/// each with and without padding, lowercase and uppercase hex, and RFC 3986 percent-encoding
/// with uppercase and lowercase `%XX`.
///
/// Replacement rule: every byte covered by an occurrence of any pattern is hidden, and each
/// maximal run of hidden bytes is printed as one `****`. Where occurrences do not touch this is
/// leftmost-longest replacement; overlapping or adjacent occurrences (of one secret or several)
/// merge into a single run, so no byte of any of them leaks.
///
/// Hold-back rule: `process(_:)` emits everything except the longest suffix of the stream that is
/// a proper prefix of some pattern (at most the longest pattern's length minus one bytes), plus
/// nothing of a run still being masked. Output that cannot start a secret is emitted at once.
///
/// Copies share the compiled matcher but each has its own stream state.
public struct SecretMasker: Sendable {
    private static let mask = Array("****".utf8)
    /// The shortest value masked by default.
    public static let defaultMinimumLength = 4

    private let matcher: PatternMatcher?
    private var state: Int32 = 0
    /// Scanned but not yet emitted bytes: a suffix that may still start an occurrence.
    private var held: [UInt8] = []
    /// Merged occurrence ranges not yet fully emitted, relative to `held`'s first byte.
    private var covered: [Range<Int>] = []
    /// Whether the last byte emitted (or dropped) was hidden, so a run touching it continues it.
    private var inMask = false

    /// Values shorter than `minimumLength` bytes are not masked: a short value such as `1` or
    /// `yes` would otherwise blank out unrelated text all over the output.
    public init(values: [[UInt8]], minimumLength: Int = defaultMinimumLength) {
        var patterns: [[UInt8]] = []
        for value in values where value.count >= max(minimumLength, 1) {
            let base64 = ByteEncoding.base64(value)
            let base64URL = ByteEncoding.base64URL(value)
            patterns += [
                value,
                Array(base64.utf8), Array(base64.utf8.prefix { $0 != UInt8(ascii: "=") }),
                Array(base64URL.utf8), Array(base64URL.utf8.prefix { $0 != UInt8(ascii: "=") }),
                ByteEncoding.hex(value, uppercase: false), ByteEncoding.hex(value, uppercase: true),
                ByteEncoding.percentEncoded(value, uppercase: true),
                ByteEncoding.percentEncoded(value, uppercase: false),
            ]
        }
        matcher = patterns.isEmpty ? nil : PatternMatcher(patterns: patterns)
    }

    /// Masks `chunk` (the next bytes of the stream) and returns what is safe to emit now.
    public mutating func process(_ chunk: [UInt8]) -> [UInt8] {
        guard let matcher else { return chunk }
        state = matcher.scan(chunk, from: state, offset: held.count, into: &covered)
        return emit(chunk, upTo: held.count + chunk.count - Int(matcher.holdBack[Int(state)]))
    }

    /// Ends the stream: returns the held-back bytes, masked, and resets the masker for a new stream.
    public mutating func finish() -> [UInt8] {
        let out = emit([], upTo: held.count)
        state = 0
        inMask = false
        return out
    }

    /// Emits bytes `0..<end` of `held + chunk`, masking covered runs, and holds the rest.
    private mutating func emit(_ chunk: [UInt8], upTo end: Int) -> [UInt8] {
        let previous = held
        func copy(_ range: Range<Int>, into out: inout [UInt8]) {
            let split = previous.count
            if range.lowerBound < split {
                out += previous[range.lowerBound..<min(range.upperBound, split)]
            }
            if range.upperBound > split {
                out += chunk[max(range.lowerBound, split) - split..<range.upperBound - split]
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(end)
        var position = 0
        var kept: [Range<Int>] = []
        for range in covered {
            guard range.lowerBound < end else {
                kept.append(range.lowerBound - end..<range.upperBound - end)
                continue
            }
            if range.lowerBound > position || !inMask {
                copy(position..<range.lowerBound, into: &out)
                out += Self.mask
            }
            inMask = true
            position = min(range.upperBound, end)
            if range.upperBound > end {
                kept.append(0..<range.upperBound - end)
            }
        }
        if position < end {
            copy(position..<end, into: &out)
            inMask = false
        }
        var rest: [UInt8] = []
        copy(end..<previous.count + chunk.count, into: &rest)
        held = rest
        covered = kept
        return out
    }
}
