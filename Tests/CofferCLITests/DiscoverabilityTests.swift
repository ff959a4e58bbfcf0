import Foundation
import Testing

/// What scripts parse: every `--json` output, `list` patterns, and the suggestion for a mistyped command.
@Suite struct DiscoverabilityTests {
    private func object(_ result: CofferResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any], sourceLocation: sourceLocation)
    }

    @Test func inspectStatusVerifyAndSlotsListSpeakJSON() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("a", "json-value-1")
        let inspect = try object(box.coffer(["inspect", "--json", "--vault", box.vault]))
        #expect(Set(inspect.keys) == [
            "vault", "format", "vaultId", "generation", "verificationKey", "keyFingerprint", "keyChainRotations", "entries",
            "fileSize", "slots", "branch", "rememberedGeneration", "pinnedKey",
        ])
        #expect(inspect["generation"] as? Int == 2)
        #expect(inspect["entries"] as? Int == 1)
        #expect((inspect["vaultId"] as? String)?.count == 32)
        let slots = try #require(inspect["slots"] as? [[String: Any]])
        #expect(slots.first?["type"] as? String == "passphrase")

        let listed = try #require(try JSONSerialization.jsonObject(
            with: Data(box.coffer(["slots", "list", "--json", "--vault", box.vault]).stdout)) as? [[String: Any]])
        #expect(listed.first?["id"] as? String == slots.first?["id"] as? String)

        let status = try object(box.coffer(["status", "--json", "--vault", box.vault]))
        #expect(status["sessionOpen"] as? Bool == false)
        #expect(status["entries"] as? Int == 1)
        #expect(status.keys.contains("secondsLeft"))

        let signatureOnly = try object(box.coffer(["verify", "--json", "--vault", box.vault]))
        #expect(signatureOnly["signature"] as? String == "ok")
        #expect(signatureOnly["valuesChecked"] as? Bool == false)
        let full = try object(box.unlocked(["verify", "--json"]))
        #expect(full["valuesChecked"] as? Bool == true)
        #expect(full["valuesOpened"] as? Int == 1)
    }

    @Test func importJSONNamesWhatWasAddedAndReplaced() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("one", "first-value")
        try box.write(box.work + "/in.env", "one=replaced-value\ntwo=second-value\n")
        box.remember("replaced-value")
        box.remember("second-value")
        let result = box.unlocked(["import", box.work + "/in.env", "--overwrite", "--json"])
        let report = try object(result)
        #expect(report["imported"] as? Int == 2)
        #expect(report["added"] as? [String] == ["two"])
        #expect(report["replaced"] as? [String] == ["one"])
        box.expectNoSecrets(result.output)
    }

    @Test func listFiltersByNamePattern() throws {
        let box = try Sandbox()
        box.makeVault()
        for name in ["pg.user", "pg.password", "api.key"] { box.store(name, "value-of-\(name)") }
        let names = try box.listJSON(["--vault", box.vault, "pg.*"]).map { $0["name"] as? String ?? "?" }
        #expect(names.sorted() == ["pg.password", "pg.user"])
        let two = try box.listJSON(["--vault", box.vault, "api.*", "*.user"]).map { $0["name"] as? String ?? "?" }
        #expect(two.sorted() == ["api.key", "pg.user"])
    }

    @Test func anUnknownSubcommandGetsTheClosestSuggestion() throws {
        let box = try Sandbox()
        let result = box.coffer(["lsit"])
        #expect(result.status == 1)
        #expect(result.stderr == "coffer: unknown command 'lsit' for 'coffer': did you mean 'list'?\n")
        let nested = box.coffer(["slots", "lst"])
        #expect(nested.stderr.contains("did you mean 'list'?"), "\(nested.stderr)")
        #expect(box.coffer(["zzzzzzzz"]).stderr == "coffer: unknown command 'zzzzzzzz' for 'coffer'\n")
    }
}
