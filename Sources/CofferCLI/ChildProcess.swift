import ArgumentParser
import Coffer
import CProcessControl
#if canImport(Glibc)
import Glibc
#endif

/// Write end of the pipe the signal handler reports to; set once, before any handler is installed.
nonisolated(unsafe) private var signalPipe: Int32 = -1

/// The command `run` starts: extra environment variables, signals forwarded, output optionally masked.
enum ChildProcess {
    /// Where the command's output goes.
    enum Output {
        /// To our stdout and stderr directly.
        case direct
        /// Through a pipe each, masked.
        case pipes(SecretMasker)
        /// Through a pseudo-terminal, masked, for a command whose output is a terminal: the command
        /// gets the pseudo-terminal as controlling terminal, stdout, and stdin and stderr where
        /// ours are terminals; keys typed are relayed to it, and its window size follows ours.
        case terminal(SecretMasker)
    }

    static let forwarded = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Runs `command` (searched in PATH) and returns the exit code to report: the child's own,
    /// or 128 + the signal that ended it.
    static func run(
        _ command: [String], adding environment: [(variable: String, value: [UInt8])], passing passed: Set<String>,
        output: Output
    ) throws -> Int32 {
        var originalMask = sigset_t()
        let terminal: PseudoTerminal? = if case .terminal = output { try PseudoTerminal() } else { nil }
        let signals = try installSignalHandlers(savingMask: &originalMask, windowChanges: terminal != nil)
        var pumps: [Pump] = []
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var childEnds: [Int32] = []
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setsigmask(&attributes, &originalMask)
        var flags = Int16(POSIX_SPAWN_SETSIGMASK)

        switch output {
        case .direct:
            break
        case let .pipes(masker):
            for target: Int32 in [1, 2] {
                let (readEnd, writeEnd) = try makePipe()
                posix_spawn_file_actions_adddup2(&actions, writeEnd, target)
                childEnds.append(writeEnd)
                pumps.append(Pump(source: readEnd, target: target, masker: masker))
            }
        case let .terminal(masker):
            let terminal = terminal!
            _ = coffer_copy_window_size(1, terminal.primary)
            // A new session, whose first terminal opened becomes its controlling terminal.
            flags |= coffer_spawn_setsid_flag()
            posix_spawn_file_actions_addopen(&actions, 1, terminal.secondaryPath, O_RDWR, 0)
            if isatty(0) == 1 { posix_spawn_file_actions_adddup2(&actions, 1, 0) }
            if isatty(2) == 1 {
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            } else {
                let (readEnd, writeEnd) = try makePipe()
                posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
                childEnds.append(writeEnd)
                pumps.append(Pump(source: readEnd, target: 2, masker: masker))
            }
            pumps.append(Pump(source: terminal.primary, target: 1, masker: masker))
        }
        posix_spawnattr_setflags(&attributes, flags)
        let pid = try spawn(command, adding: environment, passing: passed, actions: &actions, attributes: &attributes)
        childEnds.forEach { close($0) }
        // Keys go to the command as typed (Ctrl-C included, which its terminal turns into SIGINT).
        let keyboard = terminal.flatMap { _ in RawKeyboard() }
        defer { keyboard?.restore() }

        var status: Int32?
        var relayingKeys = keyboard != nil
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while status == nil || !pumps.isEmpty {
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
                + pumps.map { pollfd(fd: $0.source, events: Int16(POLLIN), revents: 0) }
            if relayingKeys { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            // Once the child has ended, only drain what is already there: a process it left
            // behind may hold the pipes open indefinitely.
            let ready = poll(&fds, nfds_t(fds.count), status == nil ? -1 : 0)
            if ready < 0 {
                guard errno == EINTR else { throw Failure(.io, "poll: \(String(cString: strerror(errno)))") }
                continue
            }
            if ready == 0 { break }
            if fds[0].revents != 0 {
                for (signal, fromKernel) in receivedSignals(signals) where status == nil {
                    var raw: Int32 = 0
                    if signal == SIGCHLD {
                        if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
                    } else if signal == SIGWINCH, let terminal {
                        _ = coffer_copy_window_size(1, terminal.primary)
                    } else if !fromKernel || terminal != nil {
                        // A terminal's signals reach the command directly, unless it has a terminal of its own.
                        kill(pid, signal)
                    }
                }
            }
            if relayingKeys, fds[fds.count - 1].revents != 0, let terminal {
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count > 0 {
                    Terminal.writeAll(terminal.primary, Array(buffer[..<count]))
                } else if count == 0 || errno != EINTR {
                    relayingKeys = false
                }
            }
            for index in pumps.indices.reversed() where fds[index + 1].revents != 0 {
                if !pumps[index].pump(using: &buffer) { pumps.remove(at: index) }
            }
        }
        for index in pumps.indices { pumps[index].finish() }
        let raw = status ?? 0
        return raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
    }

    /// Spawns `command` with our environment plus `environment`, which replaces variables of the
    /// same names, and without the variables `RunBoundary` withholds (the command gets secrets,
    /// not a way to the vault or its keys) except those in `passed`. Values go only into the
    /// environment block, which is wiped once the child has it.
    private static func spawn(
        _ command: [String], adding environment: [(variable: String, value: [UInt8])], passing passed: Set<String>,
        actions: inout posix_spawn_file_actions_t, attributes: inout posix_spawnattr_t
    ) throws -> pid_t {
        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        let replaced = Set(environment.map(\.variable))
        var variables: [UnsafeMutablePointer<CChar>?] = []
        var pointer = environ
        while let entry = pointer.pointee {
            let name = String(String(cString: entry).prefix { $0 != "=" })
            if !replaced.contains(name) && (!RunBoundary.isWithheld(name) || passed.contains(name)) { variables.append(entry) }
            pointer += 1
        }
        let secrets = environment.map { variable, value in
            let head = Array(variable.utf8) + [UInt8(ascii: "=")]
            let entry = UnsafeMutableRawBufferPointer.allocate(byteCount: head.count + value.count + 1, alignment: 1)
            entry.copyBytes(from: head)
            UnsafeMutableRawBufferPointer(rebasing: entry[head.count...]).copyBytes(from: value)
            entry[entry.count - 1] = 0
            return entry
        }
        defer {
            for entry in secrets {
                entry.initializeMemory(as: UInt8.self, repeating: 0)
                entry.deallocate()
            }
        }
        variables += secrets.map { $0.baseAddress!.assumingMemoryBound(to: CChar.self) } + [nil]

        var pid: pid_t = 0
        let error = posix_spawnp(&pid, command[0], &actions, &attributes, arguments, variables)
        guard error == 0 else {
            Terminal.printError("\(command[0]): \(String(cString: strerror(error)))")
            throw ExitCode(error == ENOENT ? 127 : 126)
        }
        return pid
    }

    /// A pipe whose ends are closed on exec.
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw Failure(.io, "pipe: \(String(cString: strerror(errno)))") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }

    /// Routes SIGCHLD, the forwarded signals and (with `windowChanges`) SIGWINCH to a pipe
    /// (self-pipe trick) and returns its read end. They are unblocked for coffer (a parent may
    /// have blocked them), and the mask coffer started with is saved in `mask` for the child.
    /// A signal coffer ignores (under nohup, say) stays ignored, and so is ignored by the child too.
    private static func installSignalHandlers(savingMask mask: inout sigset_t, windowChanges: Bool) throws -> Int32 {
        let (readEnd, writeEnd) = try makePipe()
        for end in [readEnd, writeEnd] { _ = fcntl(end, F_SETFL, O_NONBLOCK) }
        signalPipe = writeEnd
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { signal, info, _ in
            let saved = errno
            // Two bytes, written atomically: the signal, and whether the kernel sent it (a terminal's Ctrl-C).
            var report: (UInt8, UInt8) = (UInt8(truncatingIfNeeded: signal), info?.pointee.si_code == Int32(SI_KERNEL) ? 1 : 0)
            _ = withUnsafeBytes(of: &report) { write(signalPipe, $0.baseAddress, 2) }
            errno = saved
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP
        var handled = sigset_t()
        sigemptyset(&handled)
        for signal in [SIGCHLD] + (windowChanges ? [SIGWINCH] : []) + forwarded {
            sigaddset(&handled, signal)
            var current = sigaction()
            sigaction(signal, nil, &current)
            if forwarded.contains(signal)
                && unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) {
                continue
            }
            sigaction(signal, &action, nil)
        }
        pthread_sigmask(SIG_UNBLOCK, &handled, &mask)
        return readEnd
    }

    /// The signals reported since the last call: number, and whether the kernel sent it.
    private static func receivedSignals(_ fd: Int32) -> [(signal: Int32, fromKernel: Bool)] {
        var reports: [(Int32, Bool)] = []
        var bytes = [UInt8](repeating: 0, count: 256)
        while true {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return reports }
            for index in stride(from: 0, to: count - 1, by: 2) { reports.append((Int32(bytes[index]), bytes[index + 1] == 1)) }
        }
    }
}

/// A pseudo-terminal pair: coffer keeps the primary side, the command opens the secondary by path
/// (so that it becomes the controlling terminal of the command's new session).
private struct PseudoTerminal {
    let primary: Int32
    let secondaryPath: String

    init() throws {
        var primary: Int32 = -1, secondary: Int32 = -1
        guard openpty(&primary, &secondary, nil, nil, nil) == 0 else {
            throw Failure(.io, "cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        defer { close(secondary) }
        var name = [CChar](repeating: 0, count: 256)
        guard ttyname_r(secondary, &name, name.count) == 0 else {
            close(primary)
            throw Failure(.io, "cannot name the pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(primary, F_SETFD, FD_CLOEXEC)
        self.primary = primary
        secondaryPath = String(cString: name)
    }
}

/// Our terminal (stdin) in raw mode while keys are relayed, so each reaches the command as typed.
private struct RawKeyboard {
    private let saved: termios

    /// Nil when stdin is not a terminal.
    init?() {
        var settings = termios()
        guard isatty(0) == 1, tcgetattr(0, &settings) == 0 else { return nil }
        saved = settings
        cfmakeraw(&settings)
        tcsetattr(0, TCSANOW, &settings)
    }

    func restore() {
        var settings = saved
        tcsetattr(0, TCSANOW, &settings)
    }
}

/// Copies one of the child's output streams to ours through a masker.
private struct Pump {
    let source: Int32
    let target: Int32
    var masker: SecretMasker

    /// Copies what can be read now; at end of stream (or EIO: a terminal whose other side is
    /// closed), finishes and returns false.
    mutating func pump(using buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { return true }
        guard count > 0 else {
            finish()
            return false
        }
        Terminal.writeAll(target, masker.process(Array(buffer[..<count])))
        return true
    }

    /// Writes what the masker still holds and closes the source.
    mutating func finish() {
        Terminal.writeAll(target, masker.finish())
        close(source)
    }
}
