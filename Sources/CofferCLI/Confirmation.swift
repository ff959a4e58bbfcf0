#if canImport(Glibc)
import Glibc
#endif

/// Yes/no questions before an action that shows or exposes secrets.
enum Confirmation {
    /// On a terminal (stdin is one), asks `question` and returns whether the answer was y or yes;
    /// without one, returns `force`, so scripts must say --force. `what` names the action for the
    /// refusal.
    static func require(_ question: String, force: Bool, what: String) throws {
        if force { return }
        guard Terminal.stdinIsTTY else { throw Failure(.usage, "\(what) needs --force without a terminal") }
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw Failure(.usage, "\(what) needs --force without a terminal") }
        defer { close(fd) }
        Terminal.writeAll(fd, Array((question + " [y/N] ").utf8))
        var answer: [UInt8] = []
        var byte: UInt8 = 0
        while answer.count < 16 {
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1, byte != 0x0A else { break }
            answer.append(byte)
        }
        let text = String(decoding: answer, as: UTF8.self).lowercased()
        guard text == "y" || text == "yes" else { throw Failure(.usage, "\(what): not confirmed; nothing done") }
    }
}
