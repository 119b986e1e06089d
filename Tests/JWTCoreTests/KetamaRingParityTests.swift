import MemcachedRing
import SessionCore
import SessionStore
import Testing

/// A reproducible pseudo-random source (SplitMix64), so that a failing key or server list can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generated keys and server lists for comparing `KetamaRing` with libmemcached (`ServerRing`).
enum RingParityInput {
    /// Bytes memcached takes in a text-protocol key: neither a space, a control character nor DEL.
    static let keyBytes: [UInt8] = Array(0x21...0x7E) + Array(0x80...0xFF)

    /// `count` keys of 1 to 250 memcached-legal bytes.
    static func keys(count: Int, using generator: inout SeededGenerator) -> [[UInt8]] {
        (0..<count).map { _ in
            let length = Int.random(in: 1...250, using: &generator)
            return (0..<length).map { _ in self.keyBytes.randomElement(using: &generator)! }
        }
    }

    /// A server string: a host name, an IPv4 address or a bracketed IPv6 address, on memcached's default port
    /// (which libmemcached names differently) or another.
    static func server(using generator: inout SeededGenerator) -> String {
        let port: UInt16 =
            Bool.random(using: &generator) ? 11211 : UInt16.random(in: 1...UInt16.max, using: &generator)
        switch Int.random(in: 0..<3, using: &generator) {
        case 0:
            let labels = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                String((0..<Int.random(in: 1...12, using: &generator)).map { _ in
                    "abcdefghijklmnopqrstuvwxyz0123456789-_".randomElement(using: &generator)!
                })
            }
            return "\(labels.joined(separator: ".")):\(port)"
        case 1:
            let octets = (0..<4).map { _ in String(UInt8.random(in: 0...255, using: &generator)) }
            return "\(octets.joined(separator: ".")):\(port)"
        default:
            let groups = (0..<8).map { _ in String(UInt16.random(in: 0...UInt16.max, using: &generator), radix: 16) }
            let address = Bool.random(using: &generator) ? groups.joined(separator: ":") : "fd00::\(groups[7])"
            return "[\(address)]:\(port)"
        }
    }

    /// Server lists of 1 to 12 servers, several of each length, some naming a server twice.
    static func serverLists(using generator: inout SeededGenerator) -> [[String]] {
        var lists: [[String]] = []
        for length in 1...12 {
            for _ in 0..<4 {
                var list = (0..<length).map { _ in self.server(using: &generator) }
                if length > 2, Int.random(in: 0..<4, using: &generator) == 0 {
                    list[length - 1] = list[0]
                }
                lists.append(list)
            }
        }
        // The usual deployments: one host, ports counting up.
        lists.append((0..<12).map { "127.0.0.1:\(11211 + $0)" })
        lists.append((1...12).map { "memcached-\($0).internal:11211" })
        return lists
    }
}

/// The keys on which `ring` and libmemcached's `oracle` name different servers.
func placementDifferences(
    _ ring: KetamaRing,
    _ oracle: ServerRing,
    keys: [[UInt8]]
) throws -> [(key: [UInt8], ring: Int, libmemcached: Int)] {
    var differences: [(key: [UInt8], ring: Int, libmemcached: Int)] = []
    for key in keys {
        let (ours, theirs) = try key.withUnsafeBytes { (key) throws in
            (ring.serverIndex(forKey: key), try oracle.serverIndex(forKey: key))
        }
        if ours != theirs {
            differences.append((key, ours, theirs))
        }
    }
    return differences
}

@Suite("Ketama ring: libmemcached's placement without libmemcached")
struct KetamaRingParityTests {
    static let seed: UInt64 = 0x5E55_C0DE

    @Test("every key lands on the server libmemcached picks, for every server list")
    func parity() throws {
        var generator = SeededGenerator(seed: Self.seed)
        let keys = RingParityInput.keys(count: 10_000, using: &generator)
        let lists = RingParityInput.serverLists(using: &generator)
        for servers in lists {
            let ring = try KetamaRing(servers: servers)
            let oracle = try ServerRing(servers: servers)
            #expect(ring.count == oracle.count)
            let differences = try placementDifferences(ring, oracle, keys: keys)
            let placedDifferently = differences.count
            let first = differences.first.map { "\($0.key): ring \($0.ring), libmemcached \($0.libmemcached)" }
            #expect(
                placedDifferently == 0,
                "of \(keys.count) keys, for \(servers); the first: \(first ?? "")"
            )
        }
    }

    @Test("the comparison tells placements apart: the same servers in another order place keys differently")
    func comparisonDetectsADifferentRing() throws {
        var generator = SeededGenerator(seed: Self.seed)
        let keys = RingParityInput.keys(count: 2_000, using: &generator)
        let servers = (0..<5).map { "10.0.0.\($0):11211" }
        let oracle = try ServerRing(servers: servers)
        let reordered = try KetamaRing(servers: Array(servers.reversed()))
        #expect(try placementDifferences(reordered, oracle, keys: keys).count > 1_000)
    }

    @Test("keys spread over every server")
    func spread() throws {
        var generator = SeededGenerator(seed: Self.seed)
        let keys = RingParityInput.keys(count: 5_000, using: &generator)
        let ring = try KetamaRing(servers: (0..<7).map { "cache-\($0):11211" })
        var perServer = [Int](repeating: 0, count: 7)
        for key in keys {
            perServer[key.withUnsafeBytes { ring.serverIndex(forKey: $0) }] += 1
        }
        #expect(perServer.allSatisfy { $0 > 400 }, "\(perServer)")
    }

    @Test("a host libmemcached refuses as too long is refused")
    func hostLength() throws {
        let longest = String(repeating: "h", count: MemcachedServer.maximumHostLength)
        _ = try KetamaRing(servers: ["\(longest):1", "b:2"])
        _ = try ServerRing(servers: ["\(longest):1", "b:2"])
        #expect(throws: MemcachedRingError.self) { try KetamaRing(servers: ["\(longest)h:1"]) }
        #expect(throws: SessionStoreError.self) { try ServerRing(servers: ["\(longest)h:1"]) }
    }

    @Test(
        "server lists that cannot make a ring",
        arguments: [[], ["localhost"], ["a:1", "[::1]"], ["a:0"]] as [[String]]
    )
    func invalidServerLists(_ servers: [String]) {
        #expect(throws: MemcachedRingError.self) { try KetamaRing(servers: servers) }
    }
}
