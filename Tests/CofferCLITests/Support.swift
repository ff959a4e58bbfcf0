import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a finished `coffer` process left behind.
struct CofferResult {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String

    var output: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs the built `coffer` executable as a child process.
///
/// The child gets a clean environment (nothing from the test's own, so no `COFFER_*` leaks in),
/// and runs in a new session through `setsid -w`: Foundation's `Process` on Linux puts the child in
/// its own process group but keeps the parent's session, so without `setsid` a child could still
/// open the developer's terminal and block on a prompt. Standard output and error go to files,
/// so a chatty child can never fill a pipe and stall.
enum CofferProcess {
    /// The `coffer` executable beside the test bundle (both live in the build's products folder).
    static let executable: String = {
        var starts = [URL(fileURLWithPath: CommandLine.arguments[0]), Bundle.main.bundleURL, Bundle.main.executableURL]
            .compactMap { $0?.standardizedFileURL }
        starts.append(contentsOf: Bundle.allBundles.map(\.bundleURL))
        for start in starts {
            var folder = start
            for _ in 0..<4 {
                let candidate = folder.appendingPathComponent("coffer").path
                if FileManager.default.isExecutableFile(atPath: candidate), !isDirectory(candidate) { return candidate }
                folder.deleteLastPathComponent()
            }
        }
        fatalError("cannot find the coffer executable next to \(starts.map(\.path)); build it first")
    }()

    static let setsid = "/usr/bin/setsid"

    /// Runs `coffer args...` in `cwd` with only `environment` (plus PATH) set.
    static func run(
        _ args: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:], cwd: String
    ) -> (status: Int32, stdout: [UInt8], stderr: String) {
        let result = start(args, stdin: stdin.map(Input.bytes) ?? .none, environment: environment, cwd: cwd).wait()
        return (result.status, result.stdout, result.stderr)
    }

    /// Runs `/bin/sh -c script coffer args...`: inside the script, `"$0" "$@"` is the coffer command.
    /// For what `Process` cannot do directly, such as handing the child an extra descriptor.
    static func runShell(
        _ script: String, _ args: [String], environment: [String: String] = [:], cwd: String
    ) -> CofferResult {
        launch(["/bin/sh", "-c", script, executable] + args, stdin: .none, environment: environment, cwd: cwd).wait()
    }

    enum Input {
        case none
        case bytes([UInt8])
        case pipe(Pipe)
    }

    /// Starts `coffer args...` without waiting for it.
    static func start(_ args: [String], stdin: Input, environment: [String: String], cwd: String) -> Running {
        HotCommandTests.expectBothParsersAgree(args)
        return launch([executable] + args, stdin: stdin, environment: environment, cwd: cwd)
    }

    private static func launch(_ command: [String], stdin: Input, environment: [String: String], cwd: String) -> Running {
        let files = NSTemporaryDirectory() + "coffer-io-" + UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: setsid)
        process.arguments = ["-w"] + command
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        process.environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"].merging(environment) { $1 }
        switch stdin {
        case .none:
            process.standardInput = FileHandle.nullDevice
        case let .bytes(bytes):
            _ = FileManager.default.createFile(atPath: files + ".in", contents: Data(bytes))
            process.standardInput = FileHandle(forReadingAtPath: files + ".in")
        case let .pipe(pipe):
            process.standardInput = pipe
        }
        _ = FileManager.default.createFile(atPath: files + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: files + ".err", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: files + ".out")
        process.standardError = FileHandle(forWritingAtPath: files + ".err")
        do {
            try process.run()
        } catch {
            fatalError("cannot start \(command): \(error)")
        }
        return Running(process: process, files: files)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}

/// A child process that has been started.
struct Running {
    let process: Process
    let files: String

    func wait() -> CofferResult {
        process.waitUntilExit()
        defer {
            for suffix in [".in", ".out", ".err"] { try? FileManager.default.removeItem(atPath: files + suffix) }
        }
        let stdout = FileManager.default.contents(atPath: files + ".out").map { [UInt8]($0) } ?? []
        let stderr = FileManager.default.contents(atPath: files + ".err").map { String(decoding: $0, as: UTF8.self) } ?? ""
        // A child killed by a signal reports 128 + signal, so a crash never passes for a documented code.
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return CofferResult(status: status, stdout: stdout, stderr: stderr)
    }
}

/// A private folder tree for one test: a home, a data home, a working folder, a passphrase file.
/// Removed when the test ends.
final class Sandbox {
    let root: String
    let passphrase = "correct horse battery staple"
    /// Every secret value the test stored; none may ever show up on stderr.
    private(set) var secrets: [String] = []

    var home: String { root + "/home" }
    var dataHome: String { root + "/data" }
    var work: String { root + "/work" }
    var passphraseFile: String { root + "/passphrase" }
    /// The vault most tests use: `work/secrets.coffer`.
    var vault: String { work + "/secrets.coffer" }
    var localVault: String { dataHome + "/coffer/local.coffer" }

    /// Argon2id as cheap as the format allows, for speed.
    static let tinyKDF = ["--kdf-ops", "1", "--kdf-memory", "8"]

    /// A fresh folder in `parent` (a path ending in "/"; the temporary folder unless given).
    init(in parent: String = NSTemporaryDirectory()) throws {
        var template = Array((parent + "coffer-cli-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        root = String(cString: made)
        for folder in [home, dataHome, work] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try write(passphraseFile, passphrase + "\n")
    }

    deinit {
        // Folders a test made read-only must be writable again to be removed.
        _ = try? FileManager.default.subpathsOfDirectory(atPath: root).forEach { chmod(root + "/" + $0, 0o700) }
        chmod(root, 0o700)
        try? FileManager.default.removeItem(atPath: root)
    }

    /// The environment every child gets, plus `extra`.
    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        ["HOME": home, "XDG_DATA_HOME": dataHome].merging(extra) { $1 }
    }

    /// Runs `coffer args...` in `cwd` (default: the working folder).
    @discardableResult
    func coffer(
        _ args: [String], stdin: [UInt8]? = nil, environment extra: [String: String] = [:], cwd: String? = nil
    ) -> CofferResult {
        let result = CofferProcess.run(args, stdin: stdin, environment: environment(extra), cwd: cwd ?? work)
        return CofferResult(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// Runs `coffer args... --vault V --passphrase-file P`.
    @discardableResult
    func unlocked(_ args: [String], stdin: [UInt8]? = nil, vault path: String? = nil) -> CofferResult {
        coffer(args + ["--vault", path ?? vault, "--passphrase-file", passphraseFile], stdin: stdin)
    }

    /// Creates a vault (default: `vault`) with the sandbox's passphrase.
    func makeVault(_ path: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let result = coffer(["init", "--vault", path ?? vault, "--passphrase-file", passphraseFile] + Self.tinyKDF)
        #expect(result.status == 0, "init failed: \(result.stderr)", sourceLocation: sourceLocation)
    }

    /// Stores `value` as `name` through stdin.
    func store(
        _ name: String, _ value: String, _ options: [String] = [], vault path: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        remember(value)
        let result = unlocked(["set", name] + options, stdin: Array(value.utf8), vault: path)
        #expect(result.status == 0, "set \(name) failed: \(result.stderr)", sourceLocation: sourceLocation)
    }

    /// `get name` from the default vault, as text.
    func value(_ name: String, _ options: [String] = [], vault path: String? = nil) -> String? {
        let result = unlocked(["get", name] + options, vault: path)
        return result.status == 0 ? result.output : nil
    }

    func remember(_ secret: String) { secrets.append(secret) }

    func bytes(_ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
    }

    func write(_ path: String, _ text: String) throws {
        try write(path, Array(text.utf8))
    }

    func write(_ path: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Names in a vault, from `list --json` (which needs no passphrase).
    func names(vault path: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        try listJSON(["--vault", path ?? vault], sourceLocation: sourceLocation).map { $0["name"] as? String ?? "?" }
    }

    func listJSON(_ options: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let result = coffer(["list", "--json"] + options)
        #expect(result.status == 0, "list failed: \(result.stderr)", sourceLocation: sourceLocation)
        let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout))
        return try #require(parsed as? [[String: Any]], sourceLocation: sourceLocation)
    }

    /// Runs a command that must fail with `status`, leave `vault` byte for byte as it was, and keep
    /// every secret and the passphrase off stderr. Returns the result for further checks.
    @discardableResult
    func expectFailure(
        _ status: Int32, vault path: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
        _ run: () throws -> CofferResult
    ) rethrows -> CofferResult {
        let path = path ?? vault
        let before = bytes(path)
        let result = try run()
        #expect(result.status == status, "exit \(result.status), stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(bytes(path) == before, "the vault changed after a failure", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("coffer: "), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        expectNoSecrets(result.stderr, sourceLocation: sourceLocation)
        return result
    }

    /// Checks that no stored secret and not the passphrase appear in `text`.
    func expectNoSecrets(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in secrets + [passphrase] where !secret.isEmpty {
            #expect(!text.contains(secret), "a secret leaked: \(text)", sourceLocation: sourceLocation)
        }
    }
}

/// Whether this process runs as root, where permission bits do not stop writes.
let runningAsRoot = getuid() == 0
