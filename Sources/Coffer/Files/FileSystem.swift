import CofferRotation
#if canImport(Glibc)
import CFileSystemInfo
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few system calls a vault needs, with EINTR retried and errors as `CofferError.io`.
enum FileSystem {
    static func errorText() -> String { String(cString: strerror(errno)) }

    static func ioError(_ path: String) -> CofferError { .io(path: path, reason: errorText()) }

    /// Retries `call` while it fails with EINTR.
    static func retrying<T: BinaryInteger>(_ call: () -> T) -> T {
        var result: T
        repeat { result = call() } while result == -1 && errno == EINTR
        return result
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// `path` with symbolic links and `.`/`..` resolved (absolute); nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard let resolved = realpath(path, &buffer) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)), as: UTF8.self)
    }

    /// The file a write to `path` must replace: the target of a symbolic link, so that the link
    /// stays a link; `path` itself when it does not exist yet.
    static func writeTarget(_ path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return path }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw CofferError.invalidArgument("\(path) is not a regular file (a pipe?): a vault read from it cannot be written")
        }
        return realPath(path) ?? path
    }

    /// The whole file, read to its end whatever it is (`readAll`).
    static func read(_ path: String, limit: Int) throws -> [UInt8] {
        let (fd, info) = try openForReading(path)
        defer { close(fd) }
        return try readAll(fd, info, path: path, limit: limit)
    }

    /// `path` opened read-only, with `fstat` of the descriptor.
    static func openForReading(_ path: String) throws -> (fd: Int32, info: stat) {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            throw errno == ENOENT ? CofferError.io(path: path, reason: "no such file") : ioError(path)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = ioError(path)
            close(fd)
            throw error
        }
        return (fd, info)
    }

    /// The whole of open file `fd`, read to its end whatever it is (a regular file, a pipe, a FIFO,
    /// a terminal), refusing anything larger than `limit` bytes: a regular file before reading it,
    /// any other input once it has sent more. A regular file is read into a buffer of its size
    /// (plus the one byte that shows its end), so it costs one read and no copy.
    static func readAll(_ fd: Int32, _ info: stat, path: String, limit: Int) throws -> [UInt8] {
        let isRegular = info.st_mode & S_IFMT == S_IFREG
        let tooLarge = CofferError.corrupted(part: "file: larger than \(limit) bytes")
        guard !isRegular || info.st_size <= limit else { throw tooLarge }
        var bytes: [UInt8] = []
        var capacity = isRegular ? Int(info.st_size) + 1 : min(limit + 1, 1 << 16)
        while true {
            let start = bytes.count
            var ended = false
            let grown = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, done in
                if start > 0 { _ = buffer.initialize(fromContentsOf: bytes) }
                done = start
                while done < capacity {
                    let count = retrying { Glibc.read(fd, buffer.baseAddress! + done, capacity - done) }
                    guard count >= 0 else { throw ioError(path) }
                    if count == 0 { ended = true; return }
                    done += count
                }
            }
            bytes = grown
            if ended { return bytes }
            guard bytes.count <= limit else { throw tooLarge }
            capacity = min(limit + 1, capacity * 2)
        }
    }

    /// The last `count` bytes of a file (all of it when shorter); nil when it does not exist.
    static func tail(_ path: String, count: Int) throws -> [UInt8]? {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw ioError(path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ioError(path) }
        let start = max(0, Int(info.st_size) - count)
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) - start)
        let got = bytes.withUnsafeMutableBytes { buffer in
            retrying { pread(fd, buffer.baseAddress!, buffer.count, off_t(start)) }
        }
        guard got == bytes.count else { throw ioError(path) }
        return bytes
    }

    static func mode(of path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Creates `folder` and the folders above it that are missing, mode 0700.
    static func makeFolders(_ folder: String) throws {
        var prefix = ""
        for component in folder.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw ioError(prefix) }
        }
    }

    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, path: String) throws {
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                retrying { write(fd, buffer.baseAddress! + done, bytes.count - done) }
            }
            guard count > 0 else { throw ioError(path) }
            done += count
        }
    }

    static func fsyncDirectory(_ directory: String) throws {
        let fd = retrying { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw ioError(directory) }
        defer { close(fd) }
        guard retrying({ fsync(fd) }) == 0 else { throw ioError(directory) }
    }

    /// Prefix of the temporary files a save writes beside `path`.
    static func temporaryPrefix(for path: String) -> String { "." + baseName(of: path) + ".tmp-" }

    /// Removes temporaries left by a save that was killed; call with the folder's lock held.
    static func removeStaleTemporaries(for path: String) {
        let directory = directory(of: path), prefix = temporaryPrefix(for: path)
        for name in Folder.entryNames(directory) ?? [] where name.hasPrefix(prefix) { unlink(directory + "/" + name) }
    }

    /// Writes `bytes` to a new temporary file beside `path` (fsynced, mode `mode`), renames it over
    /// `path` and fsyncs the folder. On any failure the old file stays. `durable: false` skips the
    /// fsyncs, for files on a RAM-backed runtime folder (sessions); `readsBack` reads the temporary
    /// file back and compares it with `bytes` before the rename (vault saves).
    static func atomicReplace(_ path: String, with bytes: [UInt8], mode: mode_t, durable: Bool = true, readsBack: Bool = false) throws {
        try atomicReplace(path, with: [bytes[...]], mode: mode, durable: durable, readsBack: readsBack)
    }

    /// `atomicReplace` of the concatenation of `pieces`, written one after the other (not joined first).
    static func atomicReplace(
        _ path: String, with pieces: [ArraySlice<UInt8>], mode: mode_t, durable: Bool = true, readsBack: Bool = false
    ) throws {
        try atomicReplace(path, with: pieces, alongside: {}, then: { _ in [] }, mode: mode, durable: durable, readsBack: readsBack)
    }

    /// `atomicReplace` of `body` followed by what `trailer` returns (a signature over the body),
    /// which is called once the body is written, with what `work` returned: `work` (hashing the
    /// body) runs while the body is written, on a second thread for a large body. A durable
    /// write has then started sending the body to the disk (`sync_file_range`), which works
    /// while `trailer` computes. If `trailer` throws, nothing replaces `path`. The read-back
    /// comparison runs before `fsync`, while the disk is still busy: it reads the file's pages
    /// from the kernel as it would after.
    static func atomicReplace<Work>(
        _ path: String, with body: [ArraySlice<UInt8>], alongside work: () -> Work, then trailer: (Work) throws -> [UInt8],
        mode: mode_t, durable: Bool = true, readsBack: Bool = false
    ) throws {
        let directory = directory(of: path)
        let suffix = (0..<8).map { _ in String(UInt8.random(in: 0...35), radix: 36) }.joined()
        let temporary = directory + "/" + temporaryPrefix(for: path) + suffix
        let fd = retrying { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { throw ioError(temporary) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { throw ioError(temporary) }
            let (written, done) = Concurrently.both(
                body.reduce(0) { $0 + $1.count } >= Concurrently.worthwhileBytes,
                { Result { for piece in body { try writeAll(fd, piece, path: temporary) } } },
                work)
            try written.get()
            // Only a head start: the fsync below is what makes the file durable, so a failure
            // here (a file system without it) changes nothing.
            if durable { _ = startWriteback(fd) }
            let tail = try trailer(done)
            try writeAll(fd, tail[...], path: temporary)
            if durable { CrashPoint.reach(.written) }
            if readsBack { try compare(temporary, with: body + [tail[...]]) }
            guard !durable || retrying({ fsync(fd) }) == 0 else { throw ioError(temporary) }
            if durable { CrashPoint.reach(.synced) }
        }
        guard rename(temporary, path) == 0 else { throw ioError(path) }
        renamed = true
        guard durable else { return }
        CrashPoint.reach(.renamed)
        try fsyncDirectory(directory)
        CrashPoint.reach(.directorySynced)
    }

    private static func startWriteback(_ fd: Int32) -> Int32 {
        #if os(Linux)
        coffer_start_writeback(fd)
        #else
        0
        #endif
    }
}

extension FileSystem {
    /// Fails unless the file at `path` holds exactly the concatenation of `pieces`; reads it in
    /// 64 KiB pieces, so a large vault is not held twice in memory.
    private static func compare(_ path: String, with pieces: [ArraySlice<UInt8>]) throws {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw ioError(path) }
        defer { close(fd) }
        let mismatch = CofferError.io(path: path, reason: "the written file did not read back the same")
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        // The piece being compared, and how much of it has been.
        var piece = pieces.startIndex, done = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { chunk in retrying { Glibc.read(fd, chunk.baseAddress!, chunk.count) } }
            guard count >= 0 else { throw ioError(path) }
            if count == 0 { break }
            var compared = 0
            while compared < count {
                while piece < pieces.endIndex, done == pieces[piece].count {
                    piece += 1
                    done = 0
                }
                guard piece < pieces.endIndex else { throw mismatch }
                let length = min(count - compared, pieces[piece].count - done)
                let same = pieces[piece].withUnsafeBytes { written in
                    buffer.withUnsafeBytes { memcmp(written.baseAddress! + done, $0.baseAddress! + compared, length) == 0 }
                }
                guard same else { throw mismatch }
                done += length
                compared += length
            }
        }
        guard pieces[piece...].dropFirst().allSatisfy(\.isEmpty), piece == pieces.endIndex || done == pieces[piece].count else {
            throw mismatch
        }
    }
}

/// An exclusive advisory lock (flock), released when the value goes away.
final class FileLock {
    private let fd: Int32

    /// On a dedicated lock file, created 0600 if missing.
    convenience init(_ path: String) throws {
        try self.init(opening: path, flags: O_RDWR | O_CREAT)
    }

    /// On a vault's folder: writers to any vault in it take turns. Readers take no lock; they
    /// always see a whole file, old or new, because saves rename.
    convenience init(forVaultAt path: String) throws {
        try self.init(opening: FileSystem.directory(of: path), flags: O_RDONLY | O_DIRECTORY)
    }

    private init(opening path: String, flags: Int32) throws {
        fd = FileSystem.retrying { open(path, flags | O_CLOEXEC, 0o600) }
        guard fd >= 0 else { throw FileSystem.ioError(path) }
        guard FileSystem.retrying({ flock(fd, LOCK_EX) }) == 0 else {
            let error = FileSystem.ioError(path)
            close(fd)
            throw error
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// Whole-file reads and atomic writes for other programs of the package (the CLI's import files,
/// templates, and `render -o` / `export -o` outputs).
public enum Files {
    /// The file's bytes, refusing a file larger than `limit` before reading it.
    public static func read(_ path: String, limit: Int) throws -> [UInt8] {
        do {
            return try FileSystem.read(path, limit: limit)
        } catch CofferError.corrupted {
            throw CofferError.invalidArgument("\(path) is larger than \(limit) bytes")
        }
    }

    /// Replaces `path` with `bytes` atomically (temporary file beside it, fsync, rename, fsync
    /// of the folder), with `mode`; on failure `path` is untouched and no temporary is left.
    /// Temporaries a killed earlier write left beside `path` (they may hold rendered secrets)
    /// are removed first.
    public static func replace(_ path: String, with bytes: [UInt8], mode: UInt32) throws {
        FileSystem.removeStaleTemporaries(for: path)
        try FileSystem.atomicReplace(path, with: bytes, mode: mode_t(mode))
    }
}

/// Test-only fault injection: with `COFFER_TEST_CRASH_AT=<step>` in the environment, a durable save
/// (a vault, the trust store) kills its own process (SIGKILL) at that step, as a power cut or
/// `kill -9` would. Debug builds only: in a release build `reach` does nothing.
enum CrashPoint: String {
    case written, synced, renamed, directorySynced = "dir-synced"

    #if DEBUG
    private static let armed: CrashPoint? = getenv("COFFER_TEST_CRASH_AT").flatMap { CrashPoint(rawValue: String(cString: $0)) }

    static func reach(_ step: CrashPoint) {
        if armed == step { raise(SIGKILL) }
    }
    #else
    @inline(__always) static func reach(_ step: CrashPoint) {}
    #endif
}
