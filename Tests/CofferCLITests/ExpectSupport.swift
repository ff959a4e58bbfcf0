import Foundation

/// Runs expect scripts: a pseudo-terminal for tools that ask on /dev/tty (age, coffer, plugins).
enum Expect {
    /// Runs `script` in `folder` with exactly `environment`; the output is the terminal's.
    static func run(_ script: String, in folder: String, environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/expect")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
