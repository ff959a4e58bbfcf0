#if canImport(Glibc)
import Glibc
#endif

/// A small state file beside the trust store: one record a line, each record space-separated
/// lower-case hex fields of fixed lengths; mode 0600, rewritten atomically under a lock. A missing
/// file is empty; a malformed one is an error, never a reason to accept everything.
struct StateLines: Sendable {
    let path: String
    /// The number of hex digits of each field.
    let fieldLengths: [Int]

    init(besideTrustStore trustStorePath: String, named name: String, fieldLengths: [Int]) {
        path = FileSystem.directory(of: trustStorePath) + "/" + name
        self.fieldLengths = fieldLengths
    }

    /// Every record, as its fields.
    func records() throws -> [[String]] {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(path, limit: 16 << 20)
        } catch CofferError.io(_, let reason) where reason == "no such file" {
            return []
        }
        return try String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated().map { number, line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.map(\.utf8.count) == fieldLengths else { throw CofferError.corrupted(part: "\(path), line \(number + 1)") }
            return fields
        }
    }

    /// Adds `record` unless a record with the same first field is there already; under the lock,
    /// so concurrent additions are all kept.
    func add(_ record: [String]) throws {
        try FileSystem.makeFolders(FileSystem.directory(of: path))
        let lock = try FileLock(path + ".lock")
        defer { withExtendedLifetime(lock) {} }
        var all = try records()
        guard !all.contains(where: { $0.first == record.first }) else { return }
        all.append(record)
        let text = all.map { $0.joined(separator: " ") }.sorted().map { $0 + "\n" }.joined()
        try FileSystem.atomicReplace(path, with: Array(text.utf8), mode: 0o600)
    }
}
