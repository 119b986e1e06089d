/// One memcached server of the session store, parsed from `host:port`.
public struct MemcachedServer: Hashable, Sendable {
    /// The longest host libmemcached takes (`MEMCACHED_NI_MAXHOST` - 1): a server list that libmemcached refuses
    /// never makes a ring here either.
    public static let maximumHostLength = 1024

    /// A host name, an IPv4 address or an IPv6 address (given in brackets, kept without them).
    public let host: String
    public let port: UInt16

    package init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, where the host is a name or an IPv4 address, or `[IPv6]:port`.
    public init(parsing text: String) throws(MemcachedRingError) {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw .invalidServer(text, "unterminated [IPv6] address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else {
                throw .invalidServer(text, "expected host:port")
            }
            port = rest.dropFirst()
            guard !host.isEmpty, host.utf8.allSatisfy(Self.isIPv6AddressByte) else {
                throw .invalidServer(text, "invalid IPv6 address")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw .invalidServer(text, "expected host:port")
            }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            guard !host.isEmpty, host.utf8.allSatisfy(Self.isHostNameByte) else {
                throw .invalidServer(text, "invalid host (an IPv6 address goes in brackets: [::1]:11211)")
            }
        }
        guard host.utf8.count <= Self.maximumHostLength else {
            throw .invalidServer(text, "host longer than \(Self.maximumHostLength) bytes")
        }
        guard !port.isEmpty, port.utf8.count <= 5, port.utf8.allSatisfy(Self.isDigit), let number = UInt16(port),
            number > 0
        else {
            throw .invalidServer(text, "the port must be a number from 1 to 65535")
        }
        self.host = String(host)
        self.port = number
    }

    /// Parses a server list: at least one, each `host:port` or `[IPv6]:port`.
    public static func parseList(_ servers: [String]) throws(MemcachedRingError) -> [MemcachedServer] {
        guard !servers.isEmpty else {
            throw .noServers
        }
        var parsed: [MemcachedServer] = []
        parsed.reserveCapacity(servers.count)
        for server in servers {
            parsed.append(try MemcachedServer(parsing: server))
        }
        return parsed
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isHostNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    private static func isIPv6AddressByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: ":"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}
