import Coffer
import Foundation
import Testing

/// The seed systems' SDK verbs (seeds/README.md), done through Coffer's Swift API:
/// hpcflow's set/get/list/delete and Digital Hub's project secret entities.
@Suite struct SeedLibraryTests {
    private static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// hpcflow: set (refused without overwrite), set with overwrite, get, list names, list names
    /// and values, delete; the file is private to its owner and holds no value in the clear.
    @Test func hpcflowSetGetListDelete() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("secrets.coffer")
        let vault = try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: testKDF)
        try vault.set("CLUSTER_TOKEN", value: Self.bytes("tok-first-9c1d"))
        #expect(throws: CofferError.entryExists(name: "CLUSTER_TOKEN", scope: "global")) {
            try vault.set("CLUSTER_TOKEN", value: Self.bytes("tok-second-44e0"))
        }
        #expect(try vault.value(for: "CLUSTER_TOKEN") == Self.bytes("tok-first-9c1d"))
        try vault.set("CLUSTER_TOKEN", value: Self.bytes("tok-second-44e0"), overwrite: true)
        try vault.set("API_USER", value: Self.bytes("svc-hpc-runner"))
        try vault.save()

        // Listing names needs no key; values need one.
        let reopened = try Vault.open(at: path)
        #expect(reopened.entries.map(\.name).sorted() == ["API_USER", "CLUSTER_TOKEN"])
        #expect(throws: CofferError.keyUnavailable("the vault is locked")) { try reopened.value(for: "API_USER") }
        try reopened.unlock(passphrase: secure(testPassphrase))
        let listing = try reopened.entries.map { "\($0.name)=\(Self.text(try reopened.value(for: $0.name, in: $0.scope)))" }
        #expect(listing.sorted() == ["API_USER=svc-hpc-runner", "CLUSTER_TOKEN=tok-second-44e0"])

        // An environment definition's secret names become a command's variables.
        let environment = try reopened.environment(for: .global, only: ["CLUSTER_TOKEN", "API_USER"])
        #expect(environment.map { "\($0.variable)=\(Self.text($0.value))" } == ["CLUSTER_TOKEN=tok-second-44e0", "API_USER=svc-hpc-runner"])

        try reopened.remove("CLUSTER_TOKEN")
        #expect(throws: CofferError.entryMissing(name: "CLUSTER_TOKEN", scope: "global")) { try reopened.remove("CLUSTER_TOKEN") }
        try reopened.save()
        let afterDelete = try Vault.open(at: path)
        #expect(afterDelete.entries.map(\.name) == ["API_USER"])

        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let file = try readBytes(path)
        #expect(offset(of: Self.bytes("svc-hpc-runner"), in: file) == nil)
        #expect(offset(of: Self.bytes("tok-second-44e0"), in: file) == nil)
    }

    /// Digital Hub: a project's secrets as entities: create, read the value, update it, list with
    /// metadata (description, created, updated), delete; then the project's Kubernetes Secret.
    @Test func digitalHubProjectSecrets() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("secrets.coffer")
        let project = Scope(project: "churn-model")
        let vault = try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: testKDF)
        var now: UInt64 = 1_700_000_000
        vault.clock = { now }

        try vault.set("somesecret", value: Self.bytes("value1"), in: project, description: "scoring API")
        try vault.set("s3.access_key", value: Self.bytes("AKIA-CHURN-0001"), in: project)
        try vault.set("registry-password", value: Self.bytes("fraud-pass"), in: Scope(project: "fraud-model"))
        #expect(try vault.value(for: "somesecret", in: project) == Self.bytes("value1"))

        now += 90
        try vault.set("somesecret", value: Self.bytes("value2"), in: project, overwrite: true)
        #expect(try vault.value(for: "somesecret", in: project) == Self.bytes("value2"))
        try vault.save()

        let reopened = try Vault.open(at: path)
        let listed = reopened.resolvedEntries(for: project)
        #expect(listed.map(\.name) == ["s3.access_key", "somesecret"])
        let entry = try #require(listed.last)
        #expect(entry.scope == project)
        #expect(entry.description == "scoring API")
        #expect(entry.created == 1_700_000_000)
        #expect(entry.updated == 1_700_000_090)

        try reopened.unlock(passphrase: secure(testPassphrase))
        let manifest = Self.text(try reopened.export(format: .k8s, scope: project, k8sName: "churn-model-secrets"))
        #expect(manifest.contains("apiVersion: v1\n"))
        #expect(manifest.contains("kind: Secret\n"))
        #expect(manifest.contains("name: \"churn-model-secrets\""))
        #expect(manifest.contains("\"somesecret\": \"\(Data("value2".utf8).base64EncodedString())\""))
        #expect(manifest.contains("\"s3.access_key\": \"\(Data("AKIA-CHURN-0001".utf8).base64EncodedString())\""))
        #expect(!manifest.contains("registry-password"))

        try reopened.remove("somesecret", in: project)
        try reopened.save()
        #expect(try Vault.open(at: path).resolvedEntries(for: project).map(\.name) == ["s3.access_key"])
    }
}
