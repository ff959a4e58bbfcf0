import Coffer
#if canImport(Glibc)
import Glibc
#endif

/// The plaintext file `coffer edit` hands to the editor: mode 0600 in a fresh 0700 folder under
/// $XDG_RUNTIME_DIR (memory-backed), every file in that folder overwritten with zeros and removed
/// by `destroy`, which runs on every way out, including SIGTERM and SIGHUP while the editor runs.
final class ScratchFile {
    let folder: String
    let path: String
    /// How errors name the file: its base name (the folder is random and gone afterwards).
    var displayName: String { "secrets." + fileExtension }
    private let fileExtension: String

    init(extension fileExtension: String, allowPersistent: Bool) throws {
        let environment = ProcessInfoLite.environment
        let runtime = environment["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        let parent: String
        if let runtime, Self.isMemoryBacked(runtime) {
            parent = runtime
        } else if allowPersistent {
            parent = runtime ?? environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        } else {
            throw Failure(
                .usage,
                runtime == nil
                    ? "$XDG_RUNTIME_DIR is not set: refusing to write plaintext to persistent storage (--unsafe-tmp to allow)"
                    : "\(runtime!) is not a tmpfs: refusing to write plaintext to persistent storage (--unsafe-tmp to allow)")
        }
        var template = Array((parent + "/coffer-edit-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw Failure(.io, "\(parent): cannot create a private folder: \(String(cString: strerror(errno)))")
        }
        folder = String(cString: made)
        self.fileExtension = fileExtension
        path = folder + "/secrets." + fileExtension
    }

    /// On tmpfs or ramfs (the plaintext never reaches a disk, swap aside): the file system of the
    /// longest mount point in /proc/self/mounts that holds the folder. (Glibc's Swift module does
    /// not export statfs, which would say it directly.)
    static func isMemoryBacked(_ path: String) -> Bool {
        guard let resolved = realpath(path, nil) else { return false }
        let folder = String(cString: resolved)
        free(resolved)
        guard let mounts = try? Files.read("/proc/self/mounts", limit: 1 << 20) else { return false }
        var best: (mountPoint: String, type: String)?
        for line in String(decoding: mounts, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            // Spaces in mount points are written as \040.
            let mountPoint = String(fields[1]).replacing("\\040", with: " ")
            let inside = mountPoint == "/" || folder == mountPoint || folder.hasPrefix(mountPoint + "/")
            if inside, mountPoint.count >= (best?.mountPoint.count ?? 0) { best = (mountPoint, String(fields[2])) }
        }
        return best.map { $0.type == "tmpfs" || $0.type == "ramfs" } ?? false
    }

    /// Writes `text` as the file's whole content, mode 0600.
    func write(_ text: [UInt8]) throws {
        Self.wipe(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw Failure(.io, "\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < text.count {
            let written = text[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Failure(.io, "\(path): \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    func read() throws -> [UInt8] {
        do {
            return try Files.read(path, limit: 64 << 20)
        } catch let error as CofferError {
            throw Failure(error)
        }
    }

    /// Runs `$VISUAL`, else `$EDITOR`, else `vi` on the file, through `sh` as git does (so the
    /// variable may hold arguments). While it runs, SIGINT and SIGQUIT are the editor's alone;
    /// SIGTERM and SIGHUP end the editor, wipe the file and then end coffer by that signal.
    func edit() throws {
        let environment = ProcessInfoLite.environment
        let editor = [environment["VISUAL"], environment["EDITOR"]].compactMap { $0 }.first { !$0.isEmpty } ?? "vi"
        // As git does: Ctrl-C and Ctrl-\ reach the editor (which gets the default actions back),
        // not coffer, which must clean up after it.
        signal(SIGCHLD, SIG_DFL)
        let savedInterrupt = signal(SIGINT, SIG_IGN), savedQuit = signal(SIGQUIT, SIG_IGN)
        defer {
            signal(SIGINT, savedInterrupt)
            signal(SIGQUIT, savedQuit)
        }
        var blocked = sigset_t(), original = sigset_t(), defaults = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGCHLD, SIGTERM, SIGHUP] { sigaddset(&blocked, signal) }
        sigprocmask(SIG_BLOCK, &blocked, &original)
        defer { sigprocmask(SIG_SETMASK, &original, nil) }
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGQUIT] { sigaddset(&defaults, signal) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setsigmask(&attributes, &original)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let arguments = ["/bin/sh", "-c", editor + " \"$@\"", "editor", path]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The editor gets coffer's environment without the session token, as `run` does.
        var childEnvironment = environment.filter { $0.key != "COFFER_SESSION" }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { childEnvironment.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, &attributes, &argv, &childEnvironment)
        guard spawned == 0 else { throw Failure(.io, "cannot run the editor: \(String(cString: strerror(spawned)))") }

        var status: Int32 = 0
        while true {
            var signal: Int32 = 0
            sigwait(&blocked, &signal)
            if signal == SIGTERM || signal == SIGHUP {
                kill(pid, SIGTERM)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                destroy()
                Glibc.signal(signal, SIG_DFL)
                sigprocmask(SIG_SETMASK, &original, nil)
                raise(signal)
                exit(128 + signal)
            }
            if signal == SIGCHLD, waitpid(pid, &status, WNOHANG) == pid { break }
        }
        let exited = status & 0x7F == 0
        let code = exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        guard code == 0 else {
            throw Failure(.usage, "the editor (\(editor)) failed with exit status \(code): nothing changed")
        }
    }

    /// Overwrites every file in the folder with zeros and removes it, then the folder.
    func destroy() {
        for name in Folder.entryNames(folder) ?? [] { Self.wipe(folder + "/" + name) }
        rmdir(folder)
    }

    /// Zeros then unlinks one file (a regular file only; anything else is just unlinked).
    private static func wipe(_ file: String) {
        let fd = open(file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 {
            var info = stat()
            if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
                let zeros = [UInt8](repeating: 0, count: 65536)
                var left = Int(info.st_size)
                while left > 0 {
                    let written = Glibc.write(fd, zeros, min(left, zeros.count))
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { break }
                    left -= written
                }
                fsync(fd)
            }
            close(fd)
        }
        unlink(file)
    }
}
