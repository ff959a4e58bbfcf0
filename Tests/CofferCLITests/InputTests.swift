import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// File arguments of every kind (pipes, FIFOs, /dev/stdin, process substitution) read to their
/// end, empty inputs refused, and vaults reached through a symbolic link or a pipe.
@Suite struct InputTests {
    /// Runs `script` with bash (for process substitution); `$C` is coffer, `$V` the vault, `$P`
    /// the passphrase file.
    func bash(_ sandbox: Sandbox, _ script: String) throws -> CofferResult {
        let file = sandbox.root + "/script.bash"
        try sandbox.write(file, "C=\"$1\" V='\(sandbox.vault)' P='\(sandbox.passphraseFile)'\n" + script)
        return CofferProcess.runShell("exec /bin/bash \"$1\" \"$0\"", [file], environment: sandbox.environment(), cwd: sandbox.work)
    }

    @Test func importReadsAPipeThroughDevStdin() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        let result = try bash(sandbox, #"printf 'A=1\nB=two\n' | "$C" import /dev/stdin --format dotenv --vault "$V" --passphrase-file "$P""#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("imported 2"), "\(result.stderr)")
        #expect(sandbox.value("B") == "two")
    }

    @Test func renderReadsATemplateFromProcessSubstitution() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("A", "value-a")
        let result = try bash(sandbox, #""$C" render <(printf "x: {{ secret('A') }}\n") --vault "$V" --passphrase-file "$P""#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output == "x: value-a\n")
    }

    @Test func importReadsAFIFOTheTestMade() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        let fifo = sandbox.root + "/secrets.env"
        #expect(mkfifo(fifo, 0o600) == 0)
        let result = try bash(sandbox, #"printf 'FROM_FIFO=yes\n' > '\#(fifo)' & "$C" import '\#(fifo)' --vault "$V" --passphrase-file "$P"; status=$?; wait; exit $status"#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(sandbox.value("FROM_FIFO") == "yes")
    }

    @Test func recipientsFileFromProcessSubstitutionAddsTheKey() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        let key = sandbox.coffer(["keygen", "-o", sandbox.root + "/ci.key"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("age1"))
        let result = try bash(sandbox, #""$C" slots add-recipient -R <(echo '\#(key)') --vault "$V" --passphrase-file "$P""#)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(sandbox.coffer(["slots", "list", "--vault", sandbox.vault]).output.contains(key))
    }

    /// Empty inputs where content is required fail naming the file, whether a file or a pipe.
    @Test func emptyInputsAreErrorsNamingTheFile() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        let empty = sandbox.root + "/empty.env"
        try sandbox.write(empty, "")
        for args in [["import", empty], ["render", empty], ["slots", "add-recipient", "-R", empty]] {
            let result = sandbox.expectFailure(1) { sandbox.unlocked(args) }
            #expect(result.stderr.contains("\(empty) is empty"), "\(args): \(result.stderr)")
        }
        let comments = sandbox.root + "/recipients.txt"
        try sandbox.write(comments, "# nobody yet\n")
        let none = sandbox.expectFailure(1) { sandbox.unlocked(["slots", "add-recipient", "-R", comments]) }
        #expect(none.stderr.contains("holds no supported key"), "\(none.stderr)")

        let piped = try bash(sandbox, #""$C" import <(true) --format dotenv --vault "$V" --passphrase-file "$P""#)
        #expect(piped.status == 1 && piped.stderr.contains("is empty"), "\(piped.stderr)")
        let vault = try bash(sandbox, #""$C" list --vault <(true)"#)
        #expect(vault.status == 4 && vault.stderr.contains("/dev/fd/"), "\(vault.stderr)")
    }

    /// An old version of a vault handed over as a pipe can be read, and a write to it is refused
    /// clearly (before any passphrase is asked for).
    @Test func aVaultFromAPipeIsReadOnly() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("A", "value-a")
        let read = try bash(sandbox, #""$C" get A --vault <(cat "$V") --passphrase-file "$P""#)
        #expect(read.status == 0 && read.output == "value-a", "\(read.stderr)")
        let write = try sandbox.expectFailure(1) {
            try bash(sandbox, #"printf 'b' | "$C" set B --vault <(cat "$V") --passphrase-file /nonexistent"#)
        }
        #expect(write.stderr.contains("not a regular file"), "\(write.stderr)")
    }

    /// A vault reached through a symbolic link: the write replaces the link's target and the link
    /// stays a link, so the next write through the real path is no rollback.
    @Test func writesThroughALinkedVaultKeepTheLink() throws {
        let sandbox = try Sandbox()
        let real = sandbox.work + "/real"
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        sandbox.makeVault(real + "/v.coffer")
        #expect(symlink("real/v.coffer", sandbox.vault) == 0)
        sandbox.store("A", "through-the-link")
        var info = stat()
        #expect(lstat(sandbox.vault, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK, "the link was replaced by a file")
        #expect(sandbox.value("A", vault: real + "/v.coffer") == "through-the-link")
        sandbox.store("B", "through-the-real-path", vault: real + "/v.coffer")
        #expect(sandbox.value("B") == "through-the-real-path")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: sandbox.work).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }
}
