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
}
