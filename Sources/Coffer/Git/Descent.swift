public import CofferCodec

/// Whether one version of a vault can have come from another by saves, rotations and merges
/// (Specs/git.md, "Descent"): the same vault id, a generation not below the other's (equal only
/// for the very same version), and a key chain that extends the other's. The merge driver asks
/// it of each side against the merge base, the history check of each parent -> child edge.
/// Needs no key.
public enum Descent {
    /// No save, rotation or merge takes a vault this high: 2^62 saves. A version above it was
    /// made to exhaust the generation (the next save of a vault at 2^64-1 fails for good).
    public static let generationCap: UInt64 = 1 << 62

    /// Why `child` (named `name` in the message: "theirs", "commit 1a2b3c4") does not descend
    /// from `parent` (named `parentName`), or nil when it does.
    public static func problem(_ child: VaultFile, named name: String, from parent: VaultFile, named parentName: String) -> String? {
        if child.vaultID != parent.vaultID {
            return "\(name) is another vault than \(parentName) (different vault ids): a vault copied over this one?"
        }
        if child.generation < parent.generation {
            return "\(name) (generation \(child.generation)) is older than \(parentName) (generation \(parent.generation)): an old copy restored on that branch?"
        }
        let parentKeys = parent.keyChain.allKeys, childKeys = child.keyChain.allKeys
        if childKeys.count < parentKeys.count || !zip(parentKeys, childKeys).allSatisfy({ $0 == $1 }) {
            return "\(name)'s key chain (\(describe(child.keyChain))) does not extend \(parentName)'s (\(describe(parent.keyChain))):"
                + " a copy from before a rotation, or a key chain forked by someone holding a replaced master key?"
        }
        if child.generation == parent.generation && child.signature != parent.signature {
            return "\(name) (generation \(child.generation)) has the generation of \(parentName) but other content: a fork (a copy written from an older version)?"
        }
        return nil
    }

    /// Whether neither chain extends the other: two versions re-keyed apart from a common key
    /// (a fork of the key chain), or not one vault's chains at all.
    public static func chainsFork(_ a: KeyChain, _ b: KeyChain) -> Bool {
        let x = a.allKeys, y = b.allKeys
        return !zip(x, y).allSatisfy { $0 == $1 }
    }

    /// Why a version named `name` may not be merged for its generation, or nil.
    public static func generationProblem(_ file: VaultFile, named name: String) -> String? {
        guard file.generation > generationCap else { return nil }
        return "\(name) is at generation \(file.generation), above 2^62, which no vault reaches by saving: a version made to exhaust the generation?"
    }

    /// "3 keys, current 1a2b3c4d5e6f7a8b".
    public static func describe(_ chain: KeyChain) -> String {
        "\(chain.allKeys.count) key\(chain.allKeys.count == 1 ? "" : "s"), current \(TrustStore.fingerprint(chain.currentKey))"
    }
}

/// A version that is not a descendant where it must be one: never merged, never written over.
public struct DescentError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
