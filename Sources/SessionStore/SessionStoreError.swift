/// Why a session store could not be built from its configuration.
///
/// Unlike request-time refusals (`SessionError`), these carry a message naming the offending server string, for
/// the configuration error log.
public struct SessionStoreError: Error, Hashable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }

    static let zeroTimeout = Self("the memcached timeout must be at least 1 ms")
    static let clientAllocationFailed = Self("cannot create the memcached client")
    static let poolAllocationFailed = Self("cannot create the memcached connection pool")

    static func invalidServer(_ server: String, _ problem: String) -> Self {
        Self("invalid memcached server \"\(server)\": \(problem)")
    }

    static func configurationFailed(_ what: String) -> Self {
        Self("cannot configure the memcached client: \(what)")
    }
}
