/// Parts of a vault file decoded on their own, for a reader that verified the whole file before
/// and reads only what one lookup needs (Specs/fast-read.md). Every field read is checked as in
/// a full read; what a part alone cannot show (the signature, the order across parts) is what
/// the earlier verification vouches for.
extension VaultDecoder {
    /// An entry's place in canonical order: its project, domain and name as bytes.
    public typealias EntryKey = (project: [UInt8], domain: [UInt8], name: [UInt8])

    /// The most bytes an entry's key takes at its start: three length-prefixed names.
    public static let entryKeyByteCount = 2 + Limits.nameBytes + 2 * (1 + Limits.scopeNameBytes)

    /// The file's first bytes up to the first entry (the entry count included): header, key
    /// chain, extensions and slots, with `signature` as the file's. Returns the entry count.
    public static func head(_ prefix: [UInt8], signature: [UInt8]) throws(CodecError) -> (header: VaultFile, entryCount: Int) {
        let minor = try version(prefix)
        return try prefix.withUnsafeBufferPointer { buffer throws(CodecError) in
            var reader = ByteReader(buffer, end: buffer.count)
            _ = try reader.take(versionByteCount)
            var header = try readHead(&reader, minor: minor)
            reader.part = .entries
            let entryCount = try reader.bounded(Limits.entries, "entry count")
            guard reader.remaining == 0 else { throw reader.fail("the header does not end where the entries begin") }
            header.signature = signature
            return (header, entryCount)
        }
    }

    /// Canonical order of two keys: negative, zero or positive.
    public static func compare(_ a: EntryKey, _ b: EntryKey) -> Int {
        for (x, y) in [(a.project, b.project), (a.domain, b.domain), (a.name, b.name)] where x != y {
            return x.lexicographicallyPrecedes(y) ? -1 : 1
        }
        return 0
    }

    /// The key of the entry that starts `window` (at least its key's bytes, or up to the entries' end).
    public static func entryKey(startingIn window: [UInt8]) throws(CodecError) -> EntryKey {
        try window.withUnsafeBufferPointer { buffer throws(CodecError) in
            var reader = ByteReader(buffer, end: buffer.count)
            reader.part = .entryStart
            let name = try reader.nameRange(max: Limits.nameBytes, allowEmpty: false, "name")
            let project = try reader.nameRange(max: Limits.scopeNameBytes, allowEmpty: true, "project")
            let domain = try reader.nameRange(max: Limits.scopeNameBytes, allowEmpty: true, "domain")
            return (Array(reader.view(project)), Array(reader.view(domain)), Array(reader.view(name)))
        }
    }

    /// `block`, consecutive whole entries, decoded: each checked, in canonical order, nothing left over.
    public static func entries(_ block: [UInt8]) throws(CodecError) -> [Entry] {
        try block.withUnsafeBufferPointer { buffer throws(CodecError) in
            var reader = ByteReader(buffer, end: buffer.count)
            var entries: [Entry] = []
            var previous: EntryFields?
            while reader.remaining > 0 {
                let fields = try scanEntry(&reader)
                if let previous, reader.compare(previous, fields) >= 0 { throw reader.fail("entries out of order or duplicated") }
                entries.append(makeEntry(fields, reader, file: block))
                previous = fields
            }
            return entries
        }
    }
}

extension VaultIndex {
    /// Where the entries begin: the first entry's offset, or the signature's when there are none.
    public var entriesStart: Int { entryOffsets.first ?? bytes.count - VaultFile.signatureByteCount }

    /// The offsets of entries 0, `stride`, 2 × `stride`, ...
    public func entryOffsets(every stride: Int) -> [Int] {
        Array(Swift.stride(from: 0, to: entryOffsets.count, by: stride).map { entryOffsets[$0] })
    }
}
