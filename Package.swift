// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "coffer",
    products: [
        .library(name: "Coffer", targets: ["Coffer"]),
        .executable(name: "coffer", targets: ["CofferCLI"]),
        // libCofferC.so, installed as libcoffer.so: the C ABI of Sources/CofferC/include/coffer.h (Python's ctypes binding).
        .library(name: "CofferC", type: .dynamic, targets: ["CofferC"]),
        // For Benchmarks/ (and other packages that build on the layers directly).
        .library(name: "CofferCrypto", targets: ["CofferCrypto"]),
        .library(name: "CofferCodec", targets: ["CofferCodec"]),
        .library(name: "CofferRotation", targets: ["CofferRotation"]),
        // libsodium itself, for the benchmarks' raw baseline.
        .library(name: "CSodium", targets: ["CSodium"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // libyaml, the reader under `import`'s YAML (Sources/Coffer/Import/YAMLReader.swift).
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // fstatfs(2): whether a vault lies on a local file system (Specs/fast-read.md).
        .systemLibrary(name: "CFileSystemInfo"),
        // Helper threads started on another CPU than their creator's (Concurrently).
        .systemLibrary(name: "CThreadPlacement"),
        // prctl(2), which Swift cannot call directly (it is variadic).
        .systemLibrary(name: "CProcessControl"),
        // Only to decrypt passphrase-protected OpenSSH private keys (bcrypt-pbkdf, AES-CTR): its
        // header, for the types; the library itself is loaded with dlopen when needed (see the
        // module map), so no pkgConfig here (it would link it).
        .systemLibrary(name: "CLibSSH"),
        .target(name: "CofferCrypto", dependencies: ["CSodium", "CLibSSH"]),
        .target(name: "CofferCodec"),
        .target(name: "CofferRotation", dependencies: ["CofferCrypto", "CofferCodec", "CThreadPlacement"]),
        .target(
            name: "Coffer",
            dependencies: ["CofferCrypto", "CofferCodec", "CofferRotation", "CYAML", "CFileSystemInfo"]
        ),
        .target(
            name: "CofferC",
            dependencies: ["Coffer", "CofferCrypto", "CofferCodec", "CofferRotation"],
            exclude: ["include"]
        ),
        .executableTarget(
            name: "CofferCLI",
            dependencies: ["Coffer", "CProcessControl", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "CofferCryptoTests", dependencies: ["CofferCrypto"]),
        .testTarget(name: "CofferCodecTests", dependencies: ["CofferCodec"]),
        .testTarget(name: "CofferRotationTests", dependencies: ["CofferRotation", "CofferCrypto", "CofferCodec"]),
        .testTarget(
            name: "CofferTests",
            dependencies: ["Coffer", "CofferRotation", "CofferCrypto", "CofferCodec", "Yams"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "CofferCLITests", dependencies: ["CofferCLI", "Coffer", "Yams"], exclude: ["Plugin"]),
    ],
    swiftLanguageModes: [.v6]
)
