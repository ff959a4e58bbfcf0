import Foundation
import Testing
@testable import Coffer

/// The text `coffer edit` shows: every text value comes back byte for byte, in both formats;
/// what cannot (no-reveal, not text) shows as the placeholder, which keeps it.
@Suite struct EditViewTests {
    static let awkward = [
        "plain", "with \"double\" and 'single' quotes", "back\\slash\\n not an escape", "line one\nline two\n",
        "crlf\r\nend", "tab\tand $HOME ${X} `cmd`", "  padded  ", "# not a comment", "ünïcödé ✓", "key: value", "",
    ]

    @Test(arguments: EditFormat.allCases)
    func everyTextValueRoundTripsUnchanged(format: EditFormat) throws {
        let secrets = Self.awkward.enumerated().map { EditView.Secret(name: "s\($0.offset)", value: Array($0.element.utf8), hidden: false) }
        let view = EditView(secrets, format: format)
        #expect(view.secrets.allSatisfy { !$0.hidden }, "a text value was hidden")
        let text = view.render(header: ["a header line"])
        let changes = try view.changes(in: text, path: "edit", scope: .global)
        #expect(changes.isEmpty, "\(changes.summary)")
    }

    @Test(arguments: EditFormat.allCases)
    func hiddenAndBinaryValuesShowThePlaceholderAndAreKept(format: EditFormat) throws {
        let view = EditView([
            EditView.Secret(name: "hidden", value: Array("no-reveal-value".utf8), hidden: true),
            EditView.Secret(name: "binary", value: [0xFF, 0x00, 0xC3], hidden: false),
        ], format: format)
        let text = String(decoding: view.render(header: []), as: UTF8.self)
        #expect(!text.contains("no-reveal-value"))
        #expect(text.components(separatedBy: EditView.placeholder).count == 3)
        #expect(try view.changes(in: Array(text.utf8), path: "edit", scope: .global).isEmpty)
    }

    @Test func renamesAreSeenWhenTheValueIsUnchangedAndThePlaceholderCannotMove() throws {
        let view = EditView([
            EditView.Secret(name: "old", value: Array("same".utf8), hidden: false),
            EditView.Secret(name: "kept", value: Array("k".utf8), hidden: true),
        ], format: .dotenv)
        let renamed = try view.changes(in: Array("new=\"same\"\nkept=\"\(EditView.placeholder)\"\n".utf8), path: "edit", scope: .global)
        #expect(renamed.renamed.map { "\($0.from)->\($0.to)" } == ["old->new"])
        #expect(renamed.added.isEmpty && renamed.removed.isEmpty && renamed.changed.isEmpty)

        #expect(throws: CofferError.self) {
            try view.changes(in: Array("old=\"same\"\nmoved=\"\(EditView.placeholder)\"\n".utf8), path: "edit", scope: .global)
        }
        #expect(throws: CofferError.self) {
            try view.changes(in: Array("bad name=\"x\"\n".utf8), path: "edit", scope: .global)
        }
    }
}
