import Foundation
import Testing

/// Masking v2 through `coffer run`: each form real tools print a secret in is hidden, also when
/// the job writes it one byte per write, on stdout and on stderr.
@Suite struct WorkflowMaskingFormsTests {
    /// Space, `/`, `+`, `~`, `*`, `"`, `\` and a non-ASCII letter: every encoding below differs.
    static let password = #"p@ss w/rd+~*"\é!"#
    static let key = "-----BEGIN TEST KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n9Cnzj4p4WGeKLs1P\n-----END TEST KEY-----\n"

    /// Prints, with Python's standard library, one line per form of $PW (and each line of $KEY),
    /// one byte per write, to stdout or stderr.
    static let printer = #"""
        import base64, binascii, json, os, sys, urllib.parse
        pw = os.environb[b"PW"]
        text = pw.decode()
        forms = [pw, binascii.hexlify(pw), binascii.hexlify(pw).upper(),
                 urllib.parse.quote(pw).encode(), urllib.parse.quote(pw, safe="").encode(),
                 urllib.parse.quote(pw, safe="").lower().encode(), urllib.parse.quote_plus(pw).encode(),
                 json.dumps(text).encode(), json.dumps(text, ensure_ascii=False).encode(),
                 json.dumps(text).replace("/", "\\/").encode()]
        for prefix in [b"", b"u", b"us", b"user:", b"user:x", b"user:xy"]:
            forms += [base64.b64encode(prefix + pw + b"\xff"), base64.urlsafe_b64encode(prefix + pw + b"\xff")]
        forms += [b"key line " + line for line in os.environb[b"KEY"].split(b"\n")]
        out = getattr(sys, sys.argv[1]).buffer
        for form in forms:
            for byte in form + b"\n":
                out.write(bytes([byte]))
                out.flush()
        """#

    @Test(arguments: ["stdout", "stderr"]) func everyFormIsMaskedWhenWrittenByteByByte(stream: String) throws {
        let fixture = try WorkflowVault()
        try fixture.set("pw", Self.password)
        try fixture.set("key", Self.key)
        let result = try fixture.coffer(["run", "--", "/usr/bin/python3", "-c", Self.printer, stream])
        #expect(result.code == 0, "\(result.stderr)")
        let lines = (stream == "stdout" ? result.stdout : result.stderr).split(separator: "\n").map(String.init)
        try #require(lines.count == 10 + 12 + 4, "\(lines)")
        for line in lines.prefix(10) {
            #expect(line == "****" || line == "\"****\"", "not masked: \(line)")
        }
        // base64 after a prefix: only the characters that also hold bits of the prefix or of the byte after stay.
        var expected: [String] = []
        for prefix in ["", "u", "us", "user:", "user:x", "user:xy"] {
            let input = Array(prefix.utf8) + Array(Self.password.utf8) + [0xFF]
            let base64 = Data(input).base64EncodedString()
            let first = (8 * prefix.utf8.count + 5) / 6, end = 8 * (input.count - 1) / 6
            for text in [base64, base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")] {
                expected.append(String(text.prefix(first)) + "****" + String(text.dropFirst(end)))
            }
        }
        #expect(Array(lines.dropFirst(10).prefix(12)) == expected)
        #expect(Array(lines.suffix(4)) == [
            "key line -----BEGIN TEST KEY-----", "key line ****", "key line ****", "key line -----END TEST KEY-----",
        ])
    }

    /// What `curl -v -u user:password` prints for Basic auth, through the real base64 tool.
    @Test func basicAuthHeaderIsMasked() throws {
        let fixture = try WorkflowVault()
        try fixture.set("pw", Self.password)
        let result = try fixture.coffer(["run", "--", "/bin/sh", "-c",
                                         #"printf '> Authorization: Basic %s\n' "$(printf 'alice:%s' "$PW" | base64 -w0)""#])
        #expect(result.code == 0, "\(result.stderr)")
        // "alice:" is 6 bytes, 8 characters of its own; the rest is the password's own base64, padding included.
        let base64 = Data("alice:\(Self.password)".utf8).base64EncodedString()
        #expect(result.stdout == "> Authorization: Basic \(base64.prefix(8))****\n")
    }

    /// `xxd -p` (and `-u`) output of a 45-byte secret, which always runs across xxd's line wrap
    /// (30 bytes, 60 digits a line), after prefixes that start it at several places in a line;
    /// written one byte per write.
    @Test(arguments: ["stdout", "stderr"]) func xxdOutputIsMaskedAcrossItsLineWraps(stream: String) throws {
        let fixture = try WorkflowVault()
        let secret = "Xq7-vL2pR9sT4wY6zB1cF3hJ5kM8nQ0dG-eAuW_iOyZtE"
        try fixture.set("pw", secret)
        let noise = (0..<60).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }
        try Data(noise).write(to: URL(fileURLWithPath: fixture.folder + "/noise"))
        let offsets = [0, 1, 7, 15, 29, 30, 31, 44]
        let script = """
            for flag in '' -u; do for k in \(offsets.map(String.init).joined(separator: " ")); do
              { head -c $k noise; printf %s "$PW"; head -c 20 noise; } | xxd -p $flag
            done; done | python3 -c '
            import sys
            out = getattr(sys, sys.argv[1]).buffer
            for byte in sys.stdin.buffer.read():
                out.write(bytes([byte]))
                out.flush()
            ' \(stream)
            """
        let result = try fixture.coffer(["run", "--mask", "--", "/bin/sh", "-c", "cd '\(fixture.folder)' && \(script)"])
        #expect(result.code == 0, "\(result.stderr)")
        var expected = ""
        for format in ["%02x", "%02X"] {
            for offset in offsets {
                let digits = (noise.prefix(offset) + Array(secret.utf8) + noise.prefix(20)).map { String(format: format, $0) }.joined()
                let hidden = 2 * offset..<2 * (offset + secret.utf8.count)
                for start in stride(from: 0, to: digits.count, by: 60) {
                    let line = start..<min(start + 60, digits.count), inside = line.clamped(to: hidden)
                    let text = Array(digits)
                    expected += inside.isEmpty ? String(text[line])
                        : String(text[line.lowerBound..<inside.lowerBound]) + "****" + String(text[inside.upperBound..<line.upperBound])
                    expected += "\n"
                }
            }
        }
        #expect((stream == "stdout" ? result.stdout : result.stderr) == expected)
    }
}
