import Crypto

/// Which memcached server holds a key: the consistent hashing libmemcached does for `SessionStore`
/// (`MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`: libketama compatible, MD5), computed without libmemcached.
///
/// It must place every key on exactly the server libmemcached picks: the auth server and jwtctl write session and
/// revocation records through libmemcached (`SessionStore`), and the nginx module reads them from the server this
/// ring names. A key placed differently is a session that looks logged out, or a revocation that is never seen.
/// The parity tests compare the two over many keys and server lists.
///
/// The ring: each server owns 160 points (its share of 160 per server, times the number of servers, rounded down
/// to a multiple of 4, in `Float` as libmemcached computes it), 4 per MD5 digest of `"host:port-i"` (`"host-i"` on
/// memcached's default port 11211); a key belongs to the first point at or after the first 4 bytes of its MD5
/// digest (little endian), wrapping around.
///
/// Immutable; safe to share across threads and `fork`.
public struct KetamaRing: Sendable {
    /// memcached's default port, which libmemcached leaves out of a server's point names.
    private static let defaultPort: UInt16 = 11211
    /// Points per server in weighted ketama (`MEMCACHED_POINTS_PER_SERVER_KETAMA`).
    private static let pointsPerServer = 160
    /// Points taken from one MD5 digest.
    private static let pointsPerDigest = 4

    /// Each point as its hash (high 32 bits) and server index (low 32 bits), so that sorting the values orders
    /// the points by hash, then by server, as libmemcached orders its continuum.
    private let points: [UInt64]
    /// The number of servers, in the order given.
    public let count: Int

    /// Builds the ring for `servers` ("host:port" each; an IPv6 address in brackets), numbered in that order.
    public init(servers: [String]) throws(MemcachedRingError) {
        self.init(servers: try MemcachedServer.parseList(servers))
    }

    /// Builds the ring for `servers`, numbered in that order; at least one.
    public init(servers: [MemcachedServer]) {
        precondition(!servers.isEmpty, "a ring needs a server")
        let serverCount = Float(servers.count)
        // Every server weighs 1: its share is 1/n, computed in Float as libmemcached does (1/7 and 1/11 round).
        let share = Float(1) / serverCount
        let pointsPerServer =
            Int((share * Float(Self.pointsPerServer) / Float(Self.pointsPerDigest) * serverCount + 0.0000000001)
                .rounded(.down)) * Self.pointsPerDigest
        var points: [UInt64] = []
        points.reserveCapacity(pointsPerServer * servers.count)
        for (index, server) in servers.enumerated() {
            let prefix = server.port == Self.defaultPort ? server.host : "\(server.host):\(server.port)"
            for digestIndex in 0..<(pointsPerServer / Self.pointsPerDigest) {
                let digest = Insecure.MD5.hash(data: Array("\(prefix)-\(digestIndex)".utf8))
                digest.withUnsafeBytes { bytes in
                    for alignment in 0..<Self.pointsPerDigest {
                        let hash = Self.littleEndianWord(bytes, at: alignment * 4)
                        points.append(UInt64(hash) << 32 | UInt64(index))
                    }
                }
            }
        }
        points.sort()
        self.points = points
        self.count = servers.count
    }

    /// The index, in the servers given, of the one that holds `key` (any bytes; the caller checks that it is a
    /// memcached key).
    public func serverIndex(forKey key: UnsafeRawBufferPointer) -> Int {
        guard self.count > 1 else {
            return 0
        }
        let hash = Insecure.MD5.hash(data: key).withUnsafeBytes { bytes in Self.littleEndianWord(bytes, at: 0) }
        var low = 0
        var high = self.points.count
        while low < high {
            let middle = low + (high - low) / 2
            if UInt32(truncatingIfNeeded: self.points[middle] >> 32) < hash {
                low = middle + 1
            } else {
                high = middle
            }
        }
        let point = self.points[low == self.points.count ? 0 : low]
        return Int(truncatingIfNeeded: point & 0xFFFF_FFFF)
    }

    /// The 4 bytes of `bytes` at `offset` as a little-endian word.
    private static func littleEndianWord(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }
}
