#if canImport(Glibc)
import Glibc
#endif

/// Which vault a program means when it names none: the search order of the README, shared by
/// the CLI and the C library.
public enum VaultLocation {
    /// The project vault's file name.
    public static let projectVaultName = "secrets.coffer"

    /// `$COFFER_VAULT`, else the nearest `secrets.coffer` from `currentDirectory`, else the local vault.
    public static func discover(environment: [String: String], currentDirectory: String) -> String {
        if let fromEnvironment = environment["COFFER_VAULT"], !fromEnvironment.isEmpty { return fromEnvironment }
        return nearestProjectVault(from: currentDirectory) ?? localVaultPath(environment: environment)
    }

    /// `secrets.coffer` in `folder` or a parent, up to the repository root (a folder holding
    /// `.git`); outside a repository, only `folder` itself is searched.
    public static func nearestProjectVault(from folder: String) -> String? {
        var folder = folder
        var candidates: [String] = []
        while true {
            candidates.append(folder == "/" ? "/" + projectVaultName : folder + "/" + projectVaultName)
            if access(folder + "/.git", F_OK) == 0 { break }
            guard folder != "/", let slash = folder.lastIndex(of: "/") else {
                candidates = [candidates[0]]
                break
            }
            folder = slash == folder.startIndex ? "/" : String(folder[..<slash])
        }
        return candidates.first { access($0, F_OK) == 0 }
    }

    /// `$XDG_DATA_HOME`, else `~/.local/share`.
    public static func dataHome(environment: [String: String]) -> String {
        environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"] ?? "/") + "/.local/share"
    }

    /// The user's local vault: `<data home>/coffer/local.coffer`.
    public static func localVaultPath(environment: [String: String]) -> String {
        dataHome(environment: environment) + "/coffer/local.coffer"
    }

    /// `localVaultPath`, for a new vault: its folder is made first (0700).
    public static func localVaultPathForCreating(environment: [String: String]) throws -> String {
        try FileSystem.makeFolders(dataHome(environment: environment) + "/coffer")
        return localVaultPath(environment: environment)
    }

    /// Where a new vault goes when none is named: `$COFFER_VAULT`, else `secrets.coffer` here.
    public static func creationPath(environment: [String: String]) -> String {
        if let fromEnvironment = environment["COFFER_VAULT"], !fromEnvironment.isEmpty { return fromEnvironment }
        return projectVaultName
    }
}
