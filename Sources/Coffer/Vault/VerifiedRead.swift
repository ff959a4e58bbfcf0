import CofferCodec

/// What a `Vault` reads its entries through: the index of the whole file, or the few blocks a
/// read through a verified file state loaded. An enum, not a protocol: a `VaultIndex` in an
/// existential box would cost an allocation on every open.
enum EntryIndex {
    case whole(VaultIndex)
    case recorded(RecordedIndex)

    var header: VaultFile {
        switch self {
        case let .whole(index): index.header
        case let .recorded(index): index.header
        }
    }

    var entryCount: Int {
        switch self {
        case let .whole(index): index.entryCount
        case let .recorded(index): index.entryCount
        }
    }

    func decoded() -> VaultFile {
        switch self {
        case let .whole(index): index.decoded()
        case .recorded: preconditionFailure("a vault read through a verified state holds only the entries it was opened for")
        }
    }

    func entry(at position: Int) -> Entry {
        switch self {
        case let .whole(index): index.entry(at: position)
        case let .recorded(index): index.entry(at: position)
        }
    }

    func position(of name: String, in scope: Scope) -> (found: Bool, position: Int) {
        switch self {
        case let .whole(index): index.position(of: name, in: scope)
        case let .recorded(index): index.position(of: name, in: scope)
        }
    }
}

/// A vault opened for reading a few entries, with a session's verified file states at hand
/// (Specs/fast-read.md).
public struct VerifiedRead {
    public let vault: Vault
    /// Whether the file matched its record and only the parts needed were read.
    public let throughRecord: Bool
    private let pending: VerifiedState?
    private let states: VerifiedStates?

    /// Records the file state verified in full, once the trust rules have accepted the vault.
    /// A record that cannot be written only means that the next read verifies in full again.
    public func rememberState() {
        if let pending, let states { try? states.remember(pending) }
    }

    /// Opens `path` to look up `lookups` (names with the scopes tried, in order). When `states`
    /// holds a record whose file state is the one `path` names now, reads only the header, the
    /// slots and the blocks of entries the lookups need; otherwise reads and verifies the whole
    /// file, as `Vault.open(at:)`, and prepares a record of it (`rememberState`).
    public init(at path: String, lookups: [(name: String, scope: Scope)], states: VerifiedStates?) throws {
        if let states, let realPath = FileSystem.realPath(path), let record = states.record(for: realPath),
           let index = try? RecordedIndex(path: path, record: record, lookups: lookups) {
            self.init(vault: Vault(path: path, index: .recorded(index)), throughRecord: true, pending: nil, states: nil)
            return
        }
        let made = FileTime.now()
        let file = try OpenFile(path)
        // Without the lease a writer might hold a mapping whose later writes set no time.
        let unwritable = states != nil && file.leaseAgainstWriters()
        let bytes = try file.readAll(limit: Limits.fileBytes)
        let index = try Vault.checkAndVerify(bytes, path: path)
        var pending: VerifiedState?
        if unwritable, file.isRegular, file.size == bytes.count, file.isOnLocalFileSystem, let realPath = FileSystem.realPath(path) {
            let state = VerifiedState(
                made: made, file: file.state, vaultID: index.header.vaultID, generation: index.header.generation,
                signature: index.header.signature, entriesStart: UInt64(index.entriesStart), entryCount: UInt64(index.entryCount),
                checkpoints: index.entryOffsets(every: VerifiedState.stride).map(UInt64.init), path: realPath)
            if !state.isRacy { pending = state }
        }
        self.init(vault: Vault(path: path, index: .whole(index)), throughRecord: false, pending: pending, states: states)
    }

    private init(vault: Vault, throughRecord: Bool, pending: VerifiedState?, states: VerifiedStates?) {
        self.vault = vault
        self.throughRecord = throughRecord
        self.pending = pending
        self.states = states
    }
}

/// The entries of a file whose state matches a verified record: the header and slots, and the
/// blocks of at most `VerifiedState.stride` entries that hold the names looked up, each read
/// with `pread` from the one descriptor whose `fstat` matched, every field checked.
final class RecordedIndex {
    let header: VaultFile
    let entryCount: Int
    /// Entries by block number.
    private var blocks: [Int: [Entry]] = [:]
    /// The block each looked-up key falls in.
    private var blockOfKey: [String: Int] = [:]

    /// Nil when the file is not the recorded state (it must then be verified in full); throws
    /// when what is read does not decode, with the same consequence.
    init?(path: String, record: VerifiedState, lookups: [(name: String, scope: Scope)]) throws {
        guard !record.isRacy else { return nil }
        let file = try OpenFile(path)
        guard file.leaseAgainstWriters(), file.isRegular, file.state == record.file, file.isOnLocalFileSystem else { return nil }
        let entriesEnd = file.size - VaultFile.signatureByteCount
        let checkpoints = record.checkpoints.map { Int(truncatingIfNeeded: $0) }
        let start = Int(truncatingIfNeeded: record.entriesStart)
        // Offsets from an authenticated record, checked anyway before any read is sized by them.
        guard entriesEnd > 0, (0...entriesEnd).contains(start), (checkpoints.first ?? start) == start,
              zip(checkpoints, checkpoints.dropFirst() + [entriesEnd]).allSatisfy({ $0 < $1 }) else { return nil }
        let signature = try file.read(at: entriesEnd, count: VaultFile.signatureByteCount)
        guard signature == record.signature else { return nil }
        let (header, entryCount) = try VaultDecoder.head(try file.read(at: 0, count: start), signature: signature)
        guard header.vaultID == record.vaultID, header.generation == record.generation, UInt64(entryCount) == record.entryCount,
              checkpoints.count == (entryCount + VerifiedState.stride - 1) / VerifiedState.stride else { return nil }
        try Vault.verifyKeyChain(header)
        self.header = header
        self.entryCount = entryCount

        func key(at checkpoint: Int) throws -> VaultDecoder.EntryKey {
            let offset = checkpoints[checkpoint]
            return try VaultDecoder.entryKey(startingIn: try file.read(at: offset, count: min(VaultDecoder.entryKeyByteCount, entriesEnd - offset)))
        }
        for (name, scope) in lookups where entryCount > 0 {
            let probe = (project: Array(scope.project.utf8), domain: Array(scope.domain.utf8), name: Array(name.utf8))
            // The last block whose first key is not after the probe (the first block when all are).
            var low = 0, high = checkpoints.count
            while low < high {
                let mid = (low + high) / 2
                if VaultDecoder.compare(try key(at: mid), probe) <= 0 { low = mid + 1 } else { high = mid }
            }
            let block = max(low - 1, 0)
            blockOfKey[Self.key(name, scope)] = block
            guard blocks[block] == nil else { continue }
            let end = block + 1 < checkpoints.count ? checkpoints[block + 1] : entriesEnd
            let entries = try VaultDecoder.entries(try file.read(at: checkpoints[block], count: end - checkpoints[block]))
            guard entries.count == min(VerifiedState.stride, entryCount - block * VerifiedState.stride) else { return nil }
            blocks[block] = entries
        }
    }

    private static func key(_ name: String, _ scope: Scope) -> String { scope.project + "\0" + scope.domain + "\0" + name }

    func position(of name: String, in scope: Scope) -> (found: Bool, position: Int) {
        guard entryCount > 0 else { return (false, 0) }
        guard let block = blockOfKey[Self.key(name, scope)], let entries = blocks[block] else {
            preconditionFailure("a vault read through a verified state finds only the names it was opened for")
        }
        let probe = Entry(name: name, scope: scope, created: 0, updated: 0, flags: 0, description: "", sealedValue: [])
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if Entry.precedes(entries[mid], probe) { low = mid + 1 } else { high = mid }
        }
        let found = low < entries.count && entries[low].name == name && entries[low].scope == scope
        return (found, block * VerifiedState.stride + low)
    }

    func entry(at position: Int) -> Entry {
        blocks[position / VerifiedState.stride]![position % VerifiedState.stride]
    }

}
