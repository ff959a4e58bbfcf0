import Coffer
import CofferRotation
import Foundation
import Testing

/// Specs/test-vectors, located from this file so the tests read the committed files.
let vectorDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Specs/test-vectors")

/// A vector's `NAME.txt` (Specs/vault-format.md §7, extended as Specs/test-vectors/README.md says).
struct VectorDescription: Equatable {
    var passphrase: String?
    /// `AGE-SECRET-KEY-1...`
    var identity: String?
    /// `ok`, or `error <kind>`.
    var expect: String
    /// Text the error's part must contain (`corrupted` and `tampered` errors).
    var errorPart: String?
    /// Pins given with the command (`--pin`, `coffer_open_pinned`), in order.
    var pins: [String] = []
    /// `$COFFER_VAULT_PIN` as the reader finds it.
    var pinEnvironment: String?
    /// Values by `project/domain/name`.
    var entries: [String: [UInt8]] = [:]
    var notes: [String] = []

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    init(passphrase: String? = nil, identity: String? = nil, expect: String, errorPart: String? = nil,
         pins: [String] = [], pinEnvironment: String? = nil, entries: [String: [UInt8]] = [:], notes: [String]) {
        self.passphrase = passphrase
        self.identity = identity
        self.expect = expect
        self.errorPart = errorPart
        self.pins = pins
        self.pinEnvironment = pinEnvironment
        self.entries = entries
        self.notes = notes
    }

    init(parsing text: String) throws {
        var expect: String?
        for line in text.split(separator: "\n") {
            guard let colon = line.firstRange(of: ": ") else { throw Malformed(description: "not 'key: value': \(line)") }
            let key = line[..<colon.lowerBound], value = String(line[colon.upperBound...])
            switch key {
            case "passphrase": passphrase = value
            case "identity": identity = value
            case "expect": expect = value
            case "error-part": errorPart = value
            case "pin": pins.append(value)
            case "pin-environment": pinEnvironment = value
            case "note": notes.append(value)
            case "entry", "entry-hex":
                guard let equals = value.firstRange(of: " = "), value[..<equals.lowerBound].split(separator: "/", omittingEmptySubsequences: false).count == 3
                else { throw Malformed(description: "not 'project/domain/name = value': \(line)") }
                let name = String(value[..<equals.lowerBound]), encoded = String(value[equals.upperBound...])
                guard entries[name] == nil else { throw Malformed(description: "\(name) listed twice") }
                entries[name] = key == "entry" ? try Self.json(encoded) : try Self.hex(encoded)
            default:
                throw Malformed(description: "unknown field \(key)")
            }
        }
        guard let expect, expect == "ok" || expect.hasPrefix("error ") else { throw Malformed(description: "no valid expect line") }
        self.expect = expect
    }

    /// The text `init(parsing:)` reads back: credentials, expectation, entries by name, notes.
    var text: String {
        var lines = notes.map { "note: \($0)" }
        if let passphrase { lines.append("passphrase: \(passphrase)") }
        if let identity { lines.append("identity: \(identity)") }
        lines += pins.map { "pin: \($0)" }
        if let pinEnvironment { lines.append("pin-environment: \(pinEnvironment)") }
        lines.append("expect: \(expect)")
        if let errorPart { lines.append("error-part: \(errorPart)") }
        for (name, value) in entries.sorted(by: { $0.key < $1.key }) {
            if let text = String(validating: value, as: UTF8.self) {
                let json = try! JSONEncoder.vectors.encode(text)
                lines.append("entry: \(name) = \(String(decoding: json, as: UTF8.self))")
            } else {
                lines.append("entry-hex: \(name) = \(value.map { String(format: "%02x", $0) }.joined())")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func json(_ text: String) throws -> [UInt8] {
        Array(try JSONDecoder().decode(String.self, from: Data(text.utf8)).utf8)
    }

    private static func hex(_ text: String) throws -> [UInt8] {
        let digits = text.compactMap(\.hexDigitValue)
        guard digits.count == text.count, digits.count % 2 == 0 else { throw Malformed(description: "bad hex: \(text)") }
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(digits[$0] << 4 | digits[$0 + 1]) }
    }
}

extension JSONEncoder {
    static let vectors: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
}

@Suite struct TestVectorTests {
    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: vectorDirectory.path)) ?? [])
        .filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }.sorted()

    /// What opening vector `name` with its pins and credentials gives: every value its key can
    /// read, or the error.
    static func outcome(_ name: String, _ description: VectorDescription) throws -> Result<[String: [UInt8]], CofferError> {
        do {
            let vault = try Vault.open(at: vectorDirectory.appendingPathComponent("\(name).coffer").path)
            let given = try description.pins.map { try VaultPin(parsing: $0, source: "--pin") }
            let environment = description.pinEnvironment.map { [VaultPin.environmentVariable: $0] } ?? [:]
            try VaultPin.check(vault, against: VaultTrust.pins(given: given, environment: environment, identityFile: nil))
            if let passphrase = description.passphrase { try vault.unlock(passphrase: secure(passphrase)) }
            if let identity = description.identity { try vault.unlock(identities: [try Identity(parsing: identity).secretKey]) }
            return .success(try readableValues(vault))
        } catch let error as CofferError {
            return .failure(error)
        }
    }

    @Test func everyVectorHasItsFilesAndIsListedInTheReadme() throws {
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: vectorDirectory.path))
        let readme = try String(contentsOf: vectorDirectory.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(Self.names.count >= 12)
        #expect(files == Set(Self.names.flatMap { ["\($0).coffer", "\($0).txt"] } + ["README.md"]))
        for name in Self.names {
            #expect(readme.contains("`\(name)`"), "\(name) is not listed in README.md")
        }
    }

    @Test(arguments: names)
    func vector(_ name: String) throws {
        let text = try String(contentsOf: vectorDirectory.appendingPathComponent("\(name).txt"), encoding: .utf8)
        let description = try VectorDescription(parsing: text)
        #expect(!description.notes.isEmpty, "say what the vector tests")
        switch (description.expect, try Self.outcome(name, description)) {
        case ("ok", .success(let values)):
            #expect(!values.isEmpty)
            #expect(values == description.entries)
        case let (expect, .failure(error)):
            #expect(expect == "error \(error.vectorKind)", "\(error)")
            #expect(description.entries.isEmpty)
            if let part = description.errorPart { #expect(error.part.contains(part), "\(error)") }
        case let (expect, .success(values)):
            Issue.record("expected \(expect), opened with \(values.count) readable entries")
        }
    }

    /// Rewrites the vectors: `COFFER_WRITE_VECTORS=1 swift test --filter TestVectorTests.generate`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["COFFER_WRITE_VECTORS"] == "1"))
    func generate() throws {
        for vector in try VectorGenerator.vectors() {
            #expect(try VectorDescription(parsing: vector.description.text) == vector.description)
            try writeBytes(vector.bytes, to: vectorDirectory.appendingPathComponent("\(vector.name).coffer").path)
            try writeBytes(Array(vector.description.text.utf8), to: vectorDirectory.appendingPathComponent("\(vector.name).txt").path)
        }
    }
}
