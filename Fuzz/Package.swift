// swift-tools-version: 6.0
// libFuzzer targets over the vault codec and the whole open path. Built only by `make fuzz`
// (with --sanitize=fuzzer and address), never by a plain `swift build` of the main package.
import Foundation
import PackageDescription

/// The main package's identity is the name of the folder it was cloned into, lowercased.
let coffer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "coffer-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzCodec",
            dependencies: [.product(name: "CofferCodec", package: coffer)],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "FuzzOpen",
            dependencies: [
                .product(name: "Coffer", package: coffer),
                .product(name: "CofferCrypto", package: coffer),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
