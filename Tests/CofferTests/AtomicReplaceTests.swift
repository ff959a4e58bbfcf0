@testable import Coffer
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
            try FileSystem.atomicReplace(path, with: [Array("unsigned body".utf8)[...]], then: { throw CheckFailed() }, mode: 0o600, readsBack: true)
        }
        #expect(try readBytes(path) == Array("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["v.coffer"])
    }

    @Test func theTrailerFollowsTheBody() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        var calls = 0
        try FileSystem.atomicReplace(path, with: [Array("body ".utf8)[...], Array("parts".utf8)[...]], then: {
            calls += 1
            return Array(" + signature".utf8)
        }, mode: 0o600, readsBack: true)
        #expect(calls == 1)
        #expect(try readBytes(path) == Array("body parts + signature".utf8))
    }
}
