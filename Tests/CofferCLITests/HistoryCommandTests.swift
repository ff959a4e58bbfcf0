import Foundation
import Testing

/// `coffer history` in a real repository with several commits: names without a key, values with one.
@Suite struct HistoryCommandTests {
    /// init; then a and b; then a changed and c added; then b removed; then an unrelated file.
    private func world() throws -> GitWorld {
        let world = try GitWorld(setup: false)
        world.set("a", "history-a-one")
        world.set("b", "history-b-one")
        world.commit("a and b")
        world.set("a", "history-a-two", ["--overwrite"])
        world.set("c", "history-c-one")
        world.commit("a changed, c added")
        world.expectSuccess(world.coffer(["delete", "b"]))
        world.commit("b removed")
        try Data("x\n".utf8).write(to: URL(fileURLWithPath: world.repo + "/other.txt"))
        world.commit("unrelated")
        return world
    }

    @Test func historyListsEachCommitThatChangedTheVaultWithNamesOnly() throws {
        let world = try world()
        let result = world.expectSuccess(world.coffer(["history"], key: false))
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(result.output)")
        #expect(lines[0].hasPrefix("COMMIT"))
        #expect(lines[1].hasSuffix("removed: b"))
        #expect(lines[2].hasSuffix("added: c; changed: a"))
        #expect(lines[3].hasSuffix("added: a, b"))
        #expect(lines[4].hasSuffix("no secret changed"))
        #expect(lines[4].contains("Git World"))
        world.expectNoValues(result.output + result.stderr)

        let json = try #require(try JSONSerialization.jsonObject(with: Data(world.coffer(["history", "--json"], key: false).stdout)) as? [[String: Any]])
        #expect(json.count == 4)
        let head = world.git("rev-parse", "HEAD~1").output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(json[0]["commit"] as? String == head)
        #expect(json[0]["author"] as? String == "Git World")
        let generations = json.compactMap { $0["generation"] as? Int }
        #expect(generations == generations.sorted(by: >) && generations.count == 4)
        #expect((json[1]["changed"] as? [[String: Any]])?.first?["name"] as? String == "a")
        #expect((json[1]["added"] as? [[String: Any]])?.first?["name"] as? String == "c")
    }

    @Test func historyOfOneSecretWithAndWithoutValues() throws {
        let world = try world()
        let names = world.expectSuccess(world.coffer(["history", "a"], key: false))
        let rows = names.output.split(separator: "\n").dropFirst().map(String.init)
        #expect(rows.count == 2, "\(names.output)")
        #expect(rows[0].hasSuffix("changed") && rows[1].hasSuffix("added"))
        world.expectNoValues(names.output)

        let values = world.expectSuccess(world.coffer(["history", "a", "--values"]))
        let valueRows = values.output.split(separator: "\n").dropFirst().map(String.init)
        #expect(valueRows.count == 2)
        #expect(valueRows[0].hasSuffix("history-a-two") && valueRows[1].hasSuffix("history-a-one"), "\(values.output)")

        let removed = try #require(try JSONSerialization.jsonObject(
            with: Data(world.coffer(["history", "b", "--values", "--json"]).stdout)) as? [[String: Any]])
        #expect(removed.count == 2)
        #expect(removed[0]["value"] is NSNull)
        #expect((removed[0]["removed"] as? [[String: Any]])?.count == 1)
        #expect(removed[1]["value"] as? String == "history-b-one")
        // Nothing was written beside the vault while reading old versions.
        let files = try FileManager.default.contentsOfDirectory(atPath: world.repo).filter { $0 != ".git" }.sorted()
        #expect(files == ["other.txt", "secrets.coffer"])
    }

    @Test func outsideARepositoryHistoryIsAUsageError() throws {
        let box = try Sandbox()
        box.makeVault()
        let result = box.expectFailure(1) { box.coffer(["history", "--vault", box.vault]) }
        #expect(result.stderr.contains("not in a git repository"))
    }
}
