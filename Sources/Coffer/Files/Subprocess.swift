#if canImport(Glibc)
import Glibc
#endif

/// Runs helper programs (git) and captures their standard output.
public enum Subprocess {
    public struct Result: Sendable {
        public let status: Int32
        public let output: [UInt8]
    }

    /// Runs `arguments` (searched in PATH) with stdin from `input` (else /dev/null) and stderr
    /// inherited (or, `quiet`, sent to /dev/null).
    public static func run(_ arguments: [String], input: [UInt8]? = nil, quiet: Bool = false) throws -> Result {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else { throw CofferError.io(path: "pipe", reason: String(cString: strerror(errno))) }
        for fd in pipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Input goes through an unnamed temporary file: a pipe could fill while the child writes
        // output nobody reads yet.
        let inputFile = input.flatMap { _ in tmpfile() }
        defer { if let inputFile { fclose(inputFile) } }
        if let input {
            guard let inputFile, fwrite(input, 1, input.count, inputFile) == input.count, fflush(inputFile) == 0 else {
                throw CofferError.io(path: "temporary file", reason: String(cString: strerror(errno)))
            }
            rewind(inputFile)
            posix_spawn_file_actions_adddup2(&actions, fileno(inputFile), 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        if quiet { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
        close(pipe[1])
        defer { close(pipe[0]) }
        guard spawned == 0 else { throw CofferError.io(path: "", reason: "cannot run \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(pipe[0], &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            output += buffer[..<count]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7F == 0
        return Result(status: exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), output: output)
    }

    /// Standard output as text without the final newline; fails unless the exit status is 0.
    public static func text(_ arguments: [String]) throws -> String {
        let result = try run(arguments)
        guard result.status == 0 else {
            throw CofferError.io(path: "", reason: "\(arguments.joined(separator: " ")) failed with exit status \(result.status)")
        }
        var text = String(decoding: result.output, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
