/// Why a file could not be decoded. `part` names where: header, key chain, slot ID, entry SCOPE/NAME...
public enum CodecError: Error, Equatable, Sendable {
    case notAVault
    case unsupportedVersion(major: Int, minor: Int)
    case malformed(part: String, reason: String)
}

/// Appends the format's primitive encodings (Specs/vault-format.md §1).
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func uvarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func raw<C: Collection<UInt8>>(_ data: C) { bytes.append(contentsOf: data) }

    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func lengthPrefixed<C: Collection<UInt8>>(_ data: C) {
        uvarint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    /// A string's bytes, copied from its contiguous storage: the generic `append(contentsOf:)`
    /// walks a `String.UTF8View` byte by byte (names, scopes; re-keying builds two messages per entry).
    mutating func lengthPrefixed(_ text: String.UTF8View) {
        uvarint(UInt64(text.count))
        if text.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil { bytes.append(contentsOf: text) }
    }
}

/// Reads the format's primitives with a bounds check on every read; never traps on any input.
/// It reads the bytes in place, so it lives only inside the owner's `withUnsafeBufferPointer`.
struct ByteReader {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var offset: Int
    let end: Int
    /// The part being read; named in an error message only when one is thrown.
    var part = Part.header

    /// Where in the file the reader is. Holds no text, so that decoding allocates none.
    enum Part {
        case header, keyChain, slots, entries
        case slot(id: UInt32)
        /// An entry whose name and scope have been read, as byte ranges of the file.
        case entry(name: Range<Int>, project: Range<Int>, domain: Range<Int>)
        case entryStart
    }

    init(_ bytes: UnsafeBufferPointer<UInt8>, end: Int) {
        precondition(end >= 0 && end <= bytes.count)
        self.bytes = bytes
        self.offset = 0
        self.end = end
    }

    var remaining: Int { end - offset }

    func fail(_ reason: String) -> CodecError { .malformed(part: partText, reason: reason) }

    private var partText: String {
        switch part {
        case .header: "header"
        case .keyChain: "key chain"
        case .slots: "slots"
        case .entries: "entries"
        case .entryStart: "entry"
        case .slot(let id): "slot \(Slot.idText(id))"
        case let .entry(name, project, domain):
            "entry \(Scope(project: string(project), domain: string(domain)))/\(string(name))"
        }
    }

    /// The bytes of `range` as text; only for ranges already validated as names.
    func string(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }

    @inline(__always)
    mutating func take(_ count: Int) throws(CodecError) -> Range<Int> {
        guard count >= 0, count <= remaining else { throw fail("truncated") }
        defer { offset += count }
        return offset..<(offset + count)
    }

    mutating func array(_ count: Int) throws(CodecError) -> [UInt8] {
        Array(bytes[try take(count)])
    }

    mutating func u8() throws(CodecError) -> UInt8 { bytes[try take(1).lowerBound] }

    mutating func u32() throws(CodecError) -> UInt32 {
        let range = try take(4)
        return range.reversed().reduce(0) { $0 << 8 | UInt32(bytes[$1]) }
    }

    mutating func u64() throws(CodecError) -> UInt64 {
        let range = try take(8)
        return range.reversed().reduce(0) { $0 << 8 | UInt64(bytes[$1]) }
    }

    /// A minimal LEB128 value of at most 64 bits. Most are one byte (lengths, counts, flags).
    @inline(__always)
    mutating func uvarint() throws(CodecError) -> UInt64 {
        if offset < end, bytes[offset] < 0x80 {
            offset += 1
            return UInt64(bytes[offset - 1])
        }
        return try longUvarint()
    }

    private mutating func longUvarint() throws(CodecError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw fail("truncated") }
            let byte = bytes[offset]
            offset += 1
            let group = UInt64(byte & 0x7F)
            if shift == 63 && group > 1 { throw fail("integer overflows 64 bits") }
            value |= group << shift
            if byte & 0x80 == 0 {
                if byte == 0 && shift > 0 { throw fail("integer is not minimally encoded") }
                return value
            }
            shift += 7
            if shift > 63 { throw fail("integer overflows 64 bits") }
        }
    }

    /// A count or length, refused when above `limit`.
    mutating func bounded(_ limit: Int, _ what: String) throws(CodecError) -> Int {
        let value = try uvarint()
        guard value <= UInt64(limit) else { throw fail("\(what) \(value) exceeds the limit of \(limit)") }
        return Int(value)
    }

    @inline(__always)
    mutating func lengthPrefixed(max limit: Int, _ what: String) throws(CodecError) -> Range<Int> {
        let length = try uvarint()
        guard length <= UInt64(limit) else { throw fail("\(what) length \(length) exceeds the limit of \(limit)") }
        return try take(Int(length))
    }

    /// The range of a name from the format's charset.
    mutating func nameRange(max limit: Int, allowEmpty: Bool, _ what: String) throws(CodecError) -> Range<Int> {
        let range = try lengthPrefixed(max: limit, what)
        guard (range.isEmpty && allowEmpty) || Names.isValidName(view(range), maxBytes: limit) else {
            throw fail("invalid \(what)")
        }
        return range
    }

    /// The bytes of `range`, a range `take` returned.
    func view(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[range]) }

    /// Moves to `offset`, a position this reader or another over the same bytes reached before.
    mutating func seek(to offset: Int) {
        precondition(offset >= 0 && offset <= end)
        self.offset = offset
    }

    /// Canonical order of an entry's (project, domain, name) and another's, given as UTF-8.
    func compare(_ a: EntryFields, _ b: (project: [UInt8], domain: [UInt8], name: [UInt8])) -> Int {
        var order = Bytewise.compare(bytes[a.project], b.project[...])
        if order == 0 { order = Bytewise.compare(bytes[a.domain], b.domain[...]) }
        if order == 0 { order = Bytewise.compare(bytes[a.name], b.name[...]) }
        return order
    }

    /// Canonical order of two entries' (project, domain, name).
    func compare(_ a: EntryFields, _ b: EntryFields) -> Int {
        var order = Bytewise.compare(bytes[a.project], bytes[b.project])
        if order == 0 { order = Bytewise.compare(bytes[a.domain], bytes[b.domain]) }
        if order == 0 { order = Bytewise.compare(bytes[a.name], bytes[b.name]) }
        return order
    }

    /// A name from the format's charset (validated before a String is made).
    mutating func name(max limit: Int, allowEmpty: Bool, _ what: String) throws(CodecError) -> String {
        string(try nameRange(max: limit, allowEmpty: allowEmpty, what))
    }

    /// Free text: valid UTF-8 without control characters.
    mutating func text(max limit: Int, _ what: String) throws(CodecError) -> String {
        string(try textRange(max: limit, what))
    }

    /// The range of free text, checked (without making a String).
    mutating func textRange(max limit: Int, _ what: String) throws(CodecError) -> Range<Int> {
        let range = try lengthPrefixed(max: limit, what)
        guard Names.isValidText(view(range)) else { throw fail("invalid \(what)") }
        return range
    }

    /// An extension list: optional (even) tags skipped, critical (odd) tags refused.
    mutating func skipExtensions() throws(CodecError) {
        _ = try extensions(keeping: nil)
    }

    /// An extension list as `skipExtensions` reads it, returning the body of tag `known` if present.
    mutating func extensions(keeping known: UInt64?) throws(CodecError) -> Range<Int>? {
        let count = try bounded(Limits.extensions, "extension count")
        var previous: UInt64?
        var kept: Range<Int>?
        for _ in 0..<count {
            let tag = try uvarint()
            if let previous, tag <= previous { throw fail("extension tags out of order") }
            previous = tag
            if tag & 1 == 1 { throw fail("unknown critical field \(tag)") }
            let body = try lengthPrefixed(max: Limits.extensionBytes, "extension")
            if tag == known { kept = body }
        }
        return kept
    }
}
