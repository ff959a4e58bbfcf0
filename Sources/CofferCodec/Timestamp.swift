#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The format's times are Unix seconds; this is how people read them.
public enum Timestamp {
    /// Seconds since the epoch now.
    public static func now() -> UInt64 { UInt64(clamping: time(nil)) }

    /// RFC 3339 in UTC, to the second: `2026-11-25T13:00:00Z`.
    public static func rfc3339(_ seconds: UInt64) -> String {
        var time = time_t(clamping: seconds)
        var parts = tm()
        // Beyond the years gmtime can express (a hostile file's timestamp): the number itself.
        guard gmtime_r(&time, &parts) != nil else { return "@\(seconds)" }
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
