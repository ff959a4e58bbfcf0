import Foundation
import Testing

/// The bash, zsh and fish completion scripts, loaded in each shell: secret names, scopes and slot
/// ids come from the nearest vault without a key; formats and file paths where expected.
@Suite struct CompletionTests {
    /// A repository whose `secrets.coffer` holds pg.password (global) and api.key (project shop),
    /// with the three scripts written beside it.
    private func world() throws -> GitWorld {
        let world = try GitWorld(setup: false)
        world.set("pg.password", "completion-pg-value")
        world.set("api.key", "completion-api-value", ["--project", "shop"])
        try Data("A=1\n".utf8).write(to: URL(fileURLWithPath: world.repo + "/app.env"))
        for shell in ["bash", "zsh", "fish"] {
            let script = world.expectSuccess(world.coffer(["--generate-completion-script", shell], key: false)).stdout
            try FileManager.default.createDirectory(atPath: world.root + "/\(shell)", withIntermediateDirectories: true)
            try Data(script).write(to: URL(fileURLWithPath: world.root + "/\(shell)/" + (shell == "zsh" ? "_coffer" : "coffer.\(shell)")))
        }
        return world
    }

    /// What bash's completion function offers for `line` (words split on spaces; the last may be "").
    private func bash(_ world: GitWorld, _ line: String) -> [String] {
        let words = line.split(separator: " ", omittingEmptySubsequences: false).map { "'\($0)'" }.joined(separator: " ")
        let script = """
            source '\(world.root)/bash/coffer.bash'
            COMP_WORDS=(\(words)); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
            _coffer coffer "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"; printf '%s\\n' "${COMPREPLY[@]}"
            """
        let ran = world.run(["bash", "--norc", "-c", script], key: false)
        return ran.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    @Test func bashOffersNamesScopesSlotsFormatsAndFiles() throws {
        let world = try world()
        #expect(bash(world, "coffer get p") == ["pg.password"])
        #expect(Set(bash(world, "coffer delete ")) == ["pg.password", "api.key"])
        #expect(bash(world, "coffer list --project ") == ["shop"])
        #expect(bash(world, "coffer run --only p") == ["pg.password"])
        #expect(bash(world, "coffer run --env DB_PASSWORD=p") == ["DB_PASSWORD=pg.password"])
        #expect(bash(world, "coffer edit --format ") == ["dotenv", "yaml"])
        #expect(bash(world, "coffer import a") == ["app.env"])
        let slots = try #require(try JSONSerialization.jsonObject(
            with: Data(world.coffer(["slots", "list", "--json"], key: false).stdout)) as? [[String: Any]])
        #expect(bash(world, "coffer slots remove ") == slots.compactMap { $0["id"] as? String })
    }

    /// Types `line` and a Tab in an interactive `shell` on a pseudo-terminal (driven by expect);
    /// true when `completed` shows up on the line.
    private func completes(_ world: GitWorld, shell: String, _ line: String, to completed: String) throws -> Bool {
        let driver = world.root + "/complete.exp"
        try Data("""
            set timeout 20
            if {[lindex $argv 0] eq "fish"} {
              spawn env TERM=dumb fish --no-config -i
              send "source '\(world.root)/fish/coffer.fish'; function fish_prompt; echo 'READY> '; end\\r"
            } else {
              spawn env TERM=dumb zsh -f -i
              send "PS1='READY> '; fpath=('\(world.root)/zsh' \\$fpath); autoload -Uz compinit; compinit -u\\r"
            }
            expect "READY> "
            expect "READY> "
            send "[lindex $argv 1]\\t"
            expect {
              -ex [lindex $argv 2] { exit 0 }
              timeout { exit 1 }
            }
            """.utf8).write(to: URL(fileURLWithPath: driver))
        let ran = world.run(["expect", driver, shell, line, completed], key: false)
        return ran.status == 0
    }

    @Test func zshCompletesANameAndASlotId() throws {
        let world = try world()
        #expect(try completes(world, shell: "zsh", "coffer get p", to: "coffer get pg.password"))
        #expect(try completes(world, shell: "zsh", "coffer set --project s", to: "--project shop"))
        let slot = try #require(try JSONSerialization.jsonObject(
            with: Data(world.coffer(["slots", "list", "--json"], key: false).stdout)) as? [[String: Any]]).first?["id"] as? String
        #expect(try completes(world, shell: "zsh", "coffer slots remove ", to: "coffer slots remove \(try #require(slot))"))
    }

    @Test func fishCompletesANameAndAScope() throws {
        let world = try world()
        #expect(try completes(world, shell: "fish", "coffer get p", to: "coffer get pg.password"))
        #expect(try completes(world, shell: "fish", "coffer list --project s", to: "--project shop"))
    }
}
