/// Streaming redaction of secret values in an output stream (use one masker per stream).
///
/// Each value is looked for raw and in the encodings programs print it in (`forms(of:)`):
/// base64 and base64url, whole and at each of the three alignments it can have inside a longer
/// encoded text (without the characters that depend on its neighbours); hex in either case;
/// percent-encoding as RFC 3986 (either case), Python's `quote` (keeps `/`) and form encoding
/// (`+` for space; Python's and HTML's); its JSON string escapes; and each line of 8 bytes or
/// more of a multi-line value, except PEM armor lines. A line break that ends a line of exactly
/// 60 hex digits (as `xxd -p` wraps its output) is looked through: an occurrence running across
/// it is hidden too, the line break itself kept.
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
    private var cursor = PatternMatcher.Cursor()
    /// Scanned but not yet emitted bytes: a suffix that may still start an occurrence.
    private var held: [UInt8] = []
    /// Merged occurrence ranges not yet fully emitted, relative to `held`'s first byte.
    private var covered: [Range<Int>] = []
    /// Whether the last byte emitted (or dropped) was hidden, so a run touching it continues it.
    private var inMask = false

    /// Values shorter than `minimumLength` bytes are not masked: a short value such as `1` or
    /// `yes` would otherwise blank out unrelated text all over the output.
    public init(values: [[UInt8]], minimumLength: Int = defaultMinimumLength) {
        // Duplicates are left to the automaton, which merges them for free.
        var patterns: [[UInt8]] = []
        for value in values where value.count >= max(minimumLength, 1) {
            patterns += Self.forms(of: value).filter { !$0.isEmpty }
        }
        matcher = patterns.isEmpty ? nil : PatternMatcher(patterns: patterns)
    }

    /// Every form of `value` that is masked (some may coincide or be empty).
    static func forms(of value: [UInt8]) -> [[UInt8]] {
        var forms = [value]
        for urlSafe in [false, true] {
            let padded = Array((urlSafe ? ByteEncoding.base64URL(value) : ByteEncoding.base64(value)).utf8)
            forms += [padded, Array(padded.prefix { $0 != UInt8(ascii: "=") })]
            forms += (0...2).map { ByteEncoding.base64Inner(value, offset: $0, urlSafe: urlSafe) }
        }
        for uppercase in [false, true] {
            forms.append(ByteEncoding.hex(value, uppercase: uppercase))
            forms.append(ByteEncoding.percentEncoded(value, uppercase: uppercase))
        }
        forms += [ByteEncoding.PercentStyle.pythonQuote, .formPython, .formHTML].map {
            ByteEncoding.percentEncoded(value, uppercase: true, style: $0)
        }
        forms += [
            ByteEncoding.jsonEscaped(value), ByteEncoding.jsonEscaped(value, escapingSlash: true),
            ByteEncoding.jsonEscaped(value, asciiOnly: true), ByteEncoding.jsonEscaped(value, escapingSlash: true, asciiOnly: true),
        ].compactMap { $0 }
        forms += lines(of: value)
        return forms
    }

    /// The lines of a multi-line value (without `\r`) that are at least 8 bytes long, except
    /// PEM armor lines (`-----BEGIN ...-----`), which every PEM file of that type shares.
    static func lines(of value: [UInt8]) -> [[UInt8]] {
        guard value.contains(0x0A) else { return [] }
        return value.split(separator: 0x0A).map { line in Array(line.last == 0x0D ? line.dropLast() : line) }.filter { line in
            line.count >= 8 && !line.starts(with: Array("-----BEGIN ".utf8)) && !line.starts(with: Array("-----END ".utf8))
        }
    }

    /// Masks `chunk` (the next bytes of the stream) and returns what is safe to emit now.
    public mutating func process(_ chunk: [UInt8]) -> [UInt8] {
        guard let matcher else { return chunk }
        matcher.scan(chunk, cursor: &cursor, offset: held.count, into: &covered)
        let total = held.count + chunk.count
        return emit(chunk, upTo: total - matcher.holdBack(cursor, total: total))
    }

    /// Ends the stream: returns the held-back bytes, masked, and resets the masker for a new stream.
    public mutating func finish() -> [UInt8] {
        let out = emit([], upTo: held.count)
        cursor = PatternMatcher.Cursor()
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
        cursor.drop(end)
        return out
    }
}
