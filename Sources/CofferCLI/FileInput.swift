import Coffer
import CofferCrypto
#if canImport(Glibc)
import Glibc
#endif

/// Reading whole input files (values, imports, templates) with a size limit.
enum FileInput {
    static func read(_ path: String, limit: Int) throws -> SecureBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw Failure(errno == ENOENT ? .notFound : .io, "\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        return try Terminal.readSecret(fd: fd, limit: limit, what: path)
    }

    /// A file that holds no key (an import file, a template, a vault), read to its end into an
    /// ordinary array, whatever it is (a file, a pipe, a FIFO, /dev/stdin).
    static func readBytes(_ path: String, limit: Int) throws -> [UInt8] {
        do {
            return try Files.read(path, limit: limit)
        } catch CofferError.io(_, let reason) where reason == "no such file" {
            throw Failure(.notFound, "\(path): no such file")
        }
    }

    /// As `readBytes`, for an input that must hold something (`what`: an import file, a template):
    /// an empty one is an error, never a silent no-op.
    static func readContent(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        let bytes = try readBytes(path, limit: limit)
        guard !bytes.isEmpty else { throw Failure(.usage, "\(path) is empty: no \(what) to read") }
        return bytes
    }
}
