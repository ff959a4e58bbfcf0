import Foundation
import Testing

/// The resolved view through `get`, `list` and `run`, for every combination of entries present.
@Suite struct WorkflowScopeTests {
    /// The four scopes an entry can live in, most specific first, as `coffer` names them.
    static let scopes: [(flags: [String], description: String)] = [
        (["--project", "web", "--domain", "prod"], "project=web,domain=prod"),
        (["--project", "web"], "project=web"),
        (["--domain", "prod"], "domain=prod"),
        ([], "global"),
    ]

    /// Secret `s<mask>` exists in each scope whose bit (index in `scopes`) is set in `mask`.
    static let masks = 0..<16

    /// The scope (index in `scopes`) a reader selecting `reader` sees `s<mask>` from, if any.
    static func expected(mask: Int, reader: Int) -> Int? {
        let visible: [Int] = switch reader {
        case 0: [0, 1, 2, 3]
        case 1: [1, 3]
        case 2: [2, 3]
        default: [3]
        }
        return visible.first { mask & (1 << $0) != 0 }
    }

    static func value(mask: Int, scope: Int) -> String { "s\(mask)@\(scopes[scope].description)" }

    @Test func mostSpecificEntryWinsForEveryCombination() throws {
        let fixture = try WorkflowVault()
        for (index, scope) in Self.scopes.enumerated() {
            let secrets = Self.masks.filter { $0 & (1 << index) != 0 }
                .map { "\"s\($0)\": \"\(Self.value(mask: $0, scope: index))\"" }
            let file = try fixture.write("scope\(index).json", "{" + secrets.joined(separator: ", ") + "}")
            let imported = try fixture.coffer(["import", file] + scope.flags)
            try #require(imported.code == 0, "\(imported.stderr)")
        }

        for (reader, selection) in Self.scopes.enumerated() {
            // get: the most specific value, or "not found".
            for mask in Self.masks {
                let got = try fixture.coffer(["get", "s\(mask)"] + selection.flags)
                if let scope = Self.expected(mask: mask, reader: reader) {
                    #expect(got.code == 0 && got.stdout == Self.value(mask: mask, scope: scope), "get s\(mask) \(selection.flags)")
                } else {
                    #expect(got.code == 2 && got.stdout.isEmpty, "get s\(mask) \(selection.flags)")
                }
            }

            // list with a scope: one row per visible name, with the scope it comes from and its value.
            let expectedNames = Self.masks.filter { Self.expected(mask: $0, reader: reader) != nil }.map { "s\($0)" }
            if !selection.flags.isEmpty {
                let listed = try fixture.coffer(["list", "--json", "--values"] + selection.flags)
                #expect(listed.code == 0)
                let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.output)) as? [[String: Any]])
                #expect(Set(rows.compactMap { $0["name"] as? String }) == Set(expectedNames))
                #expect(rows.count == expectedNames.count)
                for row in rows {
                    let name = try #require(row["name"] as? String)
                    let scope = try #require(Self.expected(mask: Int(name.dropFirst())!, reader: reader))
                    #expect(row["scope"] as? String == Self.scopes[scope].description, "\(name) \(selection.flags)")
                    #expect(row["value"] as? String == Self.value(mask: Int(name.dropFirst())!, scope: scope))
                }
            }

            // run: the same view as variables S<mask>.
            let run = try fixture.coffer(["run", "--no-mask"] + selection.flags + ["--", "/usr/bin/env"])
            #expect(run.code == 0, "\(run.stderr)")
            let variables = run.stdout.split(separator: "\n").filter { $0.hasPrefix("S") && $0.contains("=") }
                .map { String($0) }
            #expect(Set(variables) == Set(Self.masks.compactMap { mask in
                Self.expected(mask: mask, reader: reader).map { "S\(mask)=\(Self.value(mask: mask, scope: $0))" }
            }), "run \(selection.flags)")
        }

        // Without a scope, list shows every entry where it lives.
        let all = try fixture.coffer(["list", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(all.output)) as? [[String: Any]])
        #expect(rows.count == Self.masks.reduce(0) { $0 + $1.nonzeroBitCount })
    }
}
