#if canImport(Glibc)
import Glibc
#endif

/// Fresh folders under $TMPDIR (or /tmp) for the benchmarks' vaults.
public enum TemporaryFolder {
    public static func make() -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((base + "/coffer-bench-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            fatalError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}

extension SplitMix64 {
    /// 44 characters of base64 alphabet, as a 32-byte random token in base64 would be.
    public mutating func secretValue() -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        return (0..<44).map { _ in alphabet[Int(next() & 63)] }
    }
}
