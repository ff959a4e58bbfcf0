#if canImport(Glibc)
import Glibc
#endif

enum FileStats {
    static func size(of path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}
