import Coffer
import CofferCrypto
import CProcessControl
#if canImport(Glibc)
import Glibc
#endif

/// Standard streams and the controlling terminal.
enum Terminal {
    static func printError(_ line: String) {
        writeAll(2, Array("coffer: \(line)\n".utf8))
    }

    static func warn(_ line: String) {
        writeAll(2, Array("coffer: warning: \(line)\n".utf8))
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            done += count
        }
    }

    static func output(_ text: String) { writeAll(1, Array(text.utf8)) }

    static var stdoutIsTTY: Bool { isatty(1) == 1 }
    static var stdinIsTTY: Bool { isatty(0) == 1 }

    /// No core dumps while this process may hold keys (they would write key memory to disk), and
    /// not dumpable: other processes of the same user (a job `run` starts, say) can neither read
    /// our environment or memory through /proc nor attach with ptrace. Programs we start get the
    /// normal state back from execve.
    static func hardenProcess() {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
        _ = coffer_set_dumpable(0)
    }

    /// Reads everything from `fd` into guarded memory (at most `limit` bytes). For a regular file
    /// the buffer is sized from the file, so a large limit costs nothing for a small file.
    static func readSecret(fd: Int32, limit: Int, what: String) throws -> SecureBytes {
        var info = stat()
        let isFile = fstat(fd, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
        let capacity = isFile ? min(Int(info.st_size), limit) + 1 : limit + 1
        let buffer = SecureBytes(count: capacity)
        var total = 0
        while total < capacity {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, capacity - total) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw Failure(.io, "cannot read \(what): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            total += count
        }
        guard total <= limit else { throw Failure(.usage, "\(what) is larger than \(limit) bytes") }
        return buffer.slice(0..<total)
    }

    /// `secret` without one trailing "\n" or "\r\n".
    static func droppingFinalNewline(_ secret: SecureBytes) -> SecureBytes {
        secret.droppingFinalNewline()
    }

    /// Asks on the controlling terminal with echo off; nil when there is no terminal.
    ///
    /// Signals stay on: Ctrl-C or Ctrl-\\ ends the command at once, and a handler restores the
    /// terminal first (Ctrl-Z is ignored meanwhile, so a stopped prompt never resumes with echo
    /// on). With `refusingPaste`, a line followed by more input (a multi-line value pasted at the
    /// prompt) is refused, the rest is discarded, and the message points to --from-file or a pipe.
    ///
    /// Hand-written rather than libbsd's readpassphrase(3): that one restores the terminal with
    /// TCSAFLUSH before returning, which discards the rest of a paste, so a cut-off value could
    /// not be told from a typed one.
    static func prompt(_ text: String, limit: Int = 4096, refusingPaste: Bool = false) throws -> SecureBytes? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard isatty(fd) == 1 else { return nil }
        var saved = termios()
        let hasAttributes = tcgetattr(fd, &saved) == 0
        if hasAttributes {
            PromptSignals.arm(fd: fd, saved: saved)
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            silent.c_lflag |= tcflag_t(ISIG | ICANON)
            tcsetattr(fd, TCSAFLUSH, &silent)
        }
        // Only now: whatever is typed once the prompt shows is not echoed.
        writeAll(fd, Array(text.utf8))
        defer {
            if hasAttributes {
                tcsetattr(fd, TCSAFLUSH, &saved)
                PromptSignals.disarm()
            }
            writeAll(fd, [0x0A])
        }
        let buffer = SecureBytes(count: limit)
        var total = 0
        while total < limit {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, limit - total) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            total += count
            if buffer.withUnsafeBytes({ $0[total - 1] }) == 0x0A { break }
        }
        if refusingPaste && hasAttributes && morePending(fd, settings: saved) {
            tcflush(fd, TCIFLUSH)
            throw Failure(
                .usage, "several lines were pasted at the prompt: nothing stored; give such a value with --from-file FILE or on a pipe")
        }
        return droppingFinalNewline(buffer.slice(0..<total))
    }

    /// Whether more input follows the line just read: a paste arrives at once, so its next line is
    /// there already or within a few milliseconds; a person typing is far slower. The terminal is
    /// switched out of line mode to see a last line without a newline too; an end-of-file
    /// character alone (Ctrl-D) is no paste.
    private static func morePending(_ fd: Int32, settings: termios) -> Bool {
        var peek = settings
        peek.c_lflag &= ~tcflag_t(ECHO | ICANON)
        withUnsafeMutableBytes(of: &peek.c_cc) { characters in
            characters[Int(VMIN)] = 0
            characters[Int(VTIME)] = 0
        }
        tcsetattr(fd, TCSANOW, &peek)
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 50) > 0 else { return false }
        let pending = SecureBytes(count: 64)
        let count = pending.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        let endOfFile = withUnsafeBytes(of: settings.c_cc) { $0[Int(VEOF)] }
        return count > 1 || (count == 1 && pending.withUnsafeBytes { $0[0] } != endOfFile)
    }
}

/// What the signal handler needs to put the terminal back: kept in globals, set before the
/// handlers are installed (a handler may only touch plain memory and async-signal-safe calls).
private nonisolated(unsafe) var promptDescriptor: Int32 = -1
private nonisolated(unsafe) var promptSavedSettings = termios()

private enum PromptSignals {
    static let ending = [SIGINT, SIGQUIT, SIGTERM, SIGHUP]
    /// The dispositions before the prompt, put back after it.
    nonisolated(unsafe) static var previous: [(Int32, __sighandler_t?)] = []

    /// The signal mask before the prompt: a parent may have left these signals blocked.
    nonisolated(unsafe) static var previousMask = sigset_t()

    static func arm(fd: Int32, saved: termios) {
        promptSavedSettings = saved
        promptDescriptor = fd
        previous = ending.map { ($0, signal($0, restoreAndEnd)) } + [(SIGTSTP, signal(SIGTSTP, SIG_IGN))]
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for number in ending { sigaddset(&unblocked, number) }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, &previousMask)
    }

    static func disarm() {
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        for (number, handler) in previous { signal(number, handler) }
        previous = []
        promptDescriptor = -1
    }
}

/// Restores the terminal, then ends the process by the same signal with its default action.
private func restoreAndEnd(_ number: Int32) {
    if promptDescriptor >= 0 {
        tcsetattr(promptDescriptor, TCSAFLUSH, &promptSavedSettings)
        var newline: UInt8 = 0x0A
        _ = write(promptDescriptor, &newline, 1)
    }
    signal(number, SIG_DFL)
    raise(number)
}
