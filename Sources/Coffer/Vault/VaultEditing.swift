public import CofferCodec
import CofferCrypto

/// Renaming, copying and describing entries: the value moves with its metadata.
extension Vault {
    /// Copies `name` in `scope` to `newName` in `newScope`. The value is sealed again under its
    /// new name and scope (the seal binds both); created and updated times, description and
    /// flags are kept. Without `overwrite`, an existing destination is an error.
    public func copy(
        _ name: String, in scope: Scope = .global, to newName: String, in newScope: Scope = .global, overwrite: Bool = false
    ) throws {
        guard let source = entry(name, in: scope) else {
            throw CofferError.entryMissing(name: name, scope: scope.description)
        }
        guard name != newName || scope != newScope else {
            throw CofferError.invalidArgument("\(name) (\(scope)) is its own destination")
        }
        var value = try self.value(for: name, in: scope)
        defer { value.wipe() }
        try set(
            newName, value: value, in: newScope, overwrite: overwrite, description: source.description,
            noReveal: source.isNoReveal)
        try changeMetadata(of: newName, in: newScope) { entry in
            entry.created = source.created
            entry.updated = source.updated
        }
    }

    /// Renames `name` in `scope` to `newName` in `newScope`, keeping its metadata (see `copy`).
    public func move(
        _ name: String, in scope: Scope = .global, to newName: String, in newScope: Scope = .global, overwrite: Bool = false
    ) throws {
        try copy(name, in: scope, to: newName, in: newScope, overwrite: overwrite)
        try remove(name, in: scope)
    }

    /// Changes the description and/or the no-reveal flag of `name` in `scope` without touching
    /// its value; nil leaves that part as it is. Needs the master key: the file is signed again.
    public func describe(_ name: String, in scope: Scope = .global, description: String? = nil, noReveal: Bool? = nil) throws {
        try Vault.validateText(description, label: "")
        try changeMetadata(of: name, in: scope) { entry in
            if let description { entry.description = description }
            if let noReveal {
                entry.flags = noReveal ? entry.flags | Entry.noRevealFlag : entry.flags & ~Entry.noRevealFlag
            }
        }
    }
}
