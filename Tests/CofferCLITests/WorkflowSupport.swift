import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// How a process ended and what it wrote.
struct WorkflowResult {
    /// The exit code, or 128 + the signal that ended the process.
    var code: Int32
    var output: [UInt8]
    var errors: [UInt8]

    var stdout: String { String(decoding: output, as: UTF8.self) }
    var stderr: String { String(decoding: errors, as: UTF8.self) }
}

/// A program started through `/usr/bin/setsid`, so it has no controlling terminal, with exactly
/// the environment given, `input` on stdin and its stdout and stderr captured.
struct WorkflowProcess {
    let pid: pid_t
    private let outputFD: Int32
    private let errorsFD: Int32

    /// Pipes are created and marked close-on-exec under this lock, so no other spawn of ours inherits them.
    private static let spawnLock = NSLock()

    static func start(_ arguments: [String], environment: [String: String], input: [UInt8] = []) throws -> WorkflowProcess {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        let stdin = try makePipe(), stdout = try makePipe(), stderr = try makePipe()
        // Small inputs fit in the pipe: written before the spawn, the child reads them, then EOF.
        _ = input.withUnsafeBytes { write(stdin.write, $0.baseAddress, $0.count) }
        close(stdin.write)
        defer { [stdin.read, stdout.write, stderr.write].forEach { close($0) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin.read, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr.write, 2)
        // As from a shell: no signal blocked, the usual ones at their default action.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&signals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = (["/usr/bin/setsid"] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let error = posix_spawn(&pid, "/usr/bin/setsid", &actions, &attributes, argv, envp)
        guard error == 0 else {
            [stdout.read, stderr.read].forEach { close($0) }
            throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO)
        }
        return WorkflowProcess(pid: pid, outputFD: stdout.read, errorsFD: stderr.read)
    }

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw POSIXError(.EMFILE) }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }

    /// Reads stdout and stderr to their end and reaps the process; kills it after `timeout` seconds.
    func finish(timeout: Double = 30) -> WorkflowResult {
        var result = WorkflowResult(code: 0, output: [], errors: [])
        var open = [outputFD, errorsFD]
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !open.isEmpty {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                Issue.record("process \(pid) timed out")
                kill(-pid, SIGKILL)  // Its whole process group: setsid made it the leader.
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), Int32(remaining * 1000) + 1) > 0 else { continue }
            for fd in fds where fd.revents != 0 {
                let count = read(fd.fd, &buffer, buffer.count)
                if count > 0 {
                    if fd.fd == outputFD { result.output += buffer[..<count] } else { result.errors += buffer[..<count] }
                } else if count == 0 || errno != EINTR {
                    open.removeAll { $0 == fd.fd }
                }
            }
        }
        [outputFD, errorsFD].forEach { close($0) }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        result.code = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        return result
    }
}

/// A temporary folder with a fresh vault (cheap KDF), HOME and XDG folders, and the built
/// `coffer` binary to run against them.
final class WorkflowVault {
    /// `coffer`, built beside the test bundle.
    static let binary: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("coffer").path
    }()

    let folder: String
    var vault: String { folder + "/secrets.coffer" }
    var passphraseFile: String { folder + "/passphrase" }

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/coffer-workflow-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw POSIXError(.EIO) }
        folder = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for name in ["home", "data", "config", "cache", "runtime"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + name, withIntermediateDirectories: false)
        }
        try write("passphrase", "correct horse battery staple\n")
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build coffer first: \(Self.binary)")
        let created = try coffer(["init", "--kdf-ops", "1", "--kdf-memory", "8"])
        try #require(created.code == 0, "init failed: \(created.stderr)")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A clean environment: only PATH, HOME and XDG folders inside the temporary folder.
    var environment: [String: String] {
        [
            "PATH": "/usr/bin:/bin", "HOME": folder + "/home", "XDG_DATA_HOME": folder + "/data",
            "XDG_CONFIG_HOME": folder + "/config", "XDG_CACHE_HOME": folder + "/cache",
            "XDG_RUNTIME_DIR": folder + "/runtime",
        ]
    }

    /// `coffer SUBCOMMAND --vault V --passphrase-file F ARGUMENTS...`, started.
    func start(_ arguments: [String], input: [UInt8] = []) throws -> WorkflowProcess {
        let full = [Self.binary, arguments[0], "--vault", vault, "--passphrase-file", passphraseFile] + arguments.dropFirst()
        return try WorkflowProcess.start(full, environment: environment, input: input)
    }

    func coffer(_ arguments: [String], input: String = "") throws -> WorkflowResult {
        try start(arguments, input: Array(input.utf8)).finish()
    }

    /// Stores `value` (given on stdin, without a final newline).
    func set(_ name: String, _ value: String, project: String? = nil, domain: String? = nil, noReveal: Bool = false) throws {
        var arguments = ["set", name]
        if let project { arguments += ["--project", project] }
        if let domain { arguments += ["--domain", domain] }
        if noReveal { arguments.append("--no-reveal") }
        let result = try coffer(arguments, input: value)
        try #require(result.code == 0, "set \(name) failed: \(result.stderr)")
    }

    /// Writes a file in the temporary folder and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = folder + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: folder + "/" + name).map { String(decoding: $0, as: UTF8.self) }
    }
}
