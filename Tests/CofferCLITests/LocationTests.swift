import Foundation
import Testing

/// Which vault a command uses, and where the passphrase comes from.
@Suite struct LocationTests {
    /// root/repo (a git repository: it holds `.git`) with `secrets.coffer` and a deep working folder
    /// `repo/sub/deeper`; `root/secrets.coffer` above the repository; `root/env.coffer` and
    /// `root/flag.coffer`; and the local vault. Each holds `which` = its own name.
    struct Tree {
        let box: Sandbox
        var repo: String { box.root + "/repo" }
        var deeper: String { repo + "/sub/deeper" }
        var project: String { repo + "/secrets.coffer" }
        var above: String { box.root + "/secrets.coffer" }
        var fromEnvironment: String { box.root + "/env.coffer" }
        var fromFlag: String { box.root + "/flag.coffer" }

        init() throws {
            box = try Sandbox()
            try FileManager.default.createDirectory(atPath: repo + "/.git", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: deeper, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: box.dataHome + "/coffer", withIntermediateDirectories: true)
            for (path, label) in [(project, "project"), (above, "above"), (fromEnvironment, "environment"),
                                  (fromFlag, "flag"), (box.localVault, "local")] {
                box.makeVault(path)
                box.store("which", label, vault: path)
            }
        }

        /// `get which` (with `-v`) from `cwd`: the vault's label and the path `-v` reported.
        func which(_ options: [String] = [], environment: [String: String] = [:], cwd: String? = nil) -> (label: String, path: String) {
            let result = box.coffer(
                ["get", "which", "-v", "--passphrase-file", box.passphraseFile] + options,
                environment: environment, cwd: cwd ?? deeper)
            let said = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
            let path = said.hasPrefix("coffer: vault ") ? String(said.dropFirst("coffer: vault ".count)) : "(\(result.stderr))"
            return (result.status == 0 ? result.output : "exit \(result.status)", path)
        }
    }

    @Test func theNearestProjectVaultUpToTheRepositoryRoot() throws {
        let tree = try Tree()
        #expect(tree.which() == ("project", tree.project))
        #expect(tree.which(cwd: tree.repo) == ("project", tree.project))
        // Above the repository root the search stops: the local vault is next.
        try FileManager.default.removeItem(atPath: tree.project)
        #expect(tree.which() == ("local", tree.box.localVault))
    }

    @Test func outsideARepositoryOnlyTheWorkingFolderIsSearched() throws {
        let tree = try Tree()
        let plain = tree.box.root + "/plain"
        try FileManager.default.createDirectory(atPath: plain + "/child", withIntermediateDirectories: true)
        tree.box.makeVault(plain + "/secrets.coffer")
        tree.box.store("which", "plain", vault: plain + "/secrets.coffer")
        #expect(tree.which(cwd: plain) == ("plain", plain + "/secrets.coffer"))
        #expect(tree.which(cwd: plain + "/child") == ("local", tree.box.localVault))
    }

    @Test func theEnvironmentBeatsTheProjectVaultAndTheFlagsBeatTheEnvironment() throws {
        let tree = try Tree()
        let environment = ["COFFER_VAULT": tree.fromEnvironment]
        #expect(tree.which(environment: environment) == ("environment", tree.fromEnvironment))
        #expect(tree.which(["--vault", tree.fromFlag], environment: environment) == ("flag", tree.fromFlag))
        #expect(tree.which(["--local"], environment: environment) == ("local", tree.box.localVault))
        #expect(tree.which(["--vault", tree.fromFlag, "--local"]) == ("flag", tree.fromFlag))
        // An empty COFFER_VAULT counts as unset.
        #expect(tree.which(environment: ["COFFER_VAULT": ""]) == ("project", tree.project))
    }

    @Test func verboseNamesTheVaultOnStderrOnly() throws {
        let box = try Sandbox()
        box.makeVault()
        let result = box.coffer(["list", "-v"])
        #expect(result.status == 0)
        #expect(result.stderr == "coffer: vault \(box.vault)\n")
        #expect(result.stdout.isEmpty)
        #expect(box.coffer(["inspect", "--verbose"]).stderr == "coffer: vault \(box.vault)\n")
    }

    @Test func initLocalCreatesTheDataFolders() throws {
        let box = try Sandbox()
        let result = box.coffer(["init", "--local", "-v", "--passphrase-file", box.passphraseFile] + Sandbox.tinyKDF)
        #expect(result.status == 0)
        #expect(result.stderr.contains("coffer: vault \(box.localVault)\n"))
        #expect(FileManager.default.fileExists(atPath: box.localVault))
        let attributes = try FileManager.default.attributesOfItem(atPath: box.dataHome + "/coffer")
        #expect((attributes[.posixPermissions] as? Int) == 0o700)

        // Without XDG_DATA_HOME the local vault lives under $HOME/.local/share.
        let fallback = box.home + "/.local/share/coffer/local.coffer"
        let home = box.coffer(["init", "--local", "--passphrase-file", box.passphraseFile] + Sandbox.tinyKDF,
                              environment: ["XDG_DATA_HOME": ""])
        #expect(home.status == 0)
        #expect(home.stderr == "coffer: created \(fallback)\n")
        #expect(box.coffer(["list", "--local", "-v"], environment: ["XDG_DATA_HOME": ""]).stderr == "coffer: vault \(fallback)\n")
    }

    // MARK: passphrase sources

    @Test func passphraseFromTheEnvironmentFile() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("env", "env-file-value")
        let result = box.coffer(["get", "env"], environment: ["COFFER_PASSPHRASE_FILE": box.passphraseFile])
        #expect(result.status == 0)
        #expect(result.output == "env-file-value")

        // --passphrase-file beats the environment.
        try box.write(box.root + "/wrong", "wrong passphrase\n")
        let flag = box.coffer(["get", "env", "--passphrase-file", box.passphraseFile],
                              environment: ["COFFER_PASSPHRASE_FILE": box.root + "/wrong"])
        #expect(flag.output == "env-file-value")
        box.expectFailure(3) { box.coffer(["get", "env"], environment: ["COFFER_PASSPHRASE_FILE": box.root + "/wrong"]) }
        box.expectFailure(6) { box.coffer(["get", "env"], environment: ["COFFER_PASSPHRASE_FILE": box.root + "/absent"]) }
    }

    @Test func passphraseFromADescriptor() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("fd", "descriptor-value")
        let environment = box.environment(["PASSFILE": box.passphraseFile])
        // A pipe on descriptor 3.
        let piped = CofferProcess.runShell(
            #"cat "$PASSFILE" | "$0" "$@" --passphrase-fd 3 3<&0 </dev/null"#, ["get", "fd"], environment: environment, cwd: box.work)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.output == "descriptor-value")
        // A file on descriptor 3, while stdin carries the value for set.
        let set = CofferProcess.runShell(
            #"printf 'from-stdin-value\n' | "$0" "$@" --passphrase-fd 3 3<"$PASSFILE""#, ["set", "fd2"],
            environment: environment, cwd: box.work)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(box.value("fd2") == "from-stdin-value")
        // --passphrase-fd beats $COFFER_PASSPHRASE_FILE.
        try box.write(box.root + "/wrong", "wrong passphrase\n")
        let over = CofferProcess.runShell(
            #"cat "$PASSFILE" | "$0" "$@" --passphrase-fd 3 3<&0 </dev/null"#, ["get", "fd"],
            environment: environment.merging(["COFFER_PASSPHRASE_FILE": box.root + "/wrong"]) { $1 }, cwd: box.work)
        #expect(over.output == "descriptor-value", "\(over.stderr)")
        // A descriptor that is not open.
        box.expectFailure(6) { box.coffer(["get", "fd", "--passphrase-fd", "7"]) }
    }

    @Test func passphraseFileLineEndings() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("k", "line-ending-value")
        for (name, text) in [("bare", box.passphrase), ("crlf", box.passphrase + "\r\n")] {
            try box.write(box.root + "/" + name, text)
            #expect(box.coffer(["get", "k", "--passphrase-file", box.root + "/" + name]).output == "line-ending-value")
        }
        try box.write(box.root + "/two", box.passphrase + "\n\n")
        box.expectFailure(3) { box.coffer(["get", "k", "--passphrase-file", box.root + "/two"]) }
    }
}
