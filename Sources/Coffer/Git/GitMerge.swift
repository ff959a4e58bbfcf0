public import CofferCodec
import CofferCrypto
public import CofferRotation

/// Three-way merge of vault versions at entry level (Specs/git.md, merge rules).
public enum GitMerge {
    /// One version of the vault with the key that opens it (nil for a base nobody unlocked).
    /// A class: the merge pairs every entry with its side, and that must cost no copies.
    public final class Side {
        public let file: VaultFile
        public let grant: KeyGrant?
        /// The verification key the version is signed with: versions sharing it share the master key.
        let key: [UInt8]

        public init(file: VaultFile, grant: KeyGrant?) {
            self.file = file
            self.grant = grant
            self.key = file.keyChain.currentKey
        }

        /// Opens this version's entries; made once, for all of them (nil without a grant).
        private(set) lazy var cipher: EntryCipher? = grant.map { EntryCipher(vaultID: file.vaultID, grant: $0) }

        func hasSameKey(as other: Side) -> Bool { self === other || key == other.key }
    }

    public enum Choice: Sendable { case ours, theirs }

    /// An item a resolve is asked about: `description` as in a conflict ("entry global/a",
    /// "slot 1a2b3c4d"), `name` as a user names it (the entry's name, the slot id), and whether
    /// only a resolve that names it may take a side (a slot, or a change made under a key a
    /// revocation replaced).
    public struct Item: Sendable {
        public let description: String
        public let name: String
        public let needsName: Bool
    }

    /// `coffer git resolve --ours|--theirs [NAME...]`: with names, the named items take `choice`;
    /// without, every conflict that needs no name does, and the others stay conflicts.
    public static func resolution(_ choice: Choice, names: Set<String>) -> (Item) -> Choice? {
        { item in (names.isEmpty ? !item.needsName : names.contains(item.name)) ? choice : nil }
    }

    /// A (scope, name) or slot both sides changed in different ways; `description` names it and
    /// says which way each side went, never a value.
    public struct Conflict: Equatable, Sendable, CustomStringConvertible {
        public let item: String
        public let ours: String
        public let theirs: String
        public var description: String { "\(item): ours \(ours), theirs \(theirs)" }
    }

    public enum Outcome {
        case merged(VaultFile, KeyGrant)
        case conflicts([Conflict])
    }

    /// Refuses versions of different vaults; callers check it before asking for any key.
    public static func requireSameVault(base: VaultFile?, ours: VaultFile, theirs: VaultFile) throws {
        guard base.map({ $0.vaultID == ours.vaultID }) ?? true, ours.vaultID == theirs.vaultID else {
            throw CofferError.conflict("the three versions are not the same vault (different vault ids)")
        }
    }

    /// Refuses to merge sides that do not descend from `base` (a `DescentError` naming the side
    /// and what was found), and sides whose generation is out of reach of saves. Needs no key;
    /// callers check it before asking for one.
    public static func requireDescent(base: VaultFile?, ours: VaultFile, theirs: VaultFile) throws {
        for (file, name) in [(ours, "ours"), (theirs, "theirs")] {
            if let problem = Descent.generationProblem(file, named: name) { throw DescentError(message: problem) }
            if let base, let problem = Descent.problem(file, named: name, from: base, named: "the merge base") {
                throw DescentError(message: problem)
            }
        }
        if let base, let problem = Descent.generationProblem(base, named: "the merge base") { throw DescentError(message: problem) }
    }

    /// Merges `ours` and `theirs` from their common `base` (nil: no common ancestor).
    /// `resolve` picks a side for conflicting items (all of them, or those it returns non-nil for).
    public static func merge(
        base: VaultFile?, ours: Side, theirs: Side, resolve: (Item) -> Choice? = { _ in nil }
    ) throws -> Outcome {
        try requireSameVault(base: base, ours: ours.file, theirs: theirs.file)
        try requireDescent(base: base, ours: ours.file, theirs: theirs.file)
        guard let oursGrant = ours.grant, let theirsGrant = theirs.grant, oursGrant.isFull, theirsGrant.isFull else {
            throw CofferError.keyUnavailable("merging needs the master key of both sides")
        }
        // The result is sealed under the newer key: the side whose chain contains the other's key.
        let target: Side, other: Side
        if ours.file.keyChain.allKeys.contains(theirs.key) {
            (target, other) = (ours, theirs)
        } else if theirs.file.keyChain.allKeys.contains(ours.key) {
            (target, other) = (theirs, ours)
        } else {
            throw CofferError.conflict("both branches re-keyed the vault independently; merge one rotation first and rotate again")
        }
        guard max(ours.file.generation, theirs.file.generation) < Descent.generationCap else {
            throw DescentError(message: "the merged vault would be above generation 2^62, which no vault reaches by saving")
        }
        let baseSide = base.map { file in
            Side(file: file, grant: [ours, theirs].first { $0.key == file.keyChain.currentKey }?.grant)
        }
        // A revocation: the re-keyed side removed a slot since the base. Whatever the other side
        // changed under the key it replaced may be the removed party's doing: each such item is a
        // conflict that only a resolve naming it settles.
        let revoked = baseSide.map { base in
            !other.hasSameKey(as: target) && base.file.slots.contains { slot in !target.file.slots.contains { $0.id == slot.id } }
        } ?? false
        let staleIsOurs: Bool? = revoked ? other === ours : nil
        var conflicts: [Conflict] = []

        // Entries: the three lists are in canonical order, so one pass over them meets each
        // (scope, name) once, and the result comes out in canonical order too.
        var chosen: [(Entry, Side)] = []
        chosen.reserveCapacity(max(ours.file.entries.count, theirs.file.entries.count))
        let oneKey = baseSide.map { $0.hasSameKey(as: ours) && ours.hasSameKey(as: theirs) } ?? false
        try forEachName(base: baseSide?.file.entries ?? [], ours: ours.file.entries, theirs: theirs.file.entries) { b, o, t in
            // Most entries are the same in all three versions.
            if oneKey, let b, let o, let t, isIdentical(b, o), isIdentical(o, t) {
                chosen.append((o, ours))
                return
            }
            let any = (b ?? o ?? t)!
            let pick = try threeWay(
                base: b.map { ($0, baseSide!) }, ours: o.map { ($0, ours) }, theirs: t.map { ($0, theirs) }, staleIsOurs: staleIsOurs,
                same: sameEntry, item: Item(description: "entry \(any.scope)/\(any.name)", name: any.name, needsName: false),
                resolve: resolve, conflicts: &conflicts)
            if let pick { chosen.append(pick) }
        }

        // Slots, keyed by id.
        let baseSlots = Dictionary(uniqueKeysWithValues: (baseSide?.file.slots ?? []).map { ($0.id, ($0, baseSide!)) })
        let oursSlots = Dictionary(uniqueKeysWithValues: ours.file.slots.map { ($0.id, ($0, ours)) })
        let theirsSlots = Dictionary(uniqueKeysWithValues: theirs.file.slots.map { ($0.id, ($0, theirs)) })
        var slots: [(Slot, Side)] = []
        for id in Set(baseSlots.keys).union(oursSlots.keys).union(theirsSlots.keys) {
            let item = Item(description: "slot \(Slot.idText(id))", name: Slot.idText(id), needsName: true)
            guard let pick = try threeWay(
                base: baseSlots[id], ours: oursSlots[id], theirs: theirsSlots[id], staleIsOurs: staleIsOurs, same: sameSlot,
                item: item, resolve: resolve, conflicts: &conflicts) else { continue }
            // A slot added or changed under the key the other side replaced could be a revoked
            // party's way back in: only a resolve that picks that side takes it; picking the
            // re-keyed side keeps that side's version of the slot, if it has one.
            if !pick.1.hasSameKey(as: target), !sameSlot(baseSlots[id], pick) {
                let oursIsStale = pick.1.hasSameKey(as: ours)
                guard let choice = resolve(item) else {
                    let stale = "added or changed under the replaced key", rekeyed = "re-keyed"
                    conflicts.append(Conflict(item: item.description, ours: oursIsStale ? stale : rekeyed, theirs: oursIsStale ? rekeyed : stale))
                    continue
                }
                if choice != (oursIsStale ? .ours : .theirs) {
                    if let rekeyed = (oursIsStale ? theirsSlots : oursSlots)[id] { slots.append(rekeyed) }
                    continue
                }
            }
            slots.append(pick)
        }
        guard conflicts.isEmpty else { return .conflicts(conflicts.sorted { $0.item < $1.item }) }
        guard slots.contains(where: { $0.0.scope.isGlobal }) else {
            throw CofferError.conflict("the merge would leave the vault without a slot that opens all of it")
        }
        guard slots.count <= Limits.slots else {
            throw CofferError.conflict("the merge would give the vault more than \(Limits.slots) key slots")
        }

        let targetGrant = target.grant!
        let cipher = EntryCipher(vaultID: target.file.vaultID, grant: targetGrant)
        var result = target.file
        result.generation = max(ours.file.generation, theirs.file.generation)
        result.entries = try chosen.map { entry, side in
            guard !side.hasSameKey(as: target) else { return entry }
            var resealed = entry
            var value = try side.cipher!.open(entry)
            defer { value.wipe() }
            resealed.sealedValue = try cipher.seal(value, name: entry.name, scope: entry.scope)[...]
            // Checked now, as a save checks what it sealed: the result must open under the new key.
            var check = try cipher.open(resealed)
            defer { check.wipe() }
            guard ConstantTime.equals(check, value) else { throw CofferError.tampered(part: "re-sealed entry \(entry.scope)/\(entry.name)") }
            return resealed
        }
        result.slots = try slots.map { slot, side in
            guard !side.hasSameKey(as: target) else { return slot }
            var rewrapped = slot
            rewrapped.wrapped = try SlotWrapping.wrap(
                grant: targetGrant, vaultID: result.vaultID, slotID: slot.id, scope: slot.scope, publicKey: slot.publicKey)
            return rewrapped
        }.sorted { $0.id < $1.id }
        return .merged(result, targetGrant)
    }

    /// Calls `body` once per (scope, name) found in any of three lists in canonical order, with
    /// that name's entry from each list (nil where a list lacks it), in canonical order.
    private static func forEachName(
        base: [Entry], ours: [Entry], theirs: [Entry], _ body: (Entry?, Entry?, Entry?) throws -> Void
    ) rethrows {
        var b = base.startIndex, o = ours.startIndex, t = theirs.startIndex
        func head(_ list: [Entry], _ position: Int) -> Entry? { position < list.endIndex ? list[position] : nil }
        while true {
            func earlier(_ x: Entry?, _ y: Entry?) -> Entry? {
                guard let x, let y else { return x ?? y }
                return Entry.compare(y, x) < 0 ? y : x
            }
            guard let first = earlier(earlier(head(base, b), head(ours, o)), head(theirs, t)) else { return }
            func take(_ list: [Entry], _ position: inout Int) -> Entry? {
                guard let entry = head(list, position), Entry.compare(entry, first) == 0 else { return nil }
                position += 1
                return entry
            }
            try body(take(base, &b), take(ours, &o), take(theirs, &t))
        }
    }

    /// The rules for one item: one side changed → that side; both the same → it; deleted on one
    /// side and unchanged on the other → deleted; anything else → a conflict (or `resolve`'s pick).
    /// A change the stale side (`staleIsOurs`; nil: none) made under a key a revocation replaced
    /// is always a conflict, settled only by a resolve that names the item.
    private static func threeWay<Value>(
        base: (Value, Side)?, ours: (Value, Side)?, theirs: (Value, Side)?, staleIsOurs: Bool?,
        same: ((Value, Side)?, (Value, Side)?) throws -> Bool, item: @autoclosure () -> Item, resolve: (Item) -> Choice?,
        conflicts: inout [Conflict]
    ) throws -> (Value, Side)? {
        let oursChanged = try !same(base, ours), theirsChanged = try !same(base, theirs)
        if let staleIsOurs, staleIsOurs ? oursChanged : theirsChanged {
            let plain = item()
            let item = Item(description: plain.description, name: plain.name, needsName: true)
            switch resolve(item) {
            case .ours: return ours
            case .theirs: return theirs
            case nil:
                let staleChange = change(base, staleIsOurs ? ours : theirs) + " under a key the other side's revocation replaced"
                let other = staleIsOurs ? theirs : ours
                let otherChange = (try same(base, other) ? "" : change(base, other) + " and ") + "removed a slot (re-keyed)"
                conflicts.append(Conflict(
                    item: item.description, ours: staleIsOurs ? staleChange : otherChange, theirs: staleIsOurs ? otherChange : staleChange))
                return nil
            }
        }
        if !oursChanged { return theirs }
        if !theirsChanged { return ours }
        if try same(ours, theirs) { return ours }
        let item = item()
        switch resolve(item) {
        case .ours: return ours
        case .theirs: return theirs
        case nil:
            conflicts.append(Conflict(item: item.description, ours: change(base, ours), theirs: change(base, theirs)))
            return nil
        }
    }

    private static func change<Value>(_ base: (Value, Side)?, _ side: (Value, Side)?) -> String {
        switch (base == nil, side == nil) {
        case (true, false): "added"
        case (false, true): "deleted"
        default: "changed"
        }
    }

    /// Whether two versions of one (scope, name), sealed under one key, are the same bytes.
    private static func isIdentical(_ x: Entry, _ y: Entry) -> Bool {
        x.created == y.created && x.updated == y.updated && x.flags == y.flags && x.description == y.description
            && x.sealedValue.withUnsafeBytes { a in y.sealedValue.withUnsafeBytes { b in a.elementsEqual(b) } }
    }

    /// Entry equality across versions: byte-equal under one key; under different keys (a rotation
    /// on one side) the metadata and the opened values must match.
    private static func sameEntry(_ a: (Entry, Side)?, _ b: (Entry, Side)?) throws -> Bool {
        guard let (x, xSide) = a, let (y, ySide) = b else { return a == nil && b == nil }
        guard x.name == y.name, x.scope == y.scope, x.created == y.created, x.updated == y.updated,
              x.flags == y.flags, x.description == y.description else { return false }
        if xSide.hasSameKey(as: ySide) { return x.sealedValue == y.sealedValue }
        guard let xCipher = xSide.cipher, let yCipher = ySide.cipher else { return false }
        var xValue = try xCipher.open(x), yValue = try yCipher.open(y)
        defer {
            xValue.wipe()
            yValue.wipe()
        }
        return ConstantTime.equals(xValue, yValue)
    }

    /// Slot equality across versions; the wrapped key only counts under one key.
    private static func sameSlot(_ a: (Slot, Side)?, _ b: (Slot, Side)?) -> Bool {
        guard let (x, xSide) = a, let (y, ySide) = b else { return a == nil && b == nil }
        let sameKey = xSide.hasSameKey(as: ySide)
        return x.kind == y.kind && x.label == y.label && x.created == y.created && x.scope == y.scope
            && x.publicKey == y.publicKey && (!sameKey || x.wrapped == y.wrapped)
    }
}
