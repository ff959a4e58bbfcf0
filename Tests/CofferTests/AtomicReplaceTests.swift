@testable import Coffer
import CofferRotation
import Foundation
import Testing

/// `FileSystem.atomicReplace` with a trailer (how a save signs while the disk takes the body).
@Suite struct AtomicReplaceTests {
    struct CheckFailed: Error {}

    @Test func aTrailerThatThrowsLeavesTheOldFileAndNoTemporary() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        try FileSystem.atomicReplace(path, with: Array("old".utf8), mode: 0o600)
        #expect(throws: CheckFailed.self) {
            try FileSystem.atomicReplace(path, with: [Array("unsigned body".utf8)[...]], alongside: {}, then: { _ in throw CheckFailed() }, mode: 0o600, readsBack: true)
        }
        #expect(try readBytes(path) == Array("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["v.coffer"])
    }

    @Test func theTrailerFollowsTheBody() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        var calls = 0
        try FileSystem.atomicReplace(path, with: [Array("body ".utf8)[...], Array("parts".utf8)[...]], alongside: {}, then: { _ in
            calls += 1
            return Array(" + signature".utf8)
        }, mode: 0o600, readsBack: true)
        #expect(calls == 1)
        #expect(try readBytes(path) == Array("body parts + signature".utf8))
    }

    @Test(arguments: [100, Concurrently.worthwhileBytes + 1])
    func theTrailerGetsWhatTheWorkBesideTheWriteReturned(bodyBytes: Int) throws {
        // Below the threshold the work runs after the write, from it on a second thread beside it.
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        let body = (0..<bodyBytes).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try FileSystem.atomicReplace(path, with: [body[..<7], body[7...]], alongside: { body.reduce(0) { $0 &+ UInt64($1) } }, then: { sum in
            withUnsafeBytes(of: sum.littleEndian) { Array($0) }
        }, mode: 0o600, readsBack: true)
        let sum = body.reduce(0) { $0 &+ UInt64($1) }
        #expect(try readBytes(path) == body + withUnsafeBytes(of: sum.littleEndian) { Array($0) })
    }
}
