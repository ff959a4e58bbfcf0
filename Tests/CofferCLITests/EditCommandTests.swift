import Coffer
import Foundation
import Testing

/// `coffer edit` driven by scripted editors: each script edits the scratch file in place, as a
/// person would, and the vault is checked after each; no plaintext may remain in the scratch folder.
@Suite struct EditCommandTests {
    /// A sandbox with a vault holding a, b and c (c described), and a scratch folder for edits.
    final class EditBox {
        let box: Sandbox
        var scratch: String { box.root + "/run" }

        init() throws {
            box = try Sandbox()
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            box.makeVault()
            box.store("a", "alpha-value-1")
            box.store("b", "bravo-value-2")
            box.store("c", "charlie-value-3", ["--description", "the c secret"])
        }

        /// Runs `coffer edit` with `script` as $EDITOR (its file is "$1").
        func edit(_ script: String, _ options: [String] = [], unsafeTmp: Bool = true) throws -> CofferResult {
            let editor = box.root + "/editor.sh"
            try box.write(editor, "#!/bin/sh\nset -e\nf=\"$1\"\n" + script + "\n")
            chmod(editor, 0o755)
            return box.coffer(
                ["edit", "--vault", box.vault, "--passphrase-file", box.passphraseFile] + (unsafeTmp ? ["--unsafe-tmp"] : []) + options,
                environment: ["EDITOR": editor, "XDG_RUNTIME_DIR": scratch])
        }

        /// Runs `coffer edit` on a pseudo-terminal with `script` as $EDITOR (the same body as `edit`'s);
        /// returns what the terminal showed, ending with the exit status as `exit N`.
        func editOnTerminal(_ script: String) throws -> String {
            let editor = box.root + "/editor.sh"
            try box.write(editor, "#!/bin/sh\nf=\"$1\"\n" + script + "\n")
            chmod(editor, 0o755)
            var terminal = try TerminalPromptTests.OnTerminal(
                "'\(CofferProcess.executable)' edit --unsafe-tmp --vault '\(box.vault)' --passphrase-file '\(box.passphraseFile)'; echo \"exit $?\"",
                sandbox: box, environment: ["EDITOR": editor, "XDG_RUNTIME_DIR": scratch])
            try terminal.type([])
            return terminal.text
        }

        func generation() throws -> UInt64 { try Vault.open(at: box.vault).generation }

        /// Nothing is left under the scratch folder: the private folder and its file are gone.
        func expectScratchEmpty(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let left = try FileManager.default.subpathsOfDirectory(atPath: scratch)
            #expect(left.isEmpty, "left in the scratch folder: \(left)", sourceLocation: sourceLocation)
        }
    }

    @Test func addChangeDeleteAndRenameApplyInOneSaveKeepingTheRenamedMetadata() throws {
        let edit = try EditBox()
        let box = edit.box
        let before = try edit.generation()
        let createdC = try box.listJSON(["--vault", box.vault]).first { $0["name"] as? String == "c" }?["created"] as? String
        let result = try edit.edit("""
            sed -i -e 's/^a=.*/a="alpha-changed"/' -e '/^b=/d' -e 's/^c=/c.renamed=/' "$f"
            echo 'added="a new value"' >> "$f"
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "coffer: added: added; changed: a; removed: b; renamed: c -> c.renamed (generation \(before + 1))\n")
        box.remember("alpha-changed")
        box.expectNoSecrets(result.stderr + result.output)
        #expect(try edit.generation() == before + 1)
        #expect(box.value("a") == "alpha-changed")
        #expect(box.value("added") == "a new value")
        #expect(box.value("b") == nil)
        #expect(box.value("c") == nil)
        #expect(box.value("c.renamed") == "charlie-value-3")
        let renamed = try #require(try box.listJSON(["--vault", box.vault]).first { $0["name"] as? String == "c.renamed" })
        #expect(renamed["description"] as? String == "the c secret")
        #expect(renamed["created"] as? String == createdC)
        try edit.expectScratchEmpty()
    }

    @Test func anUnchangedFileMakesNoNewGeneration() throws {
        let edit = try EditBox()
        let before = edit.box.bytes(edit.box.vault)
        let result = try edit.edit("""
            grep -q '^a="alpha-value-1"$' "$f"
            [ "$(stat -c %a "$f")" = 600 ] && [ "$(stat -c %a "$(dirname "$f")")" = 700 ]
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "coffer: no changes\n")
        #expect(edit.box.bytes(edit.box.vault) == before)
        try edit.expectScratchEmpty()
    }

    @Test func brokenSyntaxWithoutATerminalChangesNothingAndNamesTheLine() throws {
        let edit = try EditBox()
        let result = try edit.box.expectFailure(1) {
            try edit.edit("sed -i 's/^a=.*/a=\"alpha-changed/' \"$f\"")
        }
        #expect(result.stderr.contains("secrets.env:"), "\(result.stderr)")
        #expect(result.stderr.contains("nothing changed"))
        try edit.expectScratchEmpty()
    }

    /// On a terminal a syntax error reopens the editor with the error on top; the fixed text is applied.
    @Test func onATerminalASyntaxErrorReopensTheEditorWithTheErrorOnTop() throws {
        let edit = try EditBox()
        let box = edit.box
        let text = try edit.editOnTerminal("""
            if grep -q '^# !! error: secrets.env:' "$f"; then sed -i 's/^a b c$/a="alpha-fixed"/' "$f"
            else sed -i 's/^a=.*/a b c/' "$f"; fi
            """)
        #expect(text.contains("coffer: changed: a ("), "\(text)")
        #expect(text.contains("exit 0"))
        #expect(box.value("a") == "alpha-fixed")
        try edit.expectScratchEmpty()
    }

    /// On a terminal, a concurrent write makes the edit apply nothing and offers the edited text
    /// again, naming what changed meanwhile; saving it then applies it to the current vault.
    @Test func onATerminalAConcurrentWriteOffersTheEditedTextAgain() throws {
        let edit = try EditBox()
        let box = edit.box
        let text = try edit.editOnTerminal("""
            if grep -q '^# !! .* changed while you edited' "$f"; then
              grep -q '^# !! changed meanwhile: added: other$' "$f" || exit 7
              grep -q '^a="alpha-changed"$' "$f" || exit 8
            else
              printf 'from-elsewhere' | '\(CofferProcess.executable)' set other --vault '\(box.vault)' --passphrase-file '\(box.passphraseFile)'
              sed -i 's/^a=.*/a="alpha-changed"/' "$f"
            fi
            """)
        #expect(text.contains("coffer: changed: a; removed: other ("), "\(text)")
        #expect(text.contains("exit 0"))
        #expect(box.value("a") == "alpha-changed")
        try edit.expectScratchEmpty()
    }

    @Test func aFailingEditorChangesNothing() throws {
        let edit = try EditBox()
        let result = try edit.box.expectFailure(1) {
            try edit.edit("sed -i 's/^a=.*/a=\"alpha-changed\"/' \"$f\"\nexit 3")
        }
        #expect(result.stderr.contains("exit status 3"))
        try edit.expectScratchEmpty()
    }

    @Test func ctrlCKillsTheEditorAndTheFileIsStillWiped() throws {
        let edit = try EditBox()
        // Ctrl-C signals the whole foreground group: coffer, the shell and the editor.
        let result = try edit.box.expectFailure(1) { try edit.edit("kill -INT 0\nexit 0") }
        #expect(result.stderr.contains("exit status 130"))
        try edit.expectScratchEmpty()
    }

    @Test func sigtermWhileEditingWipesTheFileAndEndsCofferBySIGTERM() throws {
        let edit = try EditBox()
        let before = edit.box.bytes(edit.box.vault)
        let result = try edit.edit("kill -TERM 0\nexit 0")
        #expect(result.status == 128 + SIGTERM)
        #expect(edit.box.bytes(edit.box.vault) == before)
        try edit.expectScratchEmpty()
    }

    @Test func aConcurrentWriteDuringTheEditAppliesNothingAndSaysSo() throws {
        let edit = try EditBox()
        let box = edit.box
        let coffer = CofferProcess.executable
        let result = try edit.edit("""
            printf 'from-elsewhere' | "\(coffer)" set other --vault "\(box.vault)" --passphrase-file "\(box.passphraseFile)"
            sed -i 's/^a=.*/a="alpha-changed"/' "$f"
            """)
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("changed while you edited"))
        #expect(result.stderr.contains("nothing applied"))
        #expect(box.value("a") == "alpha-value-1")
        #expect(box.value("other") == "from-elsewhere")
        try edit.expectScratchEmpty()
    }

    @Test func noRevealEntriesShowAPlaceholderThatKeepsTheValue() throws {
        let edit = try EditBox()
        let box = edit.box
        box.store("hidden", "never-shown-value", ["--no-reveal"])
        let result = try edit.edit("""
            grep -q '^hidden="<coffer: value kept>"$' "$f"
            ! grep -q never-shown-value "$f"
            sed -i 's/^a=.*/a="alpha-changed"/' "$f"
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("coffer: changed: a ("))
        let run = box.coffer([
            "run", "--vault", box.vault, "--passphrase-file", box.passphraseFile, "--only", "hidden", "--no-mask", "--",
            "/bin/sh", "-c", "printf %s \"$HIDDEN\"",
        ])
        #expect(run.output == "never-shown-value")
        let entry = try #require(try box.listJSON(["--vault", box.vault]).first { $0["name"] as? String == "hidden" })
        #expect(entry["noReveal"] as? Bool == true)
        try edit.expectScratchEmpty()
    }

    @Test func yamlFormatEditsTheSelectedScopeOnly() throws {
        let edit = try EditBox()
        let box = edit.box
        box.store("db.url", "postgres://prod", ["--project", "shop", "--domain", "prod"])
        let result = try edit.edit("""
            grep -q '^"db.url": "postgres://prod"$' "$f"
            ! grep -q alpha "$f"
            sed -i 's|postgres://prod|postgres://prod-2|' "$f"
            """, ["--format", "yaml", "--project", "shop", "--domain", "prod"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(box.value("db.url", ["--project", "shop", "--domain", "prod"]) == "postgres://prod-2")
        #expect(box.value("a") == "alpha-value-1")
        try edit.expectScratchEmpty()
    }

    @Test func plaintextOnPersistentStorageIsRefusedWithoutUnsafeTmp() throws {
        let edit = try EditBox()
        let result = try edit.box.expectFailure(1) { try edit.edit("true", unsafeTmp: false) }
        #expect(result.stderr.contains("--unsafe-tmp"))
        try edit.expectScratchEmpty()
    }
}
