import CofferCodec
#if canImport(Glibc)
import Glibc
#endif

/// The git side of the history check (Specs/git.md): the commits, their parents and the vault
/// file's blob in each, read with a fixed number of git processes whatever the history's length
/// (plus one per `blobsPerRead` versions, which bounds the memory held at once).
public enum GitHistory {
    static let blobsPerRead = 64

    /// Checks the history of the vault file at `path`: every commit reachable from HEAD, back to
    /// `revision` (nil: all of them) and not reachable from `since`. With `working`, also checks
    /// that its key chain does not fork from HEAD's version's. Returns the number of versions checked and HEAD
    /// (nil before the first commit); throws `HistoryCheck.Break` for a broken edge.
    public static func check(
        vaultAt path: String, back revision: String? = nil, since: String? = nil, working: Vault? = nil
    ) throws -> (versions: Int, head: String?) {
        let (folder, name) = split(path)
        func git(_ arguments: [String], input: [UInt8]? = nil) throws -> Subprocess.Result {
            try Subprocess.run(["git", "-C", folder] + arguments, input: input, quiet: true)
        }
        func lines(_ result: Subprocess.Result) -> [Substring] {
            String(decoding: result.output, as: UTF8.self).split(separator: "\n")
        }
        let prefix = try git(["rev-parse", "--show-prefix"])
        guard prefix.status == 0 else { throw CofferError.notFound("\(path) is not in a git work tree") }
        let inRepository = String(decoding: prefix.output, as: UTF8.self).trimmingCharacters(in: "\n") + name
        guard let head = head(ofRepositoryHolding: path) else { return (0, nil) }
        if let revision, revision.hasPrefix("-") || revision.contains(where: \.isNewline) {
            throw CofferError.invalidArgument("\(revision) is not a revision")
        }

        var range = ["HEAD"]
        if let revision { range.append("^\(revision)^@") }
        if let since { range.append("^\(since)") }
        let listed = try git(["rev-list", "--parents", "--topo-order", "--reverse"] + range)
        guard listed.status == 0 else {
            if since != nil { return try check(vaultAt: path, back: revision, working: working) }
            throw CofferError.notFound("git rev-list \(range.joined(separator: " ")) failed: \(revision ?? "HEAD") is not a commit here?")
        }
        let graph = lines(listed).map { line in line.split(separator: " ").map(String.init) }
        // A shallow clone lists its cut commits without parents: what came before them (a rollback
        // at the tip, say) cannot be checked, so the history is not called ok.
        if let cut = try shallowCommits(git).first(where: Set(graph.map { $0[0] }).contains) {
            throw HistoryCheck.Break(commit: cut, reason: "commit \(HistoryCheck.short(cut))'s parents are not in this clone (a shallow"
                + " clone): the history before it cannot be checked; fetch it whole (git fetch --unshallow)")
        }
        let inRange = Set(graph.map { $0[0] })
        var asked = graph.map { $0[0] }
        for parent in Set(graph.flatMap { $0.dropFirst() }) where !inRange.contains(parent) { asked.append(parent) }
        if !inRange.contains(head) { asked.append(head) }

        // One batch-check for every commit's blob: "<blob> blob <size>", or "<name> missing".
        let query = asked.map { "\($0):\(inRepository)\n" }.joined()
        let found = lines(try git(["cat-file", "--batch-check"], input: Array(query.utf8)))
        guard found.count == asked.count else { throw CofferError.io(path: "", reason: "git cat-file --batch-check answered \(found.count) of \(asked.count) lines") }
        var blobs: [String: String] = [:]
        for (commit, line) in zip(asked, found) {
            let fields = line.split(separator: " ")
            if fields.count == 3 && fields[1] == "blob" { blobs[commit] = String(fields[0]) }
        }
        var versions: [String: Result<VaultFile, CofferError>] = [:]
        let distinct = Array(Set(blobs.values))
        for start in stride(from: 0, to: distinct.count, by: blobsPerRead) {
            let chunk = distinct[start..<min(start + blobsPerRead, distinct.count)]
            let read = try git(["cat-file", "--batch"], input: Array(chunk.map { $0 + "\n" }.joined().utf8))
            for (blob, bytes) in try parseBatch(read.output, expecting: Array(chunk)) {
                versions[blob] = bytes.count > Limits.fileBytes
                    ? .failure(.corrupted(part: "blob \(blob) is larger than a vault may be"))
                    : HistoryCheck.version(bytes, blob: blob)
            }
        }
        let commits = graph.map { HistoryCheck.Commit(id: $0[0], parents: Array($0.dropFirst()), blob: blobs[$0[0]]) }
        let boundary = blobs.filter { !inRange.contains($0.key) }
        // Asked only for a merge that keeps one parent's version whole: the vault at the merge bases.
        let commonHistory: HistoryCheck.CommonHistory = { chosen, other in
            let bases = try git(["merge-base", "--all", chosen, other])
            guard bases.status == 0 else { return [] }
            var files: [VaultFile] = []
            for base in lines(bases) {
                let found = try git(["rev-parse", "--verify", "-q", "\(base):\(inRepository)"])
                guard found.status == 0 else { return [] }
                let blob = String(decoding: found.output, as: UTF8.self).trimmingCharacters(in: "\n")
                let version = try versions[blob] ?? {
                    let bytes = try git(["cat-file", "blob", blob]).output
                    return bytes.count > Limits.fileBytes
                        ? .failure(.corrupted(part: "blob \(blob) is larger than a vault may be")) : HistoryCheck.version(bytes, blob: blob)
                }()
                guard case let .success(file) = version else { return [] }
                files.append(file)
            }
            return files
        }
        // Asked only for a version no newer than its parent's history: one git log over that history.
        let holds: HistoryCheck.HistoryHolds = { commit, blob in
            let found = try git(["log", "--full-history", "-m", "--format=%H", "-n", "1", "--find-object=\(blob)", commit, "--", inRepository])
            guard found.status == 0 else { throw CofferError.io(path: path, reason: "git log --find-object failed in the history check") }
            return !found.output.isEmpty
        }
        let count = try HistoryCheck.check(commits, boundary: boundary, versions: versions, commonHistory: commonHistory, holds: holds)

        // The working copy may be older than HEAD (a checkout of an old file, which the trust
        // store judges); its key chain must not fork from HEAD's.
        if let working, let headBlob = blobs[head], case let .success(headVersion) = versions[headBlob],
           Descent.chainsFork(working.keyChain, headVersion.keyChain) {
            throw HistoryCheck.Break(commit: head, reason: "the working copy's key chain (\(Descent.describe(working.keyChain)))"
                + " and that of HEAD's version (\(Descent.describe(headVersion.keyChain))) fork: a forged or forked key chain?")
        }
        return (count, head)
    }

    /// The commits a shallow clone holds without their parents (`.git/shallow`); none in a full one.
    private static func shallowCommits(_ git: ([String], [UInt8]?) throws -> Subprocess.Result) throws -> [String] {
        let shallow = try git(["rev-parse", "--path-format=absolute", "--git-path", "shallow"], nil)
        guard shallow.status == 0 else { return [] }
        let path = String(decoding: shallow.output, as: UTF8.self).trimmingCharacters(in: "\n")
        do {
            return String(decoding: try FileSystem.read(path, limit: 16 << 20), as: UTF8.self).split(separator: "\n").map(String.init)
        } catch CofferError.io(_, let reason) where reason == "no such file" {
            return []
        }
    }

    /// The folder and the name of the file at `path`.
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        return (slash == path.startIndex ? "/" : String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    /// The commit HEAD names in the repository holding `path`; nil before the first commit or outside git.
    public static func head(ofRepositoryHolding path: String) -> String? {
        guard let result = try? Subprocess.run(["git", "-C", split(path).folder, "rev-parse", "--verify", "-q", "HEAD"], quiet: true),
              result.status == 0 else { return nil }
        return String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: "\n")
    }

    /// `git cat-file --batch` output: per object "<id> blob <size>\n", the bytes, "\n".
    private static func parseBatch(_ output: [UInt8], expecting blobs: [String]) throws -> [(String, [UInt8])] {
        var result: [(String, [UInt8])] = []
        var position = 0
        for blob in blobs {
            guard let newline = output[position...].firstIndex(of: UInt8(ascii: "\n")) else { break }
            let header = String(decoding: output[position..<newline], as: UTF8.self).split(separator: " ")
            position = newline + 1
            guard header.count == 3, header[0] == blob, let size = Int(header[2]), size <= output.count - position else {
                throw CofferError.io(path: "", reason: "git cat-file --batch: unexpected answer for \(blob)")
            }
            result.append((blob, Array(output[position..<position + size])))
            position += size + 1
        }
        return result
    }
}

extension String {
    func trimmingCharacters(in characters: String) -> String {
        var text = Substring(self)
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
