#if canImport(Glibc)
import CFileSystemInfo
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened once for reading, with what `fstat` of that descriptor said: every later read
/// (`readAll`, `read(at:count:)`) is of the file whose state `state` describes, whatever the
/// path names meanwhile.
final class OpenFile {
    let path: String
    private let fd: Int32
    private var info: stat

    init(_ path: String) throws {
        self.path = path
        (fd, info) = try FileSystem.openForReading(path)
    }

    deinit { close(fd) }

    var isRegular: Bool { info.st_mode & S_IFMT == S_IFREG }
    var size: Int { Int(info.st_size) }

    /// Device, inode, size and modification and change times to the nanosecond.
    var state: FileState {
        #if os(Linux)
        FileState(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: UInt64(info.st_size),
            modified: FileTime(info.st_mtim), changed: FileTime(info.st_ctim))
        #else
        FileState(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: UInt64(info.st_size),
            modified: FileTime(info.st_mtimespec), changed: FileTime(info.st_ctimespec))
        #endif
    }

    /// Whether the file lies on a local file system whose times come from this machine's clock
    /// and that sets them on the first write through each new shared mapping (Specs/fast-read.md):
    /// ext2/3/4, XFS, Btrfs, F2FS. Not tmpfs, where such writes set no time at all.
    var isOnLocalFileSystem: Bool {
        #if os(Linux)
        var info = statfs()
        guard fstatfs(fd, &info) == 0 else { return false }
        return [0xEF53, 0x5846_5342, 0x9123_683E, 0xF2F5_2010].contains(Int64(info.f_type))
        #else
        return false
        #endif
    }

    /// Takes a read lease (fcntl(2)): granted only while nobody has the file open for writing (a
    /// shared writable mapping included), and until this descriptor is closed every open for
    /// writing waits. So the content cannot change while it is held, and a writer after it must
    /// open the file anew, which sets its times (Specs/fast-read.md). `state` is then that of
    /// the file under the lease (a writer may have come and gone since the open). False when not
    /// granted.
    func leaseAgainstWriters() -> Bool {
        #if os(Linux)
        // F_SETSIG and F_SETLEASE (Linux-specific, not exported by Glibc's module). A writer that
        // waits signals the holder: SIGURG, ignored by default, instead of SIGIO, which would end it.
        let setSignal: Int32 = 10, setLease: Int32 = 1024
        return fcntl(fd, setSignal, SIGURG) == 0 && fcntl(fd, setLease, Int32(F_RDLCK)) == 0 && fstat(fd, &info) == 0
        #else
        return false
        #endif
    }

    /// The whole file (`FileSystem.readAll`).
    func readAll(limit: Int) throws -> [UInt8] {
        try FileSystem.readAll(fd, info, path: path, limit: limit)
    }

    /// Exactly `count` bytes at `offset` (`pread`); a short read is an error.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard count > 0 else { return [] }
        let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, done in
            done = 0
            while done < count {
                let got = FileSystem.retrying { pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done)) }
                guard got > 0 else { throw got == 0 ? CofferError.io(path: path, reason: "shorter than expected") : FileSystem.ioError(path) }
                done += got
            }
        }
        return bytes
    }
}

/// A file time: seconds and nanoseconds since the epoch.
struct FileTime: Equatable, Comparable {
    var seconds: Int64
    var nanoseconds: Int64

    init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    init(_ time: timespec) {
        self.init(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec))
    }

    /// The real-time clock now.
    static func now() -> FileTime {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return FileTime(time)
    }

    static func < (a: FileTime, b: FileTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }
}

/// What `fstat` tells of a file that changes whenever its content does (Specs/fast-read.md).
struct FileState: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: UInt64
    var modified: FileTime
    var changed: FileTime
}
