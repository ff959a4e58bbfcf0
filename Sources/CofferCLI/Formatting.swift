import Coffer
import CofferCodec

/// Text forms shared by the commands' output.
enum Formatting {
    /// `2026-11-25T13:00:00Z`.
    static func timestamp(_ seconds: UInt64) -> String { Timestamp.rfc3339(seconds) }

    /// A JSON string literal.
    static func json(_ text: String) -> String { SecretExport.jsonQuoted(text) }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
