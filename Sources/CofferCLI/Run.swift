import ArgumentParser
import Coffer
import CofferCrypto
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a command with secrets in its environment.",
            discussion: """
                Each secret the scope resolves becomes a variable: pg.user is PG_USER (APP_PG_USER with \
                --prefix APP_). With --only or --env, only those secrets are passed; --env DB_USER=pg.user \
                puts pg.user in DB_USER exactly. No-reveal secrets are passed too. Values never appear in \
                the command's arguments.

                The command gets the secrets, not the vault: the vault is unlocked and let go before it \
                starts, and coffer's COFFER_ variables ($COFFER_SESSION, $COFFER_PASSPHRASE_FILE, \
                $COFFER_IDENTITY_FILE, $COFFER_IDENTITY, $COFFER_VAULT; all but $COFFER_VAULT_PIN) are not \
                passed on unless --pass-env NAME asks for one. coffer is not dumpable, so the command \
                cannot read coffer's environment or memory through /proc either. It can still read any \
                file you can, such as a --passphrase-file named on coffer's command line: prefer a \
                session, --passphrase-fd or an identity scoped to what the job needs.

                Variable names: an entry whose name would set a variable that steers the loader, a shell \
                or a runtime (LD_*, DYLD_*, BASH_FUNC_*, BASH_ENV, ENV, SHELLOPTS, BASHOPTS, PS4, \
                PROMPT_COMMAND, IFS, PATH, HOME, SHELL, PYTHONPATH, PYTHONSTARTUP, NODE_OPTIONS, PERL5OPT, \
                RUBYOPT, JAVA_TOOL_OPTIONS and a few more; Specs/run.md) stops run before the command \
                starts, unless given with --env. Two entries mapping to one variable (api_key, API_KEY) \
                are an error naming both.

                Masking: when standard output or standard error is not a terminal (logs, CI), the command's \
                output and errors pass through coffer, which replaces each secret value of 4 bytes or more, \
                raw or in base64, base64url, hex or percent-encoding, with ****. When both are terminals \
                nothing is masked (you hold the secrets anyway) and the command writes to them directly. \
                --mask and --no-mask override.

                SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to coffer are passed on to the command (those the \
                terminal sends to the whole foreground group, such as Ctrl-C, reach it directly, once). The \
                exit code is the command's, or 128 + the signal number if a signal ended it; 127 when the \
                command is not found, 126 when it cannot be started.
                """)

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(name: .long, parsing: .upToNextOption, help: "Pass only these secrets (and those given with --env).")
        var only: [String] = []

        @Option(name: .long, help: ArgumentHelp("Pass secret NAME as variable VAR (repeatable).", valueName: "VAR=NAME"))
        var env: [String] = []

        @Option(name: .long, help: "Prefix for the variables named after secrets (not for --env).")
        var prefix = ""

        @Option(name: .customLong("pass-env"), help: ArgumentHelp(
            "Pass on this COFFER_ variable, which the command does not get otherwise (repeatable).", valueName: "NAME"))
        var passEnv: [String] = []

        @Flag(inversion: .prefixedNo, help: "Mask secret values in the command's output (default: when output is not a terminal).")
        var mask: Bool?

        @Flag(help: "Flyte's layout: secret group.key as _FSEC_GROUP_KEY (prefix $FLYTE_SECRETS_ENV_PREFIX), not GROUP_KEY.")
        var flyte = false

        @Flag(help: "--flyte, and each secret also as file group/key in a private folder under $XDG_RUNTIME_DIR, named by FLYTE_SECRETS_DEFAULT_DIR; removed at the end.")
        var flyteFiles = false

        @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
        var command: [String] = []

        func validate() throws {
            guard !command.isEmpty else { throw ValidationError("give the command to run after --") }
            _ = try mappings()
        }

        private func mappings() throws -> [(variable: String, name: String)] {
            try env.map { pair in
                guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--env takes VAR=NAME, not '\(pair)'") }
                return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
            }
        }

        func run() throws {
            var flyteFiles: FlyteSecretFiles?
            defer { flyteFiles?.remove() }
            var environment = try secretEnvironment(flyteFiles: &flyteFiles)
            defer { for index in environment.indices { environment[index].value.wipe() } }
            let masking = mask ?? !(isatty(1) == 1 && isatty(2) == 1)
            let masker = masking ? SecretMasker(values: environment.map(\.value)) : nil
            if mask == true {
                for (variable, value) in environment where value.count < SecretMasker.defaultMinimumLength {
                    Terminal.warn("\(variable) is shorter than \(SecretMasker.defaultMinimumLength) bytes: not masked")
                }
            }
            let status = try ChildProcess.run(command, adding: environment, passing: Set(passEnv), masker: masker)
            if status != 0 { throw ExitCode(status) }
        }

        /// Reads the variables and lets go of the vault, and so of its keys, before the command starts.
        private func secretEnvironment(flyteFiles: inout FlyteSecretFiles?) throws -> [(variable: String, value: [UInt8])] {
            let vault = try location.open()
            try unlock.unlock(vault)
            // Read to its end; closed (unless a standard stream) so that the command cannot seek back and read it.
            if let fd = unlock.passphraseFD, fd > 2 { close(fd) }
            if flyte || self.flyteFiles {
                return try FlyteRun.environment(
                    vault, scope: scopeOptions.scope, only: only, mappings: try mappings(), prefix: prefix,
                    files: self.flyteFiles, created: &flyteFiles)
            }
            return try vault.environment(
                for: scopeOptions.scope, only: only.isEmpty ? nil : only, mappings: try mappings(), prefix: prefix)
        }
    }
}

/// Write end of the pipe the signal handler reports to; set once, before any handler is installed.
nonisolated(unsafe) private var signalPipe: Int32 = -1

/// A child process with extra environment variables, signals forwarded, and output optionally masked.
private enum ChildProcess {
    static let forwarded = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Runs `command` (searched in PATH) and returns the exit code to report: the child's own,
    /// or 128 + the signal that ended it. With a masker, its stdout and stderr are pumped
    /// through a copy each; without, it writes to ours directly.
    static func run(
        _ command: [String], adding environment: [(variable: String, value: [UInt8])], passing passed: Set<String>,
        masker: SecretMasker?
    ) throws -> Int32 {
        var originalMask = sigset_t()
        let signals = try installSignalHandlers(savingMask: &originalMask)
        var pumps: [Pump] = []
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var childEnds: [Int32] = []
        if let masker {
            for target: Int32 in [1, 2] {
                let (readEnd, writeEnd) = try makePipe()
                posix_spawn_file_actions_adddup2(&actions, writeEnd, target)
                childEnds.append(writeEnd)
                pumps.append(Pump(source: readEnd, target: target, masker: masker))
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setsigmask(&attributes, &originalMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let pid = try spawn(command, adding: environment, passing: passed, actions: &actions, attributes: &attributes)
        childEnds.forEach { close($0) }

        var status: Int32?
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while status == nil || !pumps.isEmpty {
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
                + pumps.map { pollfd(fd: $0.source, events: Int16(POLLIN), revents: 0) }
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
                    } else if !fromKernel {
                        kill(pid, signal)
                    }
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

    /// Routes SIGCHLD and the forwarded signals to a pipe (self-pipe trick) and returns its read end.
    /// They are unblocked for coffer (a parent may have blocked them), and the mask coffer started
    /// with is saved in `mask` for the child. A signal coffer ignores (under nohup, say) stays
    /// ignored, and so is ignored by the child too.
    private static func installSignalHandlers(savingMask mask: inout sigset_t) throws -> Int32 {
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
        for signal in [SIGCHLD] + forwarded {
            sigaddset(&handled, signal)
            var current = sigaction()
            sigaction(signal, nil, &current)
            if signal != SIGCHLD && unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) {
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

/// Copies one of the child's output streams to ours through a masker.
private struct Pump {
    let source: Int32
    let target: Int32
    var masker: SecretMasker

    /// Copies what can be read now; at end of stream, finishes and returns false.
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
