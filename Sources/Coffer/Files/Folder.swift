#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a folder's entries.
public enum Folder {
    /// The names in the folder at `path`, without "." and ".."; nil when it cannot be opened.
    /// Each name is read up to its terminating zero in place: a `dirent` is only as long as its
    /// name, so copying the whole `d_name` array read past the entry (valgrind saw it).
    public static func entryNames(_ path: String) -> [String]? {
        guard let folder = opendir(path) else { return nil }
        defer { closedir(folder) }
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
