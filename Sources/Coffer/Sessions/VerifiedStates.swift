import CofferCodec
import CofferCrypto
#if canImport(Glibc)
import Glibc
#endif

/// A vault file state verified in full (Specs/fast-read.md): the file's `fstat` fields, what
/// the verification found, and where the entries of every 128th position begin.
struct VerifiedState: Equatable {
    static let stride = 128

    /// The real-time clock before the verifying read began.
    var made: FileTime
    var file: FileState
    var vaultID: [UInt8]
    var generation: UInt64
    var signature: [UInt8]
    var entriesStart: UInt64
    var entryCount: UInt64
    /// The offsets of entries 0, `stride`, 2 × `stride`, ...
    var checkpoints: [UInt64]
    /// The file's real path.
    var path: String

    /// How much older than `made` both file times must be (Specs/fast-read.md, the racy rule).
    static var racyWindow: Int64 {
        #if DEBUG
        // Tests make files and read them within a second; they set the window to 0.
        if let text = getenv("COFFER_TEST_RACY_SECONDS"), let seconds = Int64(String(cString: text)) { return seconds }
        #endif
        return 2
    }

    /// Whether a change in the same timestamp tick as the file's last one could still follow
    /// unseen: then the state is neither recorded nor trusted.
    var isRacy: Bool {
        let limit = FileTime(seconds: made.seconds - Self.racyWindow, nanoseconds: made.nanoseconds)
        return !(file.modified < limit && file.changed < limit)
    }
}

/// Verified file states beside this token's sessions: one record per real path, authenticated
/// with keyed BLAKE2b under a key derived from the session token, so that nobody without the
/// token can make one that is accepted.
public struct VerifiedStates {
    private let store: SessionStore
    private let tokenKey: SecureBytes
    private let macKey: SecureBytes

    static let magic = Array("COFFVER1".utf8)
    private static let suffix = ".verified"
    private static let macByteCount = 32
    private static let fixedByteCount = 8 + 16 + 24 + 32 + 16 + 8 + 64 + 24

    /// Nil when `token` is not a session token.
    public init?(store: SessionStore, token: String) {
        guard let tokenKey = SessionStore.tokenKey(token) else { return nil }
        self.store = store
        self.tokenKey = tokenKey
        macKey = BLAKE2b.keyedHash(Array("coffer-verified\0".utf8), key: tokenKey)
    }

    private func recordPath(for realPath: String) -> String {
        let fileID = BLAKE2b.keyedHash(Array("coffer-verified-file\0".utf8) + Array(realPath.utf8), key: tokenKey, byteCount: 16)
        return store.folder + "/" + fileID.withUnsafeBytes { TextView.hex(Array($0)) } + Self.suffix
    }

    /// The record of `realPath`, if there is one whose MAC verifies and whose fields are sound.
    func record(for realPath: String) -> VerifiedState? {
        guard store.folderIsSafe, let bytes = try? FileSystem.read(recordPath(for: realPath), limit: 1 << 17),
              bytes.count > Self.fixedByteCount + Self.macByteCount else { return nil }
        let body = Array(bytes.dropLast(Self.macByteCount))
        guard ConstantTime.equals(mac(body), Array(bytes.suffix(Self.macByteCount))), body.starts(with: Self.magic),
              let state = Self.decode(body), state.path == realPath else { return nil }
        return state
    }

    /// Writes `state` (atomically, 0600, not fsynced: the session folder is a RAM file system).
    func remember(_ state: VerifiedState) throws {
        try store.prepareFolder()
        let body = Self.encode(state)
        try FileSystem.atomicReplace(recordPath(for: state.path), with: body + mac(body), mode: 0o600, durable: false)
    }

    /// Whether `name` in the session folder is a record (or a record's temporary file).
    static func isRecord(_ name: String) -> Bool { name.hasSuffix(suffix) || name.contains(suffix + ".tmp-") }

    private func mac(_ body: [UInt8]) -> [UInt8] {
        BLAKE2b.keyedHash(body, key: macKey, byteCount: Self.macByteCount).withUnsafeBytes { Array($0) }
    }

    private static func encode(_ state: VerifiedState) -> [UInt8] {
        var bytes = magic
        func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func time(_ time: FileTime) {
            u64(UInt64(bitPattern: time.seconds))
            u64(UInt64(bitPattern: time.nanoseconds))
        }
        time(state.made)
        for value in [state.file.device, state.file.inode, state.file.size] { u64(value) }
        time(state.file.modified)
        time(state.file.changed)
        bytes += state.vaultID
        u64(state.generation)
        bytes += state.signature
        for value in [state.entriesStart, state.entryCount, UInt64(VerifiedState.stride)] + state.checkpoints { u64(value) }
        let path = Array(state.path.utf8)
        u64(UInt64(path.count))
        return bytes + path
    }

    /// The fields of an authenticated record; nil when they do not fit together.
    private static func decode(_ bytes: [UInt8]) -> VerifiedState? {
        var offset = magic.count
        func u64() -> UInt64? {
            guard offset + 8 <= bytes.count else { return nil }
            defer { offset += 8 }
            return (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        func raw(_ count: Int) -> [UInt8]? {
            guard offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }
        func time() -> FileTime? {
            guard let seconds = u64(), let nanoseconds = u64() else { return nil }
            return FileTime(seconds: Int64(bitPattern: seconds), nanoseconds: Int64(bitPattern: nanoseconds))
        }
        guard let made = time(), let device = u64(), let inode = u64(), let size = u64(),
              let modified = time(), let changed = time(), let vaultID = raw(VaultFile.vaultIDByteCount),
              let generation = u64(), let signature = raw(VaultFile.signatureByteCount),
              let entriesStart = u64(), let entryCount = u64(), let stride = u64(),
              stride == UInt64(VerifiedState.stride), entryCount <= UInt64(Limits.entries) else { return nil }
        let checkpointCount = (Int(entryCount) + VerifiedState.stride - 1) / VerifiedState.stride
        guard bytes.count - offset >= checkpointCount * 8 + 8 else { return nil }
        let checkpoints = (0..<checkpointCount).compactMap { _ in u64() }
        guard let pathCount = u64(), pathCount == UInt64(bytes.count - offset), let path = raw(Int(pathCount)) else { return nil }
        return VerifiedState(
            made: made, file: FileState(device: device, inode: inode, size: size, modified: modified, changed: changed),
            vaultID: vaultID, generation: generation, signature: signature, entriesStart: entriesStart,
            entryCount: entryCount, checkpoints: checkpoints, path: String(decoding: path, as: UTF8.self))
    }
}
