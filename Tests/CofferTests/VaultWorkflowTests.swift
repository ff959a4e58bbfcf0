import Coffer
import Foundation
import Testing

/// `Vault.secrets`, `environment`, `render` and `export`: selection, naming and refusals.
@Suite struct VaultWorkflowTests {
    static let web = Scope(project: "web")

    static func vault(_ directory: TemporaryDirectory) throws -> Vault {
        try makeVault(at: directory.file("secrets.coffer"), entries: [
            (.global, "pg.user", Array("global-user".utf8)),
            (web, "pg.user", Array("web-user".utf8)),
            (.global, "pg.password", Array("pw".utf8)),
            (web, "api-key", Array("key".utf8)),
        ])
    }

    @Test func secretsAreTheResolvedView() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.vault(directory)
        let all = try vault.secrets(for: Self.web)
        #expect(all.map(\.name) == ["api-key", "pg.password", "pg.user"])
        #expect(all.last.map { String(decoding: $0.value, as: UTF8.self) } == "web-user")
        let only = try vault.secrets(for: .global, only: ["pg.user", "pg.user"])
        #expect(only.map(\.name) == ["pg.user"] && only[0].value == Array("global-user".utf8))
        #expect(throws: CofferError.entryMissing(name: "api-key", scope: "global")) {
            try vault.secrets(for: .global, only: ["api-key"])
        }
    }

    @Test func environmentSelectsMapsAndPrefixes() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.vault(directory)
        func variables(_ only: [String]?, _ mappings: [(variable: String, name: String)] = [], prefix: String = "") throws -> [String] {
            try vault.environment(for: Self.web, only: only, mappings: mappings, prefix: prefix)
                .map { "\($0.variable)=\(String(decoding: $0.value, as: UTF8.self))" }
        }
        #expect(try variables(nil) == ["API_KEY=key", "PG_PASSWORD=pw", "PG_USER=web-user"])
        #expect(try variables(nil, prefix: "APP_") == ["APP_API_KEY=key", "APP_PG_PASSWORD=pw", "APP_PG_USER=web-user"])
        #expect(try variables(nil, [("DB_USER", "pg.user")], prefix: "APP_") == ["DB_USER=web-user"])
        #expect(try variables(["pg.user"], [("DB_USER", "pg.user"), ("PG_USER", "pg.user")]) == ["PG_USER=web-user", "DB_USER=web-user"])

        #expect(throws: CofferError.conflict("secrets 'pg.user' and 'api-key' both map to environment variable PG_USER")) {
            try variables(["pg.user"], [("PG_USER", "api-key")])
        }
        #expect(throws: CofferError.self) { try variables(nil, [("1X", "pg.user")]) }
        #expect(throws: CofferError.self) { try variables(nil, prefix: "9") }
        #expect(throws: CofferError.entryMissing(name: "nope", scope: "project=web")) { try variables(nil, [("X", "nope")]) }
    }

    @Test func environmentRefusesNulBytes() throws {
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("secrets.coffer"), entries: [(.global, "blob", [0x41, 0, 0x42])])
        #expect(throws: CofferError.invalidArgument("secret 'blob' holds a NUL byte, which an environment variable cannot carry")) {
            try vault.environment(for: .global)
        }
    }

    @Test func renderAndExportOfNoRevealEntries() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.vault(directory)
        try vault.set("hidden", value: Array("shh".utf8), noReveal: true)
        let rendered = try vault.render(template: Array("{{ secret('hidden') }}/{{ secret('pg.user') }}".utf8), path: "t", scope: Self.web)
        #expect(rendered == Array("shh/web-user".utf8))
        #expect(throws: CofferError.malformedInput(path: "t", line: 1, reason: "unknown secret api-key")) {
            try vault.render(template: Array("{{ secret('api-key') }}".utf8), path: "t", scope: .global)
        }

        #expect(throws: CofferError.notRevealable(name: "hidden")) { try vault.export(format: .json, scope: .global) }
        let json = try vault.export(format: .json, scope: Self.web, only: ["pg.user"])
        #expect(String(decoding: json, as: UTF8.self) == "{\n  \"pg.user\": \"web-user\"\n}\n")
    }
}
