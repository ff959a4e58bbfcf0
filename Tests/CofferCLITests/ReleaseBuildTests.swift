import Foundation
import Testing

/// The optimised binary (`make release`, which `make test` builds first): test hooks are compiled
/// out of it. Runs only when that binary exists beside the debug build.
@Suite struct ReleaseBuildTests {
    /// `.build/<triple>/release/coffer`, beside the debug folder the tests run from.
    static let releaseExecutable: String? = {
        let debug = URL(fileURLWithPath: CofferProcess.executable)
        let release = debug.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("release/coffer").path
        return FileManager.default.isExecutableFile(atPath: release) ? release : nil
    }()

    /// With `COFFER_TEST_CRASH_AT` set, the debug binary kills itself mid-save (the crash tests
    /// rely on it); the release binary saves as if the variable were not there.
    @Test(.enabled(if: releaseExecutable != nil, "no release build: run `make release`"))
    func theReleaseBinaryIgnoresTheCrashHook() throws {
        let box = try Sandbox()
        box.makeVault()
        let script = #"printf 'hook-ignored' | COFFER_TEST_CRASH_AT=written "$1" set from.release --vault "$2" --passphrase-file "$3""#
        let ran = CofferProcess.runShell(
            script, [releaseExecutableOrEmpty, box.vault, box.passphraseFile], environment: box.environment(), cwd: box.work)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(box.value("from.release") == "hook-ignored")

        let debug = box.coffer(["set", "from.debug", "--vault", box.vault, "--passphrase-file", box.passphraseFile],
                               stdin: Array("x".utf8), environment: ["COFFER_TEST_CRASH_AT": "written"])
        #expect(debug.status != 0 && box.value("from.debug") == nil, "the debug build no longer honours the hook: this test proves nothing")
    }

    /// With `COFFER_TEST_AFTER_IMPORT_SEAL` set, the debug binary's `import` runs the command
    /// between its seal and its lock; the release binary does not.
    @Test(.enabled(if: releaseExecutable != nil, "no release build: run `make release`"))
    func theReleaseBinaryIgnoresTheImportHook() throws {
        let box = try Sandbox()
        box.makeVault()
        try box.write(box.work + "/one.env", "ONE=one-value\n")
        let marker = box.root + "/hook-ran"
        let script = #"COFFER_TEST_AFTER_IMPORT_SEAL=": > '$4'" "$1" import one.env --vault "$2" --passphrase-file "$3""#
        let ran = CofferProcess.runShell(
            script, [releaseExecutableOrEmpty, box.vault, box.passphraseFile, marker], environment: box.environment(), cwd: box.work)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(box.value("ONE") == "one-value")
        #expect(!FileManager.default.fileExists(atPath: marker))

        try box.write(box.work + "/two.env", "TWO=two-value\n")
        let debug = box.coffer(["import", "two.env", "--vault", box.vault, "--passphrase-file", box.passphraseFile],
                               environment: ["COFFER_TEST_AFTER_IMPORT_SEAL": ": > '\(marker)'"])
        #expect(debug.status == 0 && FileManager.default.fileExists(atPath: marker), "the debug build no longer honours the hook: this test proves nothing")
    }

    private var releaseExecutableOrEmpty: String { Self.releaseExecutable ?? "" }
}
