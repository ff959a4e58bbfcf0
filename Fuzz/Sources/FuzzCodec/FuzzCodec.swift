import CofferCodec

/// Feeds arbitrary bytes to the vault parser: it must throw or return, never trap, and never
/// allocate beyond the format's caps (libFuzzer's -malloc_limit_mb catches that).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let file = try? VaultDecoder.decode(bytes) {
        // Whatever parses must survive a round trip through the encoder unchanged. (Its bytes may
        // differ only by optional extension fields, which readers skip and writers do not keep.)
        precondition((try? VaultDecoder.decode(VaultEncoder.encode(file))) == file, "a parsed file did not round-trip")
    }
    return 0
}
