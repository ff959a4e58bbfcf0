#if canImport(Glibc)
import Glibc
#endif

/// Writing files that hold secret values (render -o, export -o).
enum OutputFile {
    /// Replaces `path` atomically with `bytes`, mode 0600: a temporary file in the same folder,
    /// fsync, rename, fsync of the folder. On failure nothing is left behind and `path` is untouched.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(folder)/.\(name).coffer-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw ioFailure(folder) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        defer {
            if !renamed { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard fchmod(fd, 0o600) == 0 else { throw ioFailure(temporary) }
            var done = 0
            while done < bytes.count {
                let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw ioFailure(temporary) }
                done += count
            }
            guard fsync(fd) == 0 else { throw ioFailure(temporary) }
        }
        guard rename(temporary, path) == 0 else { throw ioFailure(path) }
        renamed = true
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folderFD >= 0 else { throw ioFailure(folder) }
        defer { close(folderFD) }
        guard fsync(folderFD) == 0 else { throw ioFailure(folder) }
    }

    private static func ioFailure(_ path: String) -> Failure {
        Failure(.io, "\(path): \(String(cString: strerror(errno)))")
    }
}
