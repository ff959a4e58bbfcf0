import Testing
@testable import Coffer

/// Coffer's Flyte layout: group and key, flytekit's variable names, the prefix, clashes; and the
/// vault search order shared by the CLI and the C library.
@Suite struct FlyteLayoutTests {
    @Test(arguments: [
        ("pg.password", "pg", "password", "_FSEC_PG_PASSWORD"),
        ("pg.db.password", "pg", "db.password", "_FSEC_PG_DB.PASSWORD"),
        ("user-info.user_secret", "user-info", "user_secret", "_FSEC_USER-INFO_USER_SECRET"),
    ])
    func splitsAtTheFirstDot(name: String, group: String, key: String, variable: String) throws {
        let split = try FlyteLayout.groupAndKey(name)
        #expect(split.group == group && split.key == key)
        #expect(try FlyteLayout.variable(for: name, prefix: FlyteLayout.defaultPrefix) == variable)
    }

    @Test(arguments: ["PLAIN", ".key", "group.", "."])
    func namesWithoutGroupAndKeyAreRefused(name: String) {
        #expect(throws: CofferError.self) { try FlyteLayout.groupAndKey(name) }
    }

    @Test func prefixComesFromFlytesVariable() throws {
        #expect(try FlyteLayout.prefix(environment: [:]) == "_FSEC_")
        #expect(try FlyteLayout.prefix(environment: ["FLYTE_SECRETS_ENV_PREFIX": "MY_"]) == "MY_")
        #expect(throws: CofferError.self) { try FlyteLayout.prefix(environment: ["FLYTE_SECRETS_ENV_PREFIX": ""]) }
        #expect(throws: CofferError.self) { try FlyteLayout.prefix(environment: ["FLYTE_SECRETS_ENV_PREFIX": "A=B"]) }
    }

    @Test func twoSecretsInOneVariableNameBoth() {
        do {
            _ = try FlyteLayout.environment([("pg.key", Array("a".utf8)), ("PG.KEY", Array("b".utf8))], prefix: "_FSEC_")
            Issue.record("a clash was accepted")
        } catch let CofferError.conflict(message) {
            #expect(message.contains("'pg.key'") && message.contains("'PG.KEY'") && !message.contains("\"a\""))
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: CofferError.self) { try FlyteLayout.environment([("pg.key", [0x61, 0, 0x62])], prefix: "_FSEC_") }
    }

    @Test func localVaultAndDataHome() {
        #expect(VaultLocation.localVaultPath(environment: ["XDG_DATA_HOME": "/d"]) == "/d/coffer/local.coffer")
        #expect(VaultLocation.localVaultPath(environment: ["HOME": "/h", "XDG_DATA_HOME": ""]) == "/h/.local/share/coffer/local.coffer")
        #expect(VaultLocation.discover(environment: ["COFFER_VAULT": "/v.coffer"], currentDirectory: "/") == "/v.coffer")
    }
}
