import CofferCodec

/// Feeds arbitrary bytes to the vault parser: it must throw or return, never trap, and never
/// allocate beyond the format's caps (libFuzzer's -malloc_limit_mb catches that).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let file = try? VaultDecoder.decode(bytes)
    let index = try? VaultDecoder.index(bytes)
    precondition((file == nil) == (index == nil), "decode and index disagree on whether the file is valid")
    if let file, let index {
        // Whatever parses must survive a round trip through the encoder unchanged. (Its bytes may
        // differ only by optional extension fields, which readers skip and writers do not keep.)
        precondition((try? VaultDecoder.decode(VaultEncoder.encode(file))) == file, "a parsed file did not round-trip")
        // The index finds every entry where the decoded file has it.
        precondition(index.decoded() == file, "the index decodes another file")
        for (position, entry) in file.entries.enumerated() {
            let found = index.position(of: entry.name, in: entry.scope)
            precondition(found.found && found.position == position, "the index misplaces an entry")
        }
    }
    return 0
}
