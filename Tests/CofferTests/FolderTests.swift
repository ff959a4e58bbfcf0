import Coffer
import Foundation
import Testing

@Suite struct FolderTests {
    @Test func entryNamesAreEveryNameInTheFolderButDotAndDotDot() throws {
        let directory = try TemporaryDirectory()
        // The longest name a file can have, a one-byte name, and one that is not ASCII.
        let names = [String(repeating: "n", count: 255), "a", "passwörd.tmp-1"]
        for name in names { try Data("x".utf8).write(to: URL(fileURLWithPath: directory.file(name))) }
        #expect(Set(try #require(Folder.entryNames(directory.path))) == Set(names))
        #expect(Folder.entryNames(directory.file("missing")) == nil)
    }
}
