import Benchmark
import BenchmarkSupport
import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Whole-vault operations at 1k, 10k and 100k entries named `svc.key.N` with 44-character values.
///
/// Each benchmark builds its vault in `setup` (a real file in a fresh temporary folder, through
/// `Vault.create` with a tiny Argon2id and `Vault.set`), so none of that is measured:
/// - `Vault.encode.N` / `Vault.decode.N`: CofferCodec alone, bytes to `VaultFile` and back.
/// - `Vault.verifySignature.N`: the signature check inside opening: BLAKE2b-512 of the file, Ed25519.
/// - `Vault.openReadOne.N`: read the file, parse, verify key chain and signature, unlock with the
///   master key in hand (as a session does; no KDF), open one value.
/// - `Vault.setOneSave.N`: overwrite one value of an open vault and save (encode, sign, write to a
///   temporary file, fsync, read back and verify, rename, fsync the folder).
/// - `Vault.merge.10k`: `coffer git merge` without its process and file reading: three versions
///   parsed and verified, a three-way merge of two branches that each changed 10 entries, the
///   result written with `Vault.replace`.
/// - `Vault.rekey.N`: `Rotation.rekey`, in memory: every entry opened and re-sealed under a fresh
///   master key, the slot re-wrapped, a key-chain link signed.
let benchmarks: @Sendable () -> Void = {
    let scales: [(label: String, entries: Int, iterations: Int)] = [
        ("1k", 1_000, 1_000),
        ("10k", 10_000, 200),
        ("100k", 100_000, 25),
    ]
    let exact: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: BenchmarkThresholds(relative: [.p90: 0], absolute: [.p90: 0])
    ]

    // What `coffer git merge` does after reading its three files (Sources/CofferCLI/Git.swift,
    // mergeVersions): parse and verify three versions, unlock both sides with one grant, merge
    // entry by entry, write the result (sealed, signed, every entry opened again from the file).
    Benchmark(
        "Vault.merge.10k",
        configuration: .init(
            metrics: [.wallClock, .mallocCountTotal, .throughput], timeUnits: .microseconds, warmupIterations: 1,
            maxDuration: .seconds(2), maxIterations: 200, thresholds: exact)
    ) { benchmark, merge in
        do {
            let ours = try Vault(bytes: merge.ours, path: merge.output)
            let theirs = try Vault(bytes: merge.theirs, path: merge.output)
            let base = try Vault(bytes: merge.base, path: merge.output).file
            try ours.unlock(grant: merge.fixture.grant)
            try theirs.unlock(grant: ours.keyGrant!)
            let outcome = try GitMerge.merge(
                base: base, ours: GitMerge.Side(file: ours.file, grant: ours.keyGrant),
                theirs: GitMerge.Side(file: theirs.file, grant: theirs.keyGrant))
            guard case let .merged(file, grant) = outcome else { fatalError("unexpected conflicts") }
            try Vault.replace(at: merge.output, with: file, grant: grant)
        } catch {
            fatalError("merge failed: \(error)")
        }
    } setup: {
        try MergeFixture(entries: 10_000, changed: 10)
    } teardown: {
        Fixture.removeTemporaryFolders()
    }

    for scale in scales {
        let configuration = Benchmark.Configuration(
            metrics: [.wallClock, .mallocCountTotal, .throughput],
            timeUnits: .microseconds,
            warmupIterations: 1,
            maxDuration: .seconds(2),
            maxIterations: scale.iterations,
            thresholds: exact)
        let entries = scale.entries

        Benchmark("Vault.encode.\(scale.label)", configuration: configuration) { benchmark, fixture in
            blackHole(VaultEncoder.encode(fixture.file))
        } setup: {
            try Fixture(entries: entries)
        } teardown: {
            Fixture.removeTemporaryFolders()
        }

        Benchmark("Vault.decode.\(scale.label)", configuration: configuration) { benchmark, fixture in
            do {
                blackHole(try VaultDecoder.decode(fixture.bytes))
            } catch {
                fatalError("decode failed: \(error)")
            }
        } setup: {
            try Fixture(entries: entries)
        } teardown: {
            Fixture.removeTemporaryFolders()
        }

        // The signature part of opening alone: BLAKE2b-512 of the signed bytes, then Ed25519.
        Benchmark("Vault.verifySignature.\(scale.label)", configuration: configuration) { benchmark, fixture in
            let bytes = fixture.bytes
            let hash = bytes.withUnsafeBytes {
                BLAKE2b.hash(UnsafeRawBufferPointer(rebasing: $0[..<(bytes.count - VaultFile.signatureByteCount)]))
            }
            let valid = Ed25519.isValidSignature(
                fixture.file.signature, for: FormatMessages.fileSignature(hash: hash),
                publicKey: fixture.file.keyChain.currentKey)
            precondition(valid, "signature does not verify")
        } setup: {
            try Fixture(entries: entries)
        } teardown: {
            Fixture.removeTemporaryFolders()
        }

        Benchmark("Vault.openReadOne.\(scale.label)", configuration: configuration) { benchmark, fixture in
            do {
                let vault = try Vault.open(at: fixture.path)
                try vault.unlock(grant: fixture.grant)
                blackHole(try vault.value(for: fixture.probeName))
            } catch {
                fatalError("open failed: \(error)")
            }
        } setup: {
            try Fixture(entries: entries)
        } teardown: {
            Fixture.removeTemporaryFolders()
        }

        Benchmark("Vault.setOneSave.\(scale.label)", configuration: configuration) { benchmark, state in
            do {
                try state.vault.set(state.fixture.probeName, value: state.nextValue(), overwrite: true)
                try state.vault.save()
            } catch {
                fatalError("set+save failed: \(error)")
            }
        } setup: {
            try Writer(Fixture(entries: entries))
        } teardown: {
            Fixture.removeTemporaryFolders()
        }

        // From Rotation.parallelEntryCount entries on, the re-seal runs on Dispatch's threads,
        // whose pool allocates once more or not at all from one run to the next: one allocation
        // of slack there, none anywhere else.
        var rekeyConfiguration = configuration
        if entries >= Rotation.parallelEntryCount {
            rekeyConfiguration.thresholds = [.mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 1])]
        }
        Benchmark("Vault.rekey.\(scale.label)", configuration: rekeyConfiguration) { benchmark, fixture in
            do {
                blackHole(try Rotation.rekey(fixture.index, from: fixture.grant))
            } catch {
                fatalError("rekey failed: \(error)")
            }
        } setup: {
            try Fixture(entries: entries)
        } teardown: {
            Fixture.removeTemporaryFolders()
        }
    }
}

/// Base, ours and theirs of one vault, each branch with `changed` different entries overwritten.
final class MergeFixture {
    let fixture: Fixture
    let base: [UInt8]
    let ours: [UInt8]
    let theirs: [UInt8]
    let output: String

    init(entries count: Int, changed: Int) throws {
        let fixture = try Fixture(entries: count)
        self.fixture = fixture
        base = fixture.bytes
        var generator = SplitMix64(seed: 0xFEED)
        ours = try MergeFixture.branch(of: fixture, "ours", first: 100, count: changed, &generator)
        theirs = try MergeFixture.branch(of: fixture, "theirs", first: 200, count: changed, &generator)
        output = fixture.folder + "/merged.coffer"
        try MergeFixture.write(ours, to: output)
    }

    /// The base with entries `first..<first+count` overwritten and saved (a commit on a branch).
    static func branch(
        of fixture: Fixture, _ name: String, first: Int, count: Int, _ generator: inout SplitMix64
    ) throws -> [UInt8] {
        let path = fixture.folder + "/" + name + ".coffer"
        try write(fixture.bytes, to: path)
        let vault = try Vault.open(at: path)
        try vault.unlock(grant: fixture.grant)
        vault.clock = { 1_764_028_800 }
        for index in first..<(first + count) {
            try vault.set("svc.key.\(index)", value: generator.secretValue(), overwrite: true)
        }
        try vault.save()
        return VaultEncoder.encode(vault.file)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
        precondition(written == bytes.count, "short write to \(path)")
    }
}

/// A vault of `entries` secrets on disk, with its bytes, decoded file and master key.
final class Fixture {
    let folder: String
    let path: String
    let bytes: [UInt8]
    let file: VaultFile
    /// The file as read, for a re-key.
    let index: VaultIndex
    let grant: KeyGrant
    /// An entry in the middle of the canonical order.
    let probeName: String

    init(entries count: Int) throws {
        folder = TemporaryFolder.make()
        let made = folder
        Fixture.temporaryFolders.withLock { $0.append(made) }
        path = folder + "/bench.coffer"
        // Tiny KDF: creation is setup, not what is measured.
        let passphrase = Array("bench".utf8).withUnsafeBytes { SecureBytes(copying: $0) }
        let vault = try Vault.create(
            at: path, passphrase: passphrase, kdf: try Argon2id.Parameters(opsLimit: 1, memLimit: 8192))
        vault.clock = { 1_764_028_800 }  // 2025-11-25: fixed, so every run encodes the same sizes
        // Canonical (byte-wise) order, so each set appends instead of shifting the array.
        let names = (0..<count).map { "svc.key.\($0)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var generator = SplitMix64(seed: 0xC0FFEE)
        for name in names {
            try vault.set(name, value: generator.secretValue())
        }
        try vault.save()
        probeName = "svc.key.\(count / 2)"
        grant = vault.keyGrant!
        file = vault.file
        bytes = VaultEncoder.encode(vault.file)
        index = try VaultDecoder.index(bytes)
    }

    /// Folders made by setups; the benchmark keeps its setup's state until the process ends (no
    /// deinit runs then), so each benchmark's teardown removes them.
    private static let temporaryFolders = Mutex<[String]>([])

    static func removeTemporaryFolders() {
        let folders = temporaryFolders.withLock { folders in
            defer { folders.removeAll() }
            return folders
        }
        folders.forEach(removeFolder)
    }

    static func removeFolder(_ folder: String) {
        for name in Folder.entryNames(folder) ?? [] { unlink(folder + "/" + name) }
        rmdir(folder)
    }
}

/// An open, unlocked vault to overwrite one entry of, again and again.
final class Writer {
    let fixture: Fixture
    let vault: Vault
    private var generator = SplitMix64(seed: 0xBEEF)

    init(_ fixture: Fixture) throws {
        self.fixture = fixture
        vault = try Vault.open(at: fixture.path)
        try vault.unlock(grant: fixture.grant)
        vault.clock = { 1_764_028_800 }
    }

    func nextValue() -> [UInt8] { generator.secretValue() }
}
