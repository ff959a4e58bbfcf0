import ArgumentParser
import Coffer
import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keygen",
            abstract: "Make an X25519 identity in age's format; print its public key (age1...) on stdout.",
            discussion: """
                The identity file (mode 0600) works with age (`age -d -i FILE`) and sops; keys made by \
                age-keygen work with coffer. --protect writes it passphrase-protected as `age -p` does \
                (age reads it, and coffer reads age's); --passphrase uses Coffer's older protected format \
                (Specs/identity-files.md). Default file: $XDG_DATA_HOME/coffer/identity.txt.
                """)

        @Option(name: .shortAndLong, help: "Where to write the identity (refuses to overwrite).", completion: .file())
        var output: String?

        @Flag(name: .long, help: "Protect the identity file with a passphrase, in age's format (age -p).")
        var protect = false

        @Option(name: .long, help: "scrypt work factor for --protect: log2 N, 1...22 (default 18, as age).")
        var workFactor = IdentityFile.defaultWorkFactor

        @Flag(name: .long, help: "Protect the identity file with a passphrase, in Coffer's own format.")
        var passphrase = false

        @Option(name: .long, help: "Read the protecting passphrase from this file (with --passphrase).")
        var newPassphraseFile: String?

        @Option(name: .long, help: "Print the public key of an existing identity file instead.", completion: .file())
        var publicOf: String?

        @Flag(name: .long, help: "Put the pin of the current vault (--vault, else the usual search) in the identity file.")
        var pin = false

        @Option(name: .long, help: "The vault whose pin --pin writes.")
        var vault: String?

        @OptionGroup var kdf: KDFOptions
        @OptionGroup var unlock: UnlockOptions

        func run() throws {
            if let publicOf {
                let identities = try UnlockOptions.loadIdentities(publicOf) {
                    try unlock.passphrase(prompt: "Passphrase for identity \(publicOf): ")
                }
                Terminal.output(identities.map { $0.recipient.text + "\n" }.joined())
                return
            }
            let pinLine = pin ? try VaultOptions.parse(vault.map { ["--vault", $0] } ?? []).pinLine() : []
            let path = try output ?? defaultPath()
            let identity = Identity.generate()
            let contents: SecureBytes
            if protect {
                let sealed: [UInt8]
                do {
                    sealed = try IdentityFile.renderAgeProtected(
                        identity, passphrase: try UnlockOptions.newPassphrase(file: newPassphraseFile), workFactor: workFactor)
                } catch CryptoError.invalidParameters(let reason) {
                    throw Failure(.usage, reason)
                }
                contents = sealed.withUnsafeBytes { SecureBytes(copying: $0) }
            } else if passphrase || newPassphraseFile != nil {
                let sealed = try IdentityFile.renderProtected(
                    identity, passphrase: try UnlockOptions.newPassphrase(file: newPassphraseFile), parameters: try kdf.parameters())
                contents = SecureBytes(copying: pinLine + sealed)
            } else {
                contents = Self.prefixed(pinLine, IdentityFile.render(identity))
            }
            try Self.writeNew(path, contents)
            Terminal.writeAll(2, Array("coffer: wrote identity \(path)\n".utf8))
            Terminal.output(identity.recipient.text + "\n")
        }

        private func defaultPath() throws -> String {
            let folder = FileSystemPaths.dataHome + "/coffer"
            try VaultOptions.makeFolders(folder)
            return folder + "/identity.txt"
        }

        /// `lines` (comments such as a pin line) followed by an identity file's text, in guarded memory.
        static func prefixed(_ lines: [UInt8], _ identityFile: SecureBytes) -> SecureBytes {
            let contents = SecureBytes(count: lines.count + identityFile.count)
            contents.withUnsafeMutableBytes { out in
                out.copyBytes(from: lines)
                identityFile.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[lines.count...]).copyMemory(from: $0) }
            }
            return contents
        }

        /// Writes a new file (never over an existing one); on any failure nothing is left behind.
        static func writeNew(_ path: String, _ contents: SecureBytes) throws {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw Failure(errno == EEXIST ? .conflict : .io, "\(path): \(String(cString: strerror(errno)))")
            }
            var written = 0
            let failure: Int32? = contents.withUnsafeBytes { bytes in
                while written < bytes.count {
                    let count = write(fd, bytes.baseAddress! + written, bytes.count - written)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { return errno }
                    written += count
                }
                return fsync(fd) == 0 ? nil : errno
            }
            close(fd)
            if let failure {
                unlink(path)
                throw Failure(.io, "\(path): \(String(cString: strerror(failure)))")
            }
        }
    }
}

enum FileSystemPaths {
    static var dataHome: String {
        VaultLocation.dataHome(environment: ProcessInfoLite.environment)
    }
}
