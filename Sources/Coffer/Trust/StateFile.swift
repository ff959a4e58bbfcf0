#if canImport(Glibc)
import Glibc
#endif

/// A small state file beside the trust store (the trust store, confirmed vaults, passphrase slots,
/// history state) as one command sees it: read at most once, when first needed; changed in
/// memory; written by `write()` at most once, atomically (mode 0600) under its own lock, and only
/// if it changed. Each change is kept as a function of the state: when another command replaced
/// the file after this one read it, `write` reads that command's file and applies the changes to
/// it instead, so neither command's changes are lost (every change only moves the state
/// forward). A missing file is the state of an empty one; a malformed one is an error.
final class StateFile<State: Equatable> {
    let path: String
    private let parse: ([UInt8]) throws -> State
    private let render: (State) -> [UInt8]
    /// The file as read (or last written), and what this command made of it.
    private var snapshot: FileSnapshot?
    private var stored: State?
    private var state: State?
    private var changes: [(inout State) -> Void] = []

    /// `parse` reads the file's bytes (none for a missing file); `render` writes them.
    init(path: String, parse: @escaping ([UInt8]) throws -> State, render: @escaping (State) -> [UInt8]) {
        self.path = path
        self.parse = parse
        self.render = render
    }

    /// The state with this command's changes.
    func current() throws -> State {
        if let state { return state }
        let (bytes, snapshot) = try FileSnapshot.read(path, limit: 64 << 20)
        let state = try parse(bytes)
        self.snapshot = snapshot
        self.stored = state
        self.state = state
        return state
    }

    /// Applies `change` now, and again at `write` if the file was replaced meanwhile.
    func change(_ change: @escaping (inout State) -> Void) throws {
        var state = try current()
        change(&state)
        self.state = state
        changes.append(change)
    }

    /// Reads the file again if another command replaced it since this one read it, and applies
    /// this command's changes to what that command wrote. A `stat`, unless it was replaced.
    func refresh() throws {
        guard let snapshot, !snapshot.isCurrent(path) else { return }
        let (bytes, fresh) = try FileSnapshot.read(path, limit: 64 << 20)
        let theirs = try parse(bytes)
        var state = theirs
        for change in changes { change(&state) }
        self.snapshot = fresh
        self.stored = theirs
        self.state = state
    }

    /// Writes the changes, if they changed anything.
    func write() throws {
        guard let state, let stored, state != stored else { return }
        try FileSystem.makeFolders(FileSystem.directory(of: path))
        // Its own lock file: the folder may also hold a vault whose folder lock this process holds.
        let lock = try FileLock(path + ".lock")
        defer { withExtendedLifetime(lock) {} }
        FileSystem.removeStaleTemporaries(for: path)
        try refresh()
        if self.state != self.stored {
            try FileSystem.atomicReplace(path, with: render(self.state!), mode: 0o600)
            snapshot = try FileSnapshot.unread(path)
            self.stored = self.state
        }
        changes = []
    }
}

/// What tells, without reading it again, whether a file is still the one read: its descriptor,
/// held open so that its inode cannot be reused by another file, and its device, inode, size,
/// and modification and change times. State files are only ever replaced by rename (a new
/// inode), so a replaced file always differs in its inode.
final class FileSnapshot {
    private let fd: Int32
    /// nil: there was no file.
    private let identity: [Int]?

    private init(fd: Int32, identity: [Int]?) {
        self.fd = fd
        self.identity = identity
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    private static func identity(_ info: stat) -> [Int] {
        [Int(info.st_dev), Int(info.st_ino), Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec,
         info.st_ctim.tv_sec, info.st_ctim.tv_nsec]
    }

    /// The file's bytes (none when it does not exist) and its snapshot.
    static func read(_ path: String, limit: Int) throws -> (bytes: [UInt8], snapshot: FileSnapshot) {
        let (snapshot, info) = try opening(path)
        guard let info else { return ([], snapshot) }
        return (try FileSystem.readAll(snapshot.fd, info, path: path, limit: limit), snapshot)
    }

    /// The snapshot of a file this process has just written (under its lock), without reading it.
    static func unread(_ path: String) throws -> FileSnapshot {
        try opening(path).snapshot
    }

    private static func opening(_ path: String) throws -> (snapshot: FileSnapshot, info: stat?) {
        let fd = FileSystem.retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            guard errno == ENOENT else { throw FileSystem.ioError(path) }
            return (FileSnapshot(fd: -1, identity: nil), nil)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = FileSystem.ioError(path)
            close(fd)
            throw error
        }
        return (FileSnapshot(fd: fd, identity: identity(info)), info)
    }

    /// Whether `path` is still the file read (or still missing).
    func isCurrent(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return identity == nil && errno == ENOENT }
        return identity == Self.identity(info)
    }
}
