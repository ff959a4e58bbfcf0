import ArgumentParser
import Coffer
import CofferCrypto
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a command with secrets in its environment.",
            discussion: """
                Each secret the scope resolves becomes a variable: pg.user is PG_USER (APP_PG_USER with \
                --prefix APP_). With --only or --env, only those secrets are passed; --env DB_USER=pg.user \
                puts pg.user in DB_USER exactly. No-reveal secrets are passed too. Values never appear in \
                the command's arguments.

                The command (with the arguments after --) gets coffer's environment and stdin, plus one \
                variable per secret (and with --flyte-files the files and $FLYTE_SECRETS_DEFAULT_DIR naming their folder). \
                It gets the secrets, not the vault: the vault is unlocked and let go before it \
                starts, and coffer's COFFER_ variables ($COFFER_SESSION, $COFFER_PASSPHRASE_FILE, \
                $COFFER_IDENTITY_FILE, $COFFER_IDENTITY, $COFFER_VAULT; all but $COFFER_VAULT_PIN) are not \
                passed on unless --pass-env NAME asks for one. coffer is not dumpable, so the command \
                cannot read coffer's environment or memory through /proc either. It can still read any \
                file you can, such as a --passphrase-file named on coffer's command line: prefer a \
                session, --passphrase-fd or an identity scoped to what the job needs.

                Variable names: an entry whose name would set a variable that steers the loader, a shell \
                or a runtime (LD_*, DYLD_*, BASH_FUNC_*, BASH_ENV, ENV, SHELLOPTS, BASHOPTS, PS4, \
                PROMPT_COMMAND, IFS, PATH, HOME, SHELL, PYTHONPATH, PYTHONSTARTUP, NODE_OPTIONS, PERL5OPT, \
                RUBYOPT, JAVA_TOOL_OPTIONS and a few more; Specs/run.md) stops run before the command \
                starts, unless given with --env. Two entries mapping to one variable (api_key, API_KEY) \
                are an error naming both.

                Masking is on when standard output or standard error is not a terminal (logs) or $CI is \
                true; --mask and --no-mask override. The command's output and errors then pass through \
                coffer, which replaces each secret value of 4 bytes or more with ****: raw; in base64 and \
                base64url, also inside a longer encoded text (base64 of "user:" + password); in hex (either \
                case, also across the line wraps of xxd -p, 60 digits a line); percent-encoded (RFC 3986, \
                Python's quote, form encoding); JSON-escaped; and each line of 8 bytes or more of a \
                multi-line value (PEM armor lines excepted). Also when a value is split across writes. \
                Where coffer's stdout is a terminal, the command runs under a pseudo-terminal of coffer's, \
                so it still sees a terminal (colours, prompts, window size); keys typed reach it through \
                coffer. Not masked: values shorter than 4 bytes (set, import and run --mask name them), a \
                value reversed, re-cased, cut by escape codes or split between stdout and stderr, other \
                encodings (hex wrapped at another width, compression), and anything the command writes to \
                /dev/tty or a file itself. Only values are masked: variable names and the folder path in \
                $FLYTE_SECRETS_DEFAULT_DIR print as they are. With masking off the command writes to the \
                terminal directly.

                SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to coffer are passed on to the command (those the \
                terminal sends to the whole foreground group, such as Ctrl-C, reach it directly, once). The \
                exit code is the command's, or 128 + the signal number if a signal ended it; 127 when the \
                command is not found, 126 when it cannot be started.
                """)

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(name: .long, parsing: .upToNextOption, help: "Pass only these secrets (and those given with --env).",
                completion: Completions.names)
        var only: [String] = []

        @Option(name: .long, help: ArgumentHelp("Pass secret NAME as variable VAR (repeatable).", valueName: "VAR=NAME"),
                completion: Completions.variableMappings)
        var env: [String] = []

        @Option(name: .long, help: "Prefix for the variables named after secrets (not for --env).")
        var prefix = ""

        @Option(name: .customLong("pass-env"), help: ArgumentHelp(
            "Pass on this COFFER_ variable, which the command does not get otherwise (repeatable).", valueName: "NAME"))
        var passEnv: [String] = []

        @Flag(inversion: .prefixedNo, help: "Mask secret values in the command's output (default: when output is not a terminal, or $CI is true).")
        var mask: Bool?

        @Flag(help: "Flyte's layout: secret group.key as _FSEC_GROUP_KEY (prefix $FLYTE_SECRETS_ENV_PREFIX), not GROUP_KEY.")
        var flyte = false

        @Flag(help: "--flyte, and each secret also as file group/key in a private folder under $XDG_RUNTIME_DIR, named by FLYTE_SECRETS_DEFAULT_DIR; removed at the end.")
        var flyteFiles = false

        @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
        var command: [String] = []

        func validate() throws {
            guard !command.isEmpty else { throw ValidationError("give the command to run after --") }
            _ = try mappings()
        }

        private func mappings() throws -> [(variable: String, name: String)] {
            try env.map { pair in
                guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--env takes VAR=NAME, not '\(pair)'") }
                return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
            }
        }

        func run() throws {
            var flyteFiles: FlyteSecretFiles?
            defer { flyteFiles?.remove() }
            var environment = try secretEnvironment(flyteFiles: &flyteFiles)
            defer { for index in environment.indices { environment[index].value.wipe() } }
            let masking = mask ?? (isatty(1) != 1 || isatty(2) != 1 || ProcessInfoLite.environment["CI"] == "true")
            if mask == true {
                for (variable, value) in environment where value.count < SecretMasker.defaultMinimumLength {
                    Terminal.warn("\(variable) is shorter than \(SecretMasker.defaultMinimumLength) bytes: not masked")
                }
            }
            let output: ChildProcess.Output
            if !masking {
                output = .direct
            } else if isatty(1) == 1 {
                output = .terminal(SecretMasker(values: environment.map(\.value)))
            } else {
                output = .pipes(SecretMasker(values: environment.map(\.value)))
            }
            // A path, not a secret: it is not masked (the folder's name is random, not secret).
            let folder = flyteFiles.map { [(variable: FlyteLayout.folderVariable, value: Array($0.folder.utf8))] } ?? []
            let status = try ChildProcess.run(command, adding: environment + folder, passing: Set(passEnv), output: output)
            if status != 0 { throw ExitCode(status) }
        }

        /// Reads the variables and lets go of the vault, and so of its keys, before the command starts.
        private func secretEnvironment(flyteFiles: inout FlyteSecretFiles?) throws -> [(variable: String, value: [UInt8])] {
            let vault = try location.open()
            try unlock.unlock(vault)
            // Read to its end; closed (unless a standard stream) so that the command cannot seek back and read it.
            if let fd = unlock.passphraseFD, fd > 2 { close(fd) }
            if flyte || self.flyteFiles {
                return try FlyteRun.environment(
                    vault, scope: scopeOptions.scope, only: only, mappings: try mappings(), prefix: prefix,
                    files: self.flyteFiles, created: &flyteFiles)
            }
            return try vault.environment(
                for: scopeOptions.scope, only: only.isEmpty ? nil : only, mappings: try mappings(), prefix: prefix)
        }
    }
}
