import ArgumentParser
import Coffer
import CofferCodec

extension CofferCommand {
    struct Unlock: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unlock",
            abstract: "Unlock a vault once; later commands in this shell need no passphrase.",
            discussion: """
                Use as: eval "$(coffer unlock)"   (bash, zsh), or coffer unlock --shell fish | source. \
                The token goes in $COFFER_SESSION; the master key, sealed under it, in a file under \
                $XDG_RUNTIME_DIR/coffer/. Neither alone reveals the key. Defaults: 12 hours at most (a \
                working day), ended after 15 minutes unused (a walk away from the desk); see Specs/sessions.md.
                """)

        enum Shell: String, ExpressibleByArgument, CaseIterable { case bash, zsh, fish }

        @OptionGroup var location: VaultOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(name: .long, help: "Absolute lifetime, e.g. 12h, 30m, 1d (default 12h).", transform: SessionDuration.parse)
        var ttl = SessionDuration(seconds: 12 * 3600)

        @Option(name: .long, help: "End the session after this long unused, at most --ttl (default 15m).", transform: SessionDuration.parse)
        var idle = SessionDuration(seconds: 15 * 60)

        func validate() throws {
            guard idle.seconds <= ttl.seconds else { throw ValidationError("--idle \(idle) is longer than --ttl \(ttl)") }
        }

        @Option(name: .long, help: "Output for this shell: bash, zsh or fish (default bash/zsh syntax).")
        var shell = Shell.bash

        @Flag(name: .long, help: "Print the token alone.")
        var raw = false

        func run() throws {
            let vault = try location.open()
            try unlock.unlock(vault, allowSession: false)
            let existing = ProcessInfoLite.environment[SessionStore.environmentVariable]
            let token = existing.flatMap { SessionStore.isToken($0) ? $0 : nil }
                ?? SessionStore.newToken().withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            try Sessions.store.start(vault: vault, token: token, ttl: ttl.seconds, idle: idle.seconds, now: Timestamp.now())
            switch (raw, shell) {
            case (true, _): Terminal.output(token + "\n")
            case (false, .fish): Terminal.output("set -gx \(SessionStore.environmentVariable) \(token);\n")
            case (false, _): Terminal.output("export \(SessionStore.environmentVariable)=\(token);\n")
            }
            Terminal.writeAll(2, Array("coffer: session open for \(vault.path) (\(ttl) at most, \(idle) idle)\n".utf8))
        }
    }

    struct Lock: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lock", abstract: "End this vault's sessions, in every shell (--all: every session of every vault).")

        @OptionGroup var location: VaultOptions

        @Flag(name: .long, help: "End every session of this user.")
        var all = false

        func run() throws {
            if all {
                let count = Sessions.store.endAll()
                Terminal.writeAll(2, Array("coffer: ended \(count) session(s)\n".utf8))
                return
            }
            // No trust checks: ending sessions is safe even for a vault that reads refuse.
            let vault = try Vault.open(at: location.resolvedPath())
            let ended = Sessions.store.end(vaultID: vault.vaultID)
            let what = ended == 0 ? "no session was open" : ended == 1 ? "session ended" : "\(ended) sessions ended"
            Terminal.writeAll(2, Array("coffer: \(what) for \(vault.path)\n".utf8))
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the vault used and whether a session is open, with its time left.")

        @OptionGroup var location: VaultOptions

        @Flag(name: .long, help: "JSON output (schema: Specs/cli-json.md).")
        var json = false

        func run() throws {
            let vault = try location.open()
            let path = vault.path
            var rows = [["vault", path], ["vault id", TextView.hex(vault.vaultID)], ["entries", String(vault.entryCount)]]
            let now = Timestamp.now()
            let token = ProcessInfoLite.environment[SessionStore.environmentVariable]
            let session = token.flatMap { Sessions.store.session(for: vault, token: $0, now: now) }
            if json {
                let remaining = session.map { [
                    ("secondsLeft", "\($0.expires - now)"), ("idleSeconds", "\($0.idleSeconds)"), ("secondsToDeadline", "\($0.deadline - now)"),
                ] } ?? [("secondsLeft", "null"), ("idleSeconds", "null"), ("secondsToDeadline", "null")]
                Terminal.output(JSONOutput.object([
                    ("vault", JSONOutput.string(path)),
                    ("vaultId", JSONOutput.string(TextView.hex(vault.vaultID))),
                    ("entries", "\(vault.entryCount)"),
                    ("sessionOpen", "\(session != nil)"),
                ] + remaining + [
                    ("otherSessions", "\(max(0, Sessions.store.openCount(of: vault.vaultID, now: now) - (session == nil ? 0 : 1)))"),
                ]) + "\n")
                return
            }
            if let state = session {
                rows.append(["session", "open: \(SessionDuration(seconds: state.expires - now)) left, ends after \(SessionDuration(seconds: state.idleSeconds)) idle (next: \(SessionDuration(seconds: state.deadline - now)))"])
            } else {
                let others = Sessions.store.openCount(of: vault.vaultID, now: now)
                let inThisShell = token == nil ? "none ($COFFER_SESSION unset)" : "none"
                rows.append(["session", others == 0 ? inThisShell : "\(inThisShell); \(others) open in other shells"])
            }
            Terminal.output(Formatting.table(rows))
        }
    }
}

/// The session store and clock the CLI uses.
enum Sessions {
    static let store = SessionStore(folder: SessionStore.defaultFolder(environment: ProcessInfoLite.environment))

    /// Unlocks `vault` with this shell's session if there is a valid one; false otherwise. Why a
    /// session in the environment could not be used is said on stderr.
    static func resume(_ vault: Vault) -> Bool {
        guard let token = ProcessInfoLite.environment[SessionStore.environmentVariable], !token.isEmpty else { return false }
        do {
            try store.resume(vault, token: token, now: Timestamp.now())
            return true
        } catch let rejection as SessionStore.Rejection {
            if rejection != .none { Terminal.warn("session \(rejection.explanation); unlocking without it") }
        } catch {}
        return false
    }

    /// After a command changed the master key: keep this shell's session in step, end others'.
    static func refresh(after vault: Vault) {
        store.refresh(after: vault, token: ProcessInfoLite.environment[SessionStore.environmentVariable], now: Timestamp.now())
    }
}

/// A duration written as 90s, 15m, 12h or 1d (a bare number is seconds).
struct SessionDuration: CustomStringConvertible {
    let seconds: UInt64

    init(seconds: UInt64) { self.seconds = seconds }

    /// For `--ttl` and `--idle`: a wrong duration is refused with the accepted format.
    static func parse(_ argument: String) throws -> SessionDuration {
        guard let duration = SessionDuration(argument: argument) else {
            throw ValidationError("'\(argument)' is not a duration: write a whole number with s, m, h or d (90s, 15m, 12h, 1d), up to 365d")
        }
        return duration
    }

    init?(argument: String) {
        let units: [Character: UInt64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var text = Substring(argument)
        var unit: UInt64 = 1
        if let last = text.last, let factor = units[last] {
            unit = factor
            text = text.dropLast()
        }
        guard let count = UInt64(text), count > 0, count <= 365 * 86400 / unit else { return nil }
        seconds = count * unit
    }

    /// The two largest units: 12h, 15m, 1h 59m, 2m 30s.
    var description: String {
        var parts: [String] = []
        var rest = seconds
        for (size, unit) in [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")] as [(UInt64, String)] where rest >= size && parts.count < 2 {
            parts.append("\(rest / size)\(unit)")
            rest %= size
        }
        return parts.isEmpty ? "0s" : parts.joined(separator: " ")
    }
}
