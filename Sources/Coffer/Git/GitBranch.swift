#if canImport(Glibc)
import Glibc
#endif

/// The git branch a file is checked out on, read from `.git/HEAD` without running git.
public enum GitBranch {
    /// `refs/heads/NAME`, `detached`, or "" when the file is not in a git work tree.
    public static func current(forFileAt path: String) -> String {
        var folder = TrustStore.absolute(FileSystem.directory(of: path))
        while true {
            let dotGit = folder == "/" ? "/.git" : folder + "/.git"
            if let head = headFile(dotGit), let bytes = try? FileSystem.read(head, limit: 4096) {
                let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters()
                return text.hasPrefix("ref: ") ? String(text.dropFirst(5)) : "detached"
            }
            guard folder != "/", let slash = folder.lastIndex(of: "/") else { return "" }
            folder = slash == folder.startIndex ? "/" : String(folder[..<slash])
        }
    }

    /// `.git/HEAD`, or for a linked work tree (`.git` is a file `gitdir: PATH`) that folder's HEAD.
    private static func headFile(_ dotGit: String) -> String? {
        var info = stat()
        guard stat(dotGit, &info) == 0 else { return nil }
        if info.st_mode & S_IFMT == S_IFDIR { return dotGit + "/HEAD" }
        guard let bytes = try? FileSystem.read(dotGit, limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters()
        guard text.hasPrefix("gitdir: ") else { return nil }
        let target = String(text.dropFirst(8))
        return (target.hasPrefix("/") ? target : FileSystem.directory(of: dotGit) + "/" + target) + "/HEAD"
    }
}

extension String {
    func trimmingCharacters() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        return String(text)
    }
}
