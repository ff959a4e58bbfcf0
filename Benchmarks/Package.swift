// swift-tools-version: 6.1
import PackageDescription

// The parent package is a path dependency, and SwiftPM names a path dependency after its folder
// (lowercased). CI clones the repository into any folder name, so the identity is derived from
// where this manifest is rather than written out.
let cofferIdentity: String = {
    var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: true)
    components.removeLast(2)  // "Package.swift", "Benchmarks"
    return components.last.map { $0.lowercased() } ?? "coffer"
}()

let package = Package(
    name: "CofferBenchmarks",
    platforms: [.macOS("15")],
    dependencies: [
        .package(path: "../"),
        // The MallocInterposer trait alone: the default traits pull in a runtime interposer
        // that is not mirrored here, and mallocCountTotal is all the thresholds need.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // What the benchmarks share: a seeded generator for their inputs.
        .target(name: "BenchmarkSupport", path: "Benchmarks/BenchmarkSupport"),
        // AEAD seal/open against raw libsodium in the same process, and Argon2id presets.
        .executableTarget(
            name: "CryptoBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CofferCrypto", package: cofferIdentity),
                .product(name: "CSodium", package: cofferIdentity),
            ],
            path: "Benchmarks/CryptoBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Encode, decode, open+verify+read, set+save and re-key at 1k, 10k and 100k entries.
        .executableTarget(
            name: "VaultBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Coffer", package: cofferIdentity),
                .product(name: "CofferCrypto", package: cofferIdentity),
                .product(name: "CofferCodec", package: cofferIdentity),
                .product(name: "CofferRotation", package: cofferIdentity),
            ],
            path: "Benchmarks/VaultBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Whole commands (get, set, rotate at 1k, 10k and 100k): the `coffer` binary, which
        // this target depends on only so that it is built beside it.
        .executableTarget(
            name: "CommandBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "coffer", package: cofferIdentity),
            ],
            path: "Benchmarks/CommandBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The output masker of `coffer run`: set-up for a large secret and for many, and throughput.
        .executableTarget(
            name: "MaskerBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Coffer", package: cofferIdentity),
            ],
            path: "Benchmarks/MaskerBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
