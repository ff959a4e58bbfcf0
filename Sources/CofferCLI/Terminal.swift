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

    /// Asks on the controlling terminal with echo off; nil when there is no terminal. The terminal
    /// does not turn Ctrl-C or Ctrl-\ into signals meanwhile: the prompt restores echo first, then
    /// ends the process with that signal, as the terminal would have.
    static func prompt(_ text: String, limit: Int = 4096) throws -> SecureBytes? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard isatty(fd) == 1 else { return nil }
        var saved = termios()
        let hasAttributes = tcgetattr(fd, &saved) == 0
        if hasAttributes {
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO | ISIG)
            tcsetattr(fd, TCSAFLUSH, &silent)
        }
        // Only now: whatever is typed once the prompt shows is neither echoed nor a signal.
        writeAll(fd, Array(text.utf8))
        func restore() {
            if hasAttributes { tcsetattr(fd, TCSAFLUSH, &saved) }
            writeAll(fd, [0x0A])
        }
        defer { restore() }
        let characters = withUnsafeBytes(of: saved.c_cc) { Array($0) }
        let interrupt = characters[Int(VINTR)], quit = characters[Int(VQUIT)], suspend = characters[Int(VSUSP)]
        let buffer = SecureBytes(count: limit)
        var total = 0
        while total < limit {
            var byte: UInt8 = 0
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1, byte != 0x0A else { break }
            if hasAttributes && (byte == interrupt || byte == quit) {
                let number = byte == interrupt ? SIGINT : SIGQUIT
                restore()
                signal(number, SIG_DFL)
                raise(number)
                exit(128 + number)  // the signal was blocked: end as a shell reports it
            }
            if hasAttributes && byte == suspend { continue }
            buffer.withUnsafeMutableBytes { $0[total] = byte }
            byte = 0
            total += 1
        }
        return droppingFinalNewline(buffer.slice(0..<total))
    }
}
