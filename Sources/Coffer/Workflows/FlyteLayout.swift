#if canImport(Glibc)
import Glibc
#endif

/// Flyte's secret layout, as flytekit's `current_context().secrets.get(group, key)` reads it: a
/// variable `<prefix><GROUP>_<KEY>` (upper-cased; prefix `$FLYTE_SECRETS_ENV_PREFIX`, else
/// `_FSEC_`), then a file `<FLYTE_SECRETS_DEFAULT_DIR>/<group>/<key>` (lower-cased). A secret
/// `group.key` is split at its first dot.
public enum FlyteLayout {
    public static let defaultPrefix = "_FSEC_"
    public static let prefixVariable = "FLYTE_SECRETS_ENV_PREFIX"
    public static let folderVariable = "FLYTE_SECRETS_DEFAULT_DIR"

    /// The group and key of `name`: before and after its first dot.
    public static func groupAndKey(_ name: String) throws -> (group: String, key: String) {
        guard let dot = name.firstIndex(of: "."), dot != name.startIndex, name.index(after: dot) != name.endIndex else {
            throw CofferError.invalidArgument("'\(name)' has no group: Flyte names a secret group.key (pg.password is group pg, key password)")
        }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }

    /// The prefix flytekit looks for: `$FLYTE_SECRETS_ENV_PREFIX` when set, else `_FSEC_`.
    public static func prefix(environment: [String: String]) throws -> String {
        guard let prefix = environment[prefixVariable] else { return defaultPrefix }
        guard !prefix.isEmpty else {
            throw CofferError.invalidArgument("$\(prefixVariable) is empty: secrets would land in ordinary variable names")
        }
        try EnvironmentName.validatePrefix(prefix)
        return prefix
    }

    /// The variable flytekit reads `name` from.
    public static func variable(for name: String, prefix: String) throws -> String {
        let (group, key) = try groupAndKey(name)
        return prefix + group.uppercased() + "_" + key.uppercased()
    }

    /// Each secret as its Flyte variable; two secrets landing in one variable (`pg.a_b` and
    /// `pg.A.b`) throw `conflict` naming both, a value holding a NUL byte `invalidArgument`.
    public static func environment(
        _ secrets: [(name: String, value: [UInt8])], prefix: String
    ) throws -> [(variable: String, value: [UInt8])] {
        var owners: [String: String] = [:]
        return try secrets.map { name, value in
            let variable = try variable(for: name, prefix: prefix)
            if let owner = owners.updateValue(name, forKey: variable) {
                throw CofferError.conflict("secrets '\(owner)' and '\(name)' both map to Flyte variable \(variable)")
            }
            guard !value.contains(0) else {
                throw CofferError.invalidArgument("secret '\(name)' holds a NUL byte, which an environment variable cannot carry")
            }
            return (variable, value)
        }
    }
}

/// Secrets as files `<folder>/<group>/<key>` for flytekit: a private folder (0700) made under
/// the user's runtime folder, each file 0400. `remove()` overwrites and deletes them all.
public final class FlyteSecretFiles {
    public let folder: String
    private var files: [String] = []
    private var groups: [String] = []

    /// Writes `secrets` under a new folder in `runtimeFolder` ($XDG_RUNTIME_DIR, a tmpfs of the
    /// user's own). On failure, whatever was written is removed again.
    public init(_ secrets: [(name: String, value: [UInt8])], runtimeFolder: String) throws {
        var template = Array((runtimeFolder + "/coffer-flyte-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else {
            throw CofferError.io(path: runtimeFolder, reason: String(cString: strerror(errno)))
        }
        folder = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        do {
            for (name, value) in secrets { try write(name, value) }
        } catch {
            remove()
            throw error
        }
    }

    private func write(_ name: String, _ value: [UInt8]) throws {
        let (group, key) = try FlyteLayout.groupAndKey(name)
        let groupFolder = folder + "/" + group.lowercased()
        if !groups.contains(groupFolder) {
            guard mkdir(groupFolder, 0o700) == 0 else { throw CofferError.io(path: groupFolder, reason: String(cString: strerror(errno))) }
            groups.append(groupFolder)
        }
        let path = groupFolder + "/" + key.lowercased()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o400)
        guard fd >= 0 else {
            throw errno == EEXIST
                ? CofferError.conflict("two secrets map to Flyte file \(path) (names differ only in case)")
                : CofferError.io(path: path, reason: String(cString: strerror(errno)))
        }
        files.append(path)
        defer { close(fd) }
        try writeAll(fd, value, path: path)
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw CofferError.io(path: path, reason: String(cString: strerror(errno))) }
            written += count
        }
    }

    /// Every path written, in the order to remove them: files, group folders, the folder.
    public var paths: [String] { files + groups + [folder] }

    /// Overwrites each file with zeros, then removes the files and folders. Safe to call twice.
    public func remove() {
        for path in files {
            chmod(path, 0o600)
            var info = stat()
            let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                if fstat(fd, &info) == 0, info.st_size > 0 {
                    try? writeAll(fd, [UInt8](repeating: 0, count: Int(info.st_size)), path: path)
                    fsync(fd)
                }
                close(fd)
            }
            unlink(path)
        }
        for group in groups { rmdir(group) }
        rmdir(folder)
        files = []
        groups = []
    }
}
