import Foundation
import Testing

/// Runs each seeds/<system>/scenario.sh with bash, the built `coffer` first in PATH, a clean
/// environment and no controlling terminal; and checks that every row of seeds/README.md points
/// at a real check.
@Suite struct SeedScenarioTests {
    /// The repository's seeds/ folder, found from this file's place in Tests/CofferCLITests/.
    static let seeds = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("seeds").path

    /// Runs one scenario and expects exit 0 and a clean tally; prints its output otherwise.
    private static func scenario(_ system: String) {
        let script = seeds + "/" + system + "/scenario.sh"
        let folder = URL(fileURLWithPath: CofferProcess.executable).deletingLastPathComponent().path
        // runShell puts `setsid -w` in front and passes only the environment given (plus LC_ALL).
        let result = CofferProcess.runShell(
            #"exec /bin/bash "$1""#, [script], environment: ["PATH": folder + ":/usr/bin:/bin"],
            cwd: NSTemporaryDirectory())
        let report = "\(system)/scenario.sh exited \(result.status)\n\(result.output)\(result.stderr)"
        let clean = result.status == 0 && result.output.hasSuffix(" passed, 0 failed\n")
        #expect(clean, "\(report)")
    }

    @Test func tdWorkflows() { Self.scenario("td-workflows") }
    @Test func hpcflow() { Self.scenario("hpcflow") }
    @Test func kestra() { Self.scenario("kestra") }
    @Test func flyte() { Self.scenario("flyte") }
    @Test func digitalHub() { Self.scenario("digital-hub") }

    /// Every table row of seeds/README.md names at least one check, and each reference is real:
    /// `SYSTEM/scenario.sh:LINE` is a line that runs a check, `SeedLibraryTests/NAME` and
    /// `SeedScenarioTests/NAME` are test functions.
    @Test func tableReferencesRealChecks() throws {
        let table = try String(contentsOfFile: Self.seeds + "/README.md", encoding: .utf8)
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| seed") && !$0.contains("---") }
        #expect(rows.count >= 20)
        let testFiles = [
            "SeedLibraryTests": URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("CofferTests/SeedLibraryTests.swift").path,
            "SeedScenarioTests": #filePath,
        ]
        let scriptReference = /([a-z-]+\/scenario\.sh):([0-9]+)/
        let testReference = /(SeedLibraryTests|SeedScenarioTests)\/([A-Za-z]+)/
        for row in rows {
            let scripts = row.matches(of: scriptReference)
            let tests = row.matches(of: testReference)
            #expect(!scripts.isEmpty || !tests.isEmpty, "no check named in: \(row)")
            for match in scripts {
                let lines = try String(contentsOfFile: Self.seeds + "/" + match.1, encoding: .utf8)
                    .split(separator: "\n", omittingEmptySubsequences: false)
                let number = Int(match.2)!
                let line = number <= lines.count ? lines[number - 1].trimmingCharacters(in: .whitespaces) : ""
                #expect(line.hasPrefix("expect"), "\(match.1):\(number) is not a check: '\(line)'")
            }
            for match in tests {
                let found = try String(contentsOfFile: testFiles[String(match.1)]!, encoding: .utf8)
                    .contains("func \(match.2)(")
                #expect(found, "no test \(match.1)/\(match.2)")
            }
        }
    }
}
