import Benchmark
import BenchmarkSupport
import Coffer

/// The masker `coffer run` puts between a job and the log (Sources/Coffer/Workflows/SecretMasker.swift):
/// - `Masker.setup.binary128KiB`: compiling a masker for one 128 KiB random binary secret.
/// - `Masker.setup.10000x44B`: compiling one for 10,000 secrets of 44 base64 characters each
///   (the shape of the vault benchmarks' values).
/// - `Masker.stream.1MiB`: with the 10,000-secret masker, one 1 MiB write of log text that holds
///   no secret (every byte still goes through the automaton); throughput is writes per second.
/// Goals (issue 20): set-up under 0.5 s and under 64 MiB of peak memory for either case, and at
/// least 200 MB/s through the masker.
let benchmarks: @Sendable () -> Void = {
    let exact: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: BenchmarkThresholds(relative: [.p90: 0], absolute: [.p90: 0])
    ]
    // CPU time next to wall clock: on a shared machine it moves less with the load.
    func setup(_ name: String, values: @escaping @Sendable () -> [[UInt8]]) {
        Benchmark(
            name,
            configuration: .init(
                metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .mallocBytesCount, .peakMemoryResidentDelta],
                timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(5), maxIterations: 10, thresholds: exact)
        ) { benchmark, values in
            blackHole(SecretMasker(values: values))
        } setup: {
            values()
        }
    }
    setup("Masker.setup.binary128KiB") {
        var generator = SplitMix64(seed: 1)
        return [(0..<(128 << 10)).map { _ in UInt8.random(in: 0...255, using: &generator) }]
    }
    setup("Masker.setup.10000x44B", values: manySecrets)

    Benchmark(
        "Masker.stream.1MiB",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal], timeUnits: .microseconds, warmupIterations: 2,
            maxDuration: .seconds(5), maxIterations: 200, thresholds: exact)
    ) { benchmark, fixture in
        var masker = fixture.masker
        blackHole(masker.process(fixture.text))
        blackHole(masker.finish())
    } setup: {
        (masker: SecretMasker(values: manySecrets()), text: logText(bytes: 1 << 20))
    }
}

/// 10,000 secrets of 44 characters from the base64 alphabet, as a 32-byte key prints.
private func manySecrets() -> [[UInt8]] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var generator = SplitMix64(seed: 2)
    return (0..<10_000).map { _ in (0..<44).map { _ in alphabet.randomElement(using: &generator)! } }
}

/// Lines of a build log: words, numbers, paths and hex digests, no secret.
private func logText(bytes: Int) -> [UInt8] {
    let words = ["compiling", "Sources/App/main.swift", "warning:", "unused", "variable", "ok", "step", "42", "0.318s",
                 "sha256:9f86d081884c7d65", "GET", "/api/v1/items?page=3", "200", "--", "linking", "done", "[info]"]
    var generator = SplitMix64(seed: 3)
    var text: [UInt8] = []
    text.reserveCapacity(bytes + 64)
    while text.count < bytes {
        for _ in 0..<Int.random(in: 3...12, using: &generator) {
            text += words.randomElement(using: &generator)!.utf8
            text.append(UInt8(ascii: " "))
        }
        text.append(UInt8(ascii: "\n"))
    }
    return Array(text.prefix(bytes))
}
