import CLibMemcached
import MemcachedRing
import SessionCore

/// Which memcached server holds a key, as libmemcached itself computes it for `SessionStore` (its
/// libketama-compatible ring), without connecting anywhere: the reference `KetamaRing` (the placement the nginx
/// module uses, without libmemcached) is checked against.
///
/// Immutable once built; safe to share across threads and `fork`.
public final class ServerRing: @unchecked Sendable {
    private let handle: UnsafeMutablePointer<memcached_st>
    /// The number of servers, in the order given.
    public let count: Int

    /// Builds the ring for `servers` ("host:port" each; an IPv6 address in brackets).
    public init(servers: [String]) throws(SessionStoreError) {
        self.handle = try makeClient(servers: servers, timeoutMilliseconds: nil)
        self.count = servers.count
    }

    deinit {
        memcached_free(self.handle)
    }

    /// The index, in the servers given, of the one that holds `key`, after checking that `key` is a memcached key.
    public func serverIndex(forKey key: UnsafeRawBufferPointer) throws(SessionError) -> Int {
        try SessionKey.validate(key)
        guard self.count > 1 else {
            return 0
        }
        let index = memcached_generate_hash(
            self.handle,
            key.baseAddress!.assumingMemoryBound(to: CChar.self),
            key.count
        )
        return Int(index)
    }
}

/// A libmemcached client for `servers`, with the distribution every handle of the project uses, and when
/// `timeoutMilliseconds` is given, the I/O behaviors of `SessionStore`. Connects to nothing.
func makeClient(
    servers: [String],
    timeoutMilliseconds: UInt32?
) throws(SessionStoreError) -> UnsafeMutablePointer<memcached_st> {
    let addresses: [MemcachedServer]
    do {
        addresses = try MemcachedServer.parseList(servers)
    } catch {
        throw SessionStoreError(error.description)
    }
    guard let handle = memcached_create(nil) else {
        throw .clientAllocationFailed
    }
    do throws(SessionStoreError) {
        // libketama-compatible consistent hashing: weighted ketama with MD5 keys.
        var behaviors: [(memcached_behavior_t, UInt64, String)] = [(MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1, "ketama")]
        if let timeoutMilliseconds {
            guard timeoutMilliseconds > 0 else {
                throw .zeroTimeout
            }
            let timeout = UInt64(timeoutMilliseconds)
            behaviors += [
                (MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1, "CAS support"),
                (MEMCACHED_BEHAVIOR_TCP_NODELAY, 1, "TCP_NODELAY"),
                (MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, timeout, "connect timeout"),
                (MEMCACHED_BEHAVIOR_POLL_TIMEOUT, timeout, "poll timeout"),
                (MEMCACHED_BEHAVIOR_RCV_TIMEOUT, timeout * 1000, "receive timeout"),
                (MEMCACHED_BEHAVIOR_SND_TIMEOUT, timeout * 1000, "send timeout"),
                // A failed server is retried after a second; never ejected, so its keys never move elsewhere.
                (MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1, "retry timeout"),
                (MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS, 0, "auto-eject"),
            ]
        }
        for (behavior, value, name) in behaviors {
            let code = memcached_behavior_set(handle, behavior, value)
            guard memcached_success(code) else {
                throw .configurationFailed("\(name): \(describe(code))")
            }
        }
        for address in addresses {
            let code = memcached_server_add(handle, address.host, address.port)
            guard memcached_success(code) else {
                throw .invalidServer("\(address.host):\(address.port)", describe(code))
            }
        }
        return handle
    } catch {
        memcached_free(handle)
        throw error
    }
}

/// libmemcached's message for `code`.
func describe(_ code: memcached_return_t) -> String {
    String(cString: memcached_strerror(nil, code))
}
