import Benchmark
import BenchmarkSupport
#if canImport(Glibc)
import Glibc
#endif

/// Whole commands: the `coffer` binary run as a user runs it, at 1k, 10k and 100k entries named
/// `svc.key.N` with 44-character values (the library-level figures are VaultBenchmarks'):
/// - `Command.get.N`: `coffer get NAME` with a session (`coffer unlock`'s $COFFER_SESSION).
/// - `Command.set.N`: `coffer set NAME --overwrite --from-file F` with a session.
/// - `Command.rotate.N`: `coffer rotate` with a passphrase file (Argon2id 1 pass, 8 MiB).
///
/// The binary is $COFFER, else the `coffer` built beside this benchmark (this package depends on
/// it, so `swift package benchmark` builds it: release, Swift's runtime linked dynamically, where
/// `make release` links it in). Each setup makes its vault with that binary (`init`, `import`)
/// in a fresh folder that is also the commands' HOME and XDG folders (trust state, sessions).
///
/// Measured: wall clock, and the child's CPU time (user + system) and peak resident memory, from
/// `wait4`, as custom metrics. The allocation count (`mallocCountTotal`) is this process's: it
/// cannot see the child's allocations, only that spawning stays a fixed cost. That count moved by
/// 2 between a working copy and a clean clone in another folder (CI), so it is held within 4,
/// not exactly as the library benchmarks' counts are.
let benchmarks: @Sendable () -> Void = {
    let scales: [(label: String, entries: Int, iterations: Int)] = [
        ("1k", 1_000, 50),
        ("10k", 10_000, 20),
        ("100k", 100_000, 5),
    ]
    let spawning: [BenchmarkMetric: BenchmarkThresholds] = [.mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 4])]

    let commands: [(name: String, session: Bool, arguments: @Sendable (CommandFixture) -> [String])] = [
        ("get", true, { ["get", $0.probeName, "--vault", $0.vault] }),
        ("set", true, { ["set", $0.probeName, "--overwrite", "--from-file", $0.valueFile, "--vault", $0.vault] }),
        ("rotate", false, { ["rotate", "--vault", $0.vault, "--passphrase-file", $0.passphraseFile] }),
    ]

    for scale in scales {
        let configuration = Benchmark.Configuration(
            metrics: [.wallClock, .mallocCountTotal, CommandFixture.childCPU, CommandFixture.childPeak],
            timeUnits: .milliseconds,
            warmupIterations: 1,
            maxDuration: .seconds(2),
            maxIterations: scale.iterations,
            thresholds: spawning)
        let entries = scale.entries

        for command in commands {
            Benchmark("Command.\(command.name).\(scale.label)", configuration: configuration) { benchmark, fixture in
                for _ in benchmark.scaledIterations {
                    fixture.run(command.arguments(fixture), session: command.session, into: benchmark)
                }
            } setup: {
                CommandFixture(entries: entries)
            } teardown: {
                CommandFixture.removeAll()
            }
        }
    }
}

/// A vault of `entries` secrets made with the binary, a session for it, and the environment
/// the commands run in.
final class CommandFixture: @unchecked Sendable {
    static let childCPU = BenchmarkMetric.custom("child CPU (µs)")
    static let childPeak = BenchmarkMetric.custom("child peak resident (KiB)")

    let binary: String
    let folder: String
    let vault: String
    let passphraseFile: String
    let valueFile: String
    /// An entry in the middle of the canonical order.
    let probeName: String
    private let environment: [String]
    private let sessionVariable: String

    nonisolated(unsafe) private static var folders: [String] = []

    init(entries count: Int) {
        binary = Self.binary()
        let folder = TemporaryFolder.make()
        self.folder = folder
        Self.folders.append(folder)
        vault = folder + "/bench.coffer"
        passphraseFile = folder + "/passphrase"
        valueFile = folder + "/value"
        probeName = "svc.key.\(count / 2)"
        environment = ["HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"].map { "\($0)=\(folder)" }
            + ["PATH=/usr/bin:/bin"]
        var generator = SplitMix64(seed: 0xC0FFEE)
        Self.write(passphraseFile, Array("bench\n".utf8))
        Self.write(valueFile, generator.secretValue())
        var secrets: [UInt8] = []
        for index in 0..<count {
            secrets += Array("svc.key.\(index)=".utf8) + generator.secretValue() + [0x0A]
        }
        Self.write(folder + "/secrets.env", secrets)
        let tiny = ["--kdf-ops", "1", "--kdf-memory", "8", "--passphrase-file", passphraseFile]
        _ = Self.spawn(binary, ["init", "--vault", vault] + tiny, environment: environment)
        _ = Self.spawn(binary, ["import", folder + "/secrets.env", "--vault", vault, "--passphrase-file", passphraseFile], environment: environment)
        let unlock = Self.spawn(
            binary, ["unlock", "--vault", vault, "--passphrase-file", passphraseFile], environment: environment, captureOutput: true)
        // "export COFFER_SESSION=TOKEN;\n"
        let line = String(decoding: unlock.output, as: UTF8.self)
        guard let start = line.range(of: "export ")?.upperBound, let end = line.firstIndex(of: ";") else {
            fatalError("coffer unlock printed no session: \(line)")
        }
        sessionVariable = String(line[start..<end])
    }

    /// Runs `coffer ARGUMENTS` and records the child's CPU time and peak memory.
    func run(_ arguments: [String], session: Bool, into benchmark: Benchmark) {
        let outcome = Self.spawn(binary, arguments, environment: session ? environment + [sessionVariable] : environment)
        let cpu = outcome.usage.ru_utime.tv_sec * 1_000_000 + outcome.usage.ru_utime.tv_usec
            + outcome.usage.ru_stime.tv_sec * 1_000_000 + outcome.usage.ru_stime.tv_usec
        benchmark.measurement(Self.childCPU, Int(cpu))
        benchmark.measurement(Self.childPeak, Int(outcome.usage.ru_maxrss))
    }

    static func removeAll() {
        for folder in folders { _ = spawn("/bin/rm", ["-rf", folder], environment: []) }
        folders.removeAll()
    }

    /// $COFFER, else `coffer` in this executable's folder.
    private static func binary() -> String {
        if let path = getenv("COFFER") { return String(cString: path) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        precondition(count > 0, "cannot read /proc/self/exe")
        let executable = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)]) + "/coffer"
    }

    private static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        precondition(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count, "short write to \(path)")
        close(fd)
    }

    /// Runs `path ARGUMENTS` with exactly `environment`, stdin and stderr on /dev/null, stdout
    /// on /dev/null or (with `captureOutput`) read back; stops the benchmark when it fails.
    private static func spawn(
        _ path: String, _ arguments: [String], environment: [String], captureOutput: Bool = false
    ) -> (usage: rusage, output: [UInt8]) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipeEnds: [Int32] = [-1, -1]
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        if captureOutput {
            precondition(pipe(&pipeEnds) == 0, "pipe failed")
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
            posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        precondition(spawned == 0, "cannot run \(path): \(String(cString: strerror(spawned)))")
        var output: [UInt8] = []
        if captureOutput {
            close(pipeEnds[1])
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(pipeEnds[0], &chunk, chunk.count)
                if count <= 0 { break }
                output += chunk[..<count]
            }
            close(pipeEnds[0])
        }
        var status: Int32 = 0
        var usage = rusage()
        precondition(wait4(pid, &status, 0, &usage) == pid, "wait4 failed")
        precondition(status == 0, "\(path) \(arguments.joined(separator: " ")) failed (wait status \(status))")
        return (usage, output)
    }
}
