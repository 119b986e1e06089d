/// A record as read with `gets`: its bytes and the version (memcached's CAS unique) a compare-and-swap names.
public struct VersionedRecord: Sendable, Hashable {
    public let bytes: [UInt8]
    /// Changes with every write of the item, by any client.
    public let version: UInt64
    /// The item's client flags, kept by `replace`.
    let flags: UInt32
}
