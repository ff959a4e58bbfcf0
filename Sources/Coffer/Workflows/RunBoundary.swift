/// What `coffer run` keeps from the command it starts, and which variables an entry may not set
/// by its own name (Specs/run.md). The one place these lists live.
public enum RunBoundary {
    /// Variables passed on although they start with `COFFER_`: they name no key source.
    public static let harmlessCofferVariables: Set<String> = ["COFFER_VAULT_PIN"]

    /// Whether `run` withholds `variable` from the command unless `--pass-env` names it: every
    /// `COFFER_` variable except the harmless ones. That covers each variable coffer reads a
    /// vault, a key or a token from ($COFFER_VAULT, $COFFER_SESSION, $COFFER_PASSPHRASE_FILE,
    /// $COFFER_IDENTITY_FILE, $COFFER_IDENTITY) and any added later.
    public static func isWithheld(_ variable: String) -> Bool {
        variable.hasPrefix("COFFER_") && !harmlessCofferVariables.contains(variable)
    }

    /// Variables that steer the loader, a shell or a language runtime: set from an entry's name,
    /// they would run the entry's value as code in the command.
    public static let dangerousVariables: Set<String> = [
        "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS", "PATH", "HOME", "SHELL",
        "CDPATH", "ZDOTDIR", "GCONV_PATH", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "NODE_OPTIONS", "NODE_PATH",
        "PERL5OPT", "PERL5LIB", "PERLLIB", "RUBYOPT", "RUBYLIB", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
    ]

    /// Prefixes of variable families that steer the loader or the shell.
    public static let dangerousPrefixes = ["LD_", "DYLD_", "BASH_FUNC_"]

    /// Whether `variable` is in `dangerousVariables` or starts with one of `dangerousPrefixes`.
    public static func isDangerous(_ variable: String) -> Bool {
        dangerousVariables.contains(variable) || dangerousPrefixes.contains { variable.hasPrefix($0) }
    }
}
