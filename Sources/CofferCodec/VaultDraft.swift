/// A file read as a `VaultIndex`, and the changes made to it since: the header as it now stands,
/// and entries put (replaced or inserted) or removed. Entries no change touches stay bytes of the
/// file as read, and `signedPart` hands those bytes on as they are: a save in which one entry
/// changed encodes that entry and the header, and neither decodes nor encodes any other entry
/// (byte stability, Specs/vault-format.md §5).
public struct VaultDraft: Sendable {
    /// Everything but the entries, as it now stands (`entries` is empty here).
    public var header: VaultFile
    private let base: VaultIndex
    /// The changed entries, in canonical order.
    private var changes: [Change] = []
    public private(set) var entryCount: Int

    private struct Change: Sendable {
        let scope: Scope
        let name: String
        /// The entry as it now is; nil when it was removed.
        var entry: Entry?
        /// Where the entry stands in `base`, or would be inserted there.
        let basePosition: Int
        let isInBase: Bool
    }

    public init(_ index: VaultIndex) {
        header = index.header
        base = index
        entryCount = index.entryCount
    }

    /// The file as an index, its header as it now stands; nil once an entry has changed.
    public var unchangedIndex: VaultIndex? {
        changes.isEmpty ? base.replacing(header: header, bytes: base.bytes) : nil
    }

    /// The entry `name` in `scope`, as it now stands.
    public func entry(_ name: String, in scope: Scope) -> Entry? {
        let (found, index) = changeIndex(of: name, in: scope)
        if found { return changes[index].entry }
        let (inBase, position) = base.position(of: name, in: scope)
        return inBase ? base.entry(at: position) : nil
    }

    /// Puts `entry` in, in place of the entry of its scope and name if there is one.
    public mutating func put(_ entry: Entry) {
        update(entry.name, in: entry.scope, to: entry)
    }

    /// Removes the entry `name` in `scope`, if there is one.
    public mutating func remove(_ name: String, in scope: Scope) {
        update(name, in: scope, to: nil)
    }

    private mutating func update(_ name: String, in scope: Scope, to entry: Entry?) {
        let (found, index) = changeIndex(of: name, in: scope)
        let existed: Bool
        if found {
            existed = changes[index].entry != nil
            changes[index].entry = entry
        } else {
            let (inBase, position) = base.position(of: name, in: scope)
            existed = inBase
            changes.insert(Change(scope: scope, name: name, entry: entry, basePosition: position, isInBase: inBase), at: index)
        }
        entryCount += (entry == nil ? 0 : 1) - (existed ? 1 : 0)
    }

    /// Binary search of `changes`: whether `name` in `scope` is there, and where it is or would go.
    private func changeIndex(of name: String, in scope: Scope) -> (found: Bool, index: Int) {
        var low = 0, high = changes.count
        while low < high {
            let mid = (low + high) / 2
            let order = Scope.compare(changes[mid].scope, scope)
            if (order != 0 ? order : Bytewise.compare(changes[mid].name, name)) < 0 { low = mid + 1 } else { high = mid }
        }
        return (low < changes.count && changes[low].scope == scope && changes[low].name == name, low)
    }

    /// The runs of `base` between changes, in order, with the change that follows each (nil after the last run).
    private func forEachRun(_ body: (Range<Int>, Change?) -> Void) {
        var next = 0
        for change in changes {
            body(next..<change.basePosition, change)
            next = change.basePosition + (change.isInBase ? 1 : 0)
        }
        body(next..<base.entryCount, nil)
    }

    /// The whole file, every entry decoded.
    public func decoded() -> VaultFile {
        var file = header
        file.entries.reserveCapacity(entryCount)
        forEachRun { run, change in
            for position in run { file.entries.append(base.entry(at: position)) }
            if let entry = change?.entry { file.entries.append(entry) }
        }
        return file
    }

    /// Each entry's name (UTF-8, no String made), in canonical order.
    public func forEachName(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var next = changes.startIndex
        base.forEachName { position, name in
            // Changes before this position (insertions, and the entry here if it changed).
            while next < changes.endIndex, changes[next].basePosition <= position {
                let change = changes[next]
                if var name = change.entry?.name { name.withUTF8(body) }
                next += 1
                if change.basePosition == position && change.isInBase { return }
            }
            body(name)
        }
        for change in changes[next...] {
            if var name = change.entry?.name { name.withUTF8(body) }
        }
    }

    /// Every byte the signature covers, in pieces: the header and the changed entries encoded,
    /// the runs of untouched entries as slices of the file as read.
    public func signedPart() -> [ArraySlice<UInt8>] {
        var writer = ByteWriter()
        VaultEncoder.encodeHeader(header, entryCount: entryCount, into: &writer)
        var pieces: [ArraySlice<UInt8>] = []
        forEachRun { run, change in
            if !run.isEmpty {
                if base.hasEntryExtensions {
                    // Not a writer's encoding: decoded and encoded again, which drops the extensions.
                    for position in run { VaultEncoder.encode(base.entry(at: position), into: &writer) }
                } else {
                    pieces.append(writer.bytes[...])
                    writer.bytes = []
                    pieces.append(base.entryBytes(run))
                }
            }
            if let entry = change?.entry { VaultEncoder.encode(entry, into: &writer) }
        }
        if !writer.bytes.isEmpty { pieces.append(writer.bytes[...]) }
        return pieces
    }
}
