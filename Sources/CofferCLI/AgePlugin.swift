import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

/// The client side of the age plugin protocol (C2SP age-plugin): runs `age-plugin-NAME` from PATH
/// and speaks the recipient-v1 or identity-v1 state machine with it over stdin and stdout.
/// A plugin slot holds a random 16-byte key wrapped by the plugin (Specs/identity-files.md §13).
struct AgePlugin {
    /// age's stanza: `-> type args...`, then the body as unpadded base64 in 64-column lines, the
    /// last one shorter (possibly empty).
    struct Stanza {
        var arguments: [String]
        var body: [UInt8]

        var encoded: [UInt8] {
            var text = "-> " + arguments.joined(separator: " ") + "\n"
            let base64 = Base64.encode(body, alphabet: .standardUnpadded)
            var start = base64.startIndex
            while true {
                let end = base64.index(start, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
                text += base64[start..<end] + "\n"
                if base64.distance(from: start, to: end) < 64 { break }
                start = end
            }
            return Array(text.utf8)
        }

        /// Stanzas as stored in a plugin slot, one after another.
        static func parseAll(_ bytes: [UInt8]) -> [Stanza]? {
            var reader = LineReader(bytes: bytes)
            var stanzas: [Stanza] = []
            while !reader.isAtEnd {
                guard let stanza = reader.stanza() else { return nil }
                stanzas.append(stanza)
            }
            return stanzas
        }
    }

    /// Lines from a plugin's stdout (or from stored bytes), bounded in length.
    struct LineReader {
        var fd: Int32 = -1
        var bytes: [UInt8] = []
        var offset = 0

        var isAtEnd: Bool { fd < 0 && offset == bytes.count }

        mutating func line() -> String? {
            while true {
                if let newline = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) {
                    defer { offset = newline + 1 }
                    return String(decoding: bytes[offset..<newline], as: UTF8.self)
                }
                guard fd >= 0, bytes.count - offset < 1 << 16 else { return nil }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = read(fd, &chunk, chunk.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return nil }
                bytes = Array(bytes[offset...]) + chunk[..<count]
                offset = 0
            }
        }

        mutating func stanza() -> Stanza? {
            guard let header = line(), header.hasPrefix("-> ") else { return nil }
            var body: [UInt8] = []
            while true {
                guard let line = line(), line.count <= 64, let bytes = Base64.decode(line, alphabet: .standardUnpadded) else {
                    return nil
                }
                body += bytes
                if line.count < 64 { break }
            }
            return Stanza(arguments: header.dropFirst(3).split(separator: " ").map(String.init), body: body)
        }
    }

    let name: String
    private let pid: pid_t
    private let input: Int32
    private var output: LineReader
    private var errors: [String] = []

    /// Starts `age-plugin-NAME --age-plugin=STATE_MACHINE`; its stderr is ours.
    private init(name: String, stateMachine: String) throws {
        self.name = name
        // A plugin that exits early must give an error here, not kill coffer with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        var toPlugin: [Int32] = [0, 0], fromPlugin: [Int32] = [0, 0]
        guard pipe(&toPlugin) == 0, pipe(&fromPlugin) == 0 else { throw Failure(.io, "pipe: \(String(cString: strerror(errno)))") }
        for fd in toPlugin + fromPlugin { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toPlugin[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromPlugin[1], 1)
        let program = "age-plugin-" + name
        let arguments = [program, "--age-plugin=" + stateMachine]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, program, &actions, nil, &argv, environ)
        close(toPlugin[0])
        close(fromPlugin[1])
        guard spawned == 0 else {
            close(toPlugin[1])
            close(fromPlugin[0])
            throw Failure(spawned == ENOENT ? .notFound : .io, "\(program): \(spawned == ENOENT ? "not found in PATH" : String(cString: strerror(spawned)))")
        }
        self.pid = pid
        input = toPlugin[1]
        output = LineReader(fd: fromPlugin[0])
    }

    /// Wraps `fileKey` (16 bytes) to `recipient` with its plugin; returns the stanzas, encoded.
    static func wrap(_ fileKey: SecureBytes, to recipient: PluginKey) throws -> [UInt8] {
        var plugin = try AgePlugin(name: recipient.name, stateMachine: "recipient-v1")
        defer { plugin.finish() }
        let key = fileKey.withUnsafeBytes { Array($0) }
        try plugin.send(Stanza(arguments: ["add-recipient", recipient.text], body: []))
        try plugin.send(Stanza(arguments: ["wrap-file-key"], body: key))
        try plugin.send(Stanza(arguments: ["done"], body: []))
        var stanzas: [UInt8] = []
        try plugin.respond { stanza in
            guard stanza.arguments.first == "recipient-stanza", stanza.arguments.count >= 3, stanza.arguments[1] == "0" else {
                return false
            }
            stanzas += Stanza(arguments: Array(stanza.arguments.dropFirst(2)), body: stanza.body).encoded
            return true
        }
        guard !stanzas.isEmpty else { throw Failure(.authentication, "age-plugin-\(recipient.name) wrapped nothing") }
        return stanzas
    }

    /// The 16-byte key the plugin unwraps from `stanzas` with one of `identities` (all of one
    /// plugin), or nil when none of them is this slot's.
    static func unwrap(_ stanzas: [Stanza], with identities: [PluginKey]) throws -> SecureBytes? {
        var plugin = try AgePlugin(name: identities[0].name, stateMachine: "identity-v1")
        defer { plugin.finish() }
        for identity in identities { try plugin.send(Stanza(arguments: ["add-identity", identity.text], body: [])) }
        for stanza in stanzas { try plugin.send(Stanza(arguments: ["recipient-stanza", "0"] + stanza.arguments, body: stanza.body)) }
        try plugin.send(Stanza(arguments: ["done"], body: []))
        var fileKey: SecureBytes?
        try plugin.respond { stanza in
            guard stanza.arguments == ["file-key", "0"], stanza.body.count == 16 else { return false }
            fileKey = SecureBytes(copying: stanza.body)
            return true
        }
        return fileKey
    }

    private func send(_ stanza: Stanza) throws {
        let bytes = stanza.encoded
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw Failure(.io, "age-plugin-\(name) stopped reading") }
            written += count
        }
    }

    /// Phase 2: answers the plugin's commands until `done`; `handle` takes the results
    /// (recipient stanzas, file keys) and says whether it accepted one.
    private mutating func respond(_ handle: (Stanza) -> Bool) throws {
        while true {
            guard let stanza = output.stanza(), let command = stanza.arguments.first else {
                throw Failure(.io, "age-plugin-\(name) broke the plugin protocol (or exited)")
            }
            switch command {
            case "done":
                if let error = errors.first { throw Failure(.authentication, "age-plugin-\(name): \(error)") }
                return
            case "msg":
                Terminal.writeAll(2, Array("age-plugin-\(name): ".utf8) + stanza.body + [UInt8(ascii: "\n")])
                try reply("ok")
            case "request-secret", "request-public":
                let message = String(decoding: stanza.body, as: UTF8.self)
                if let secret = try Terminal.prompt(message.hasSuffix(" ") ? message : message + " ") {
                    try send(Stanza(arguments: ["ok"], body: secret.withUnsafeBytes { Array($0) }))
                } else {
                    try reply("fail")
                }
            case "error":
                errors.append(String(decoding: stanza.body.prefix(1024), as: UTF8.self).filter { !$0.isNewline })
                try reply("ok")
            case "recipient-stanza", "file-key":
                try reply(handle(stanza) ? "ok" : "fail")
            default:
                try reply("unsupported")
            }
        }
    }

    private func reply(_ word: String) throws {
        try send(Stanza(arguments: [word], body: []))
    }

    /// Closes the pipes and reaps the plugin.
    private func finish() {
        close(input)
        close(output.fd)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
