import Benchmark
import CSodium
import CofferCrypto

/// XChaCha20-Poly1305 through CofferCrypto next to the same calls made on libsodium directly, in one
/// run, so their ratio does not depend on the machine; and Argon2id at libsodium's three presets.
///
/// Names: `AEAD.<seal|open|openInto>.<coffer|libsodium>.<size>`. Both sides of a seal draw a fresh
/// random nonce (`randombytes_buf`), as `XChaCha20Poly1305.seal` does. `open` returns a new array
/// (the output buffer); `openInto` writes into a preallocated one. The libsodium side always writes
/// into preallocated buffers, so its allocation count is the floor: zero.
let benchmarks: @Sendable () -> Void = {
    let sizes: [(label: String, bytes: Int, scaling: BenchmarkScalingFactor)] = [
        ("64B", 64, .kilo),
        ("1KiB", 1024, .kilo),
        ("64KiB", 64 << 10, .one),
        ("1MiB", 1 << 20, .one),
    ]
    // mallocCountTotal is deterministic: it is the only metric with committed thresholds.
    let exact: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: BenchmarkThresholds(relative: [.p90: 0], absolute: [.p90: 0])
    ]

    let keyBytes = (0..<32).map { UInt8($0 &* 7 &+ 1) }
    let key = keyBytes.withUnsafeBytes { SecureBytes(copying: $0) }
    let associatedData = Array("coffer-bench-ad".utf8)

    for size in sizes {
        let configuration = Benchmark.Configuration(
            metrics: [.throughput, .wallClock, .mallocCountTotal],
            timeUnits: .nanoseconds,
            warmupIterations: 3,
            scalingFactor: size.scaling,
            maxDuration: .seconds(1),
            maxIterations: 100_000,
            thresholds: exact)
        let plaintext = (0..<size.bytes).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let box = XChaCha20Poly1305.seal(plaintext, key: key, authenticating: associatedData)
        let sealedCount = size.bytes + XChaCha20Poly1305.overhead

        // MARK: seal

        Benchmark("AEAD.seal.coffer.\(size.label)", configuration: configuration) { benchmark in
            plaintext.withUnsafeBytes { message in
                associatedData.withUnsafeBytes { ad in
                    for _ in benchmark.scaledIterations {
                        blackHole(XChaCha20Poly1305.seal(message, key: key, authenticating: ad))
                    }
                }
            }
        }

        Benchmark("AEAD.seal.libsodium.\(size.label)", configuration: configuration) { benchmark in
            var output = [UInt8](repeating: 0, count: sealedCount)
            benchmark.startMeasurement()
            output.withUnsafeMutableBufferPointer { out in
                plaintext.withUnsafeBufferPointer { message in
                    associatedData.withUnsafeBufferPointer { ad in
                        keyBytes.withUnsafeBufferPointer { k in
                            let base = out.baseAddress!
                            let nonceCount = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
                            for _ in benchmark.scaledIterations {
                                randombytes_buf(base, nonceCount)
                                let status = crypto_aead_xchacha20poly1305_ietf_encrypt(
                                    base + nonceCount, nil, message.baseAddress, UInt64(message.count),
                                    ad.baseAddress, UInt64(ad.count), nil, base, k.baseAddress!)
                                blackHole(status)
                            }
                        }
                    }
                }
            }
            benchmark.stopMeasurement()
            blackHole(output)
        }

        // MARK: open

        Benchmark("AEAD.open.coffer.\(size.label)", configuration: configuration) { benchmark in
            associatedData.withUnsafeBytes { ad in
                for _ in benchmark.scaledIterations {
                    do {
                        blackHole(try XChaCha20Poly1305.open(box, key: key, authenticating: ad))
                    } catch {
                        fatalError("open failed: \(error)")
                    }
                }
            }
        }

        Benchmark("AEAD.openInto.coffer.\(size.label)", configuration: configuration) { benchmark in
            var output = [UInt8](repeating: 0, count: size.bytes)
            benchmark.startMeasurement()
            output.withUnsafeMutableBytes { out in
                associatedData.withUnsafeBytes { ad in
                    for _ in benchmark.scaledIterations {
                        do {
                            try XChaCha20Poly1305.open(box, key: key, authenticating: ad, into: out)
                        } catch {
                            fatalError("open failed: \(error)")
                        }
                    }
                }
            }
            benchmark.stopMeasurement()
            blackHole(output)
        }

        Benchmark("AEAD.open.libsodium.\(size.label)", configuration: configuration) { benchmark in
            var output = [UInt8](repeating: 0, count: size.bytes)
            benchmark.startMeasurement()
            output.withUnsafeMutableBufferPointer { out in
                box.combined.withUnsafeBufferPointer { sealed in
                    associatedData.withUnsafeBufferPointer { ad in
                        keyBytes.withUnsafeBufferPointer { k in
                            let nonceCount = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
                            for _ in benchmark.scaledIterations {
                                let status = crypto_aead_xchacha20poly1305_ietf_decrypt(
                                    out.baseAddress, nil, nil, sealed.baseAddress! + nonceCount,
                                    UInt64(sealed.count - nonceCount), ad.baseAddress, UInt64(ad.count),
                                    sealed.baseAddress!, k.baseAddress!)
                                precondition(status == 0, "decrypt failed")
                            }
                        }
                    }
                }
            }
            benchmark.stopMeasurement()
            blackHole(output)
        }
    }

    // MARK: coffer/libsodium ratio, interleaved

    // The benchmarks above run one after another, so a noisy neighbour can move one side and not
    // the other. Here each iteration alternates the two (in both orders) over the same buffers and
    // records libsodium's time divided by coffer's, in thousandths: 1000 = as fast as libsodium.
    let ratio = BenchmarkMetric.custom("libsodium/coffer time (‰)", polarity: .prefersLarger, useScalingFactor: false)
    for size in sizes {
        let plaintext = (0..<size.bytes).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let box = XChaCha20Poly1305.seal(plaintext, key: key, authenticating: associatedData)
        // Enough calls per timed slice (~64 KiB of data) that the clock's own cost does not count.
        let calls = max(1, (64 << 10) / size.bytes)
        let nonceCount = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
        // Output buffers made once (never freed: the process ends after the run).
        let sealed = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: size.bytes + XChaCha20Poly1305.overhead)
        let opened = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: size.bytes)
        sealed.initialize(repeating: 0)
        opened.initialize(repeating: 0)

        let operations: [(name: String, coffer: () -> Void, libsodium: () -> Void)] = [
            ("seal", {
                plaintext.withUnsafeBytes { message in
                    associatedData.withUnsafeBytes { ad in
                        for _ in 0..<calls { blackHole(XChaCha20Poly1305.seal(message, key: key, authenticating: ad)) }
                    }
                }
            }, {
                let base = sealed.baseAddress!
                for _ in 0..<calls {
                    randombytes_buf(base, nonceCount)
                    _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                        base + nonceCount, nil, plaintext, UInt64(plaintext.count),
                        associatedData, UInt64(associatedData.count), nil, base, keyBytes)
                }
            }),
            ("open", {
                associatedData.withUnsafeBytes { ad in
                    for _ in 0..<calls { blackHole(try? XChaCha20Poly1305.open(box, key: key, authenticating: ad)) }
                }
            }, {
                box.combined.withUnsafeBufferPointer { input in
                    for _ in 0..<calls {
                        _ = crypto_aead_xchacha20poly1305_ietf_decrypt(
                            opened.baseAddress, nil, nil, input.baseAddress! + nonceCount, UInt64(input.count - nonceCount),
                            associatedData, UInt64(associatedData.count), input.baseAddress!, keyBytes)
                    }
                }
            }),
            ("openInto", {
                let out = UnsafeMutableRawBufferPointer(opened)
                associatedData.withUnsafeBytes { ad in
                    for _ in 0..<calls { try? XChaCha20Poly1305.open(box, key: key, authenticating: ad, into: out) }
                }
            }, {
                box.combined.withUnsafeBufferPointer { input in
                    for _ in 0..<calls {
                        _ = crypto_aead_xchacha20poly1305_ietf_decrypt(
                            opened.baseAddress, nil, nil, input.baseAddress! + nonceCount, UInt64(input.count - nonceCount),
                            associatedData, UInt64(associatedData.count), input.baseAddress!, keyBytes)
                    }
                }
            }),
        ]
        for operation in operations {
            Benchmark(
                "AEAD.ratio.\(operation.name).\(size.label)",
                configuration: .init(
                    metrics: [ratio], warmupIterations: 2, maxDuration: .seconds(2), maxIterations: 400)
            ) { benchmark in
                let clock = ContinuousClock()
                var cofferTime = Duration.zero, libsodiumTime = Duration.zero
                for round in 0..<8 {
                    if round % 2 == 0 {
                        cofferTime += clock.measure(operation.coffer)
                        libsodiumTime += clock.measure(operation.libsodium)
                    } else {
                        libsodiumTime += clock.measure(operation.libsodium)
                        cofferTime += clock.measure(operation.coffer)
                    }
                }
                benchmark.measurement(ratio, Int((1000 * (libsodiumTime / cofferTime)).rounded()))
            }
        }
    }

    // MARK: Argon2id

    // One derivation per iteration; the sensitive preset (1 GiB, 4 passes) takes seconds, so few iterations.
    let presets: [(label: String, parameters: Argon2id.Parameters, iterations: Int)] = [
        ("interactive", .interactive, 10),
        ("moderate", .moderate, 5),
        ("sensitive", .sensitive, 3),
    ]
    let passphrase = Array("correct horse battery staple".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
    let salt = [UInt8](repeating: 0x5A, count: Argon2id.saltByteCount)
    for preset in presets {
        Benchmark(
            "Argon2id.\(preset.label)",
            configuration: .init(
                metrics: [.wallClock, .cpuTotal, .peakMemoryResident],
                timeUnits: .milliseconds,
                warmupIterations: 0,
                maxDuration: .seconds(60),
                maxIterations: preset.iterations)
        ) { benchmark in
            do {
                blackHole(try Argon2id.deriveKey(passphrase: passphrase, salt: salt, parameters: preset.parameters))
            } catch {
                fatalError("Argon2id failed: \(error)")
            }
        }
    }
}
