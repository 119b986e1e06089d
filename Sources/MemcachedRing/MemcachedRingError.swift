/// Why a server list cannot make a ring: a message naming the offending server string, for the configuration error
/// log.
public struct MemcachedRingError: Error, Hashable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }

    static let noServers = Self("no memcached servers")

    static func invalidServer(_ server: String, _ problem: String) -> Self {
        Self("invalid memcached server \"\(server)\": \(problem)")
    }
}
