/// The format of a small state file beside the trust store: one record a line, each record
/// space-separated lower-case hex fields of fixed lengths, lines sorted; mode 0600, rewritten
/// atomically under a lock (`StateFile`). A missing file is empty; a malformed one is an error,
/// never a reason to accept everything.
struct StateLines: Sendable {
    let path: String
    /// The number of hex digits of each field.
    let fieldLengths: [Int]

    init(besideTrustStore trustStorePath: String, named name: String, fieldLengths: [Int]) {
        path = FileSystem.directory(of: trustStorePath) + "/" + name
        self.fieldLengths = fieldLengths
    }

    /// The file, to be read once and written once.
    func file() -> StateFile<[[String]]> {
        StateFile(path: path, parse: parse, render: Self.render)
    }

    /// Every record, as its fields.
    func parse(_ bytes: [UInt8]) throws -> [[String]] {
        try String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated().map { number, line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.map(\.utf8.count) == fieldLengths else { throw CofferError.corrupted(part: "\(path), line \(number + 1)") }
            return fields
        }
    }

    static func render(_ records: [[String]]) -> [UInt8] {
        Array(records.map { $0.joined(separator: " ") }.sorted().map { $0 + "\n" }.joined().utf8)
    }

    /// Adds `record` unless a record with the same first field is there already.
    static func add(_ record: [String], to records: inout [[String]]) {
        guard !records.contains(where: { $0.first == record.first }) else { return }
        records.append(record)
    }
}
