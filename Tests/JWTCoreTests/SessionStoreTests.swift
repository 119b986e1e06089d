import Foundation
import JWTCore
import SessionCore
import Synchronization
import Testing

@testable import SessionStore
@testable import MemcachedRing

#if canImport(Glibc)
import Glibc
#endif

/// A memcached server of its own for a test, on a free loopback port; stopped when released.
///
/// memcached must be installed: a missing one fails the tests, never skips them.
final class MemcachedServerProcess {
    let port: UInt16
    private let process: Process

    var address: String { "127.0.0.1:\(self.port)" }

    init(port: UInt16? = nil) throws {
        let executable = try #require(
            ["/usr/bin/memcached", "/usr/local/bin/memcached", "/usr/sbin/memcached"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            },
            "memcached is not installed (apt-get install memcached): the session store tests need it"
        )
        self.port = try port ?? freePort()
        self.process = Process()
        self.process.executableURL = URL(fileURLWithPath: executable)
        var arguments = ["-l", "127.0.0.1", "-p", String(self.port), "-U", "0", "-m", "16"]
        if geteuid() == 0 {
            arguments += ["-u", "nobody"]
        }
        self.process.arguments = arguments
        try self.process.run()
        // Ready once it accepts connections.
        for _ in 0..<100 where !canConnect(port: self.port) {
            usleep(20_000)
        }
        try #require(canConnect(port: self.port), "memcached did not start on port \(self.port)")
    }

    deinit {
        // SIGKILL: a child of a test thread inherits its blocked signals, SIGTERM among them.
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }
}

/// A loopback port nothing listens on (bound, then released).
func freePort() throws -> UInt16 {
    let socket = try LoopbackSocket()
    return socket.port
}

/// Whether something accepts TCP connections on a loopback port.
func canConnect(port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else {
        return false
    }
    defer { close(fd) }
    var address = sockaddr_in.loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// A bound loopback TCP socket; `listen()` makes it a server that never answers (connections complete in the
/// kernel's backlog, and nothing ever reads them).
final class LoopbackSocket {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
        try #require(bound == 0)
    }

    func listen() {
        _ = Glibc.listen(self.fd, 16)
    }

    deinit {
        close(self.fd)
    }
}

extension sockaddr_in {
    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

extension SessionStore {
    /// The session check over strings.
    func check(key: String, fingerprint: String = "", now: Int64, touch: Int64 = 1) throws(SessionError) {
        let key = Array(key.utf8)
        let fingerprint = Array(fingerprint.utf8)
        let result = key.withUnsafeBytes { key in
            fingerprint.withUnsafeBytes { fingerprint in
                Result { () throws(SessionError) in
                    try self.check(key: key, fingerprint: fingerprint, now: now, touch: touch)
                }
            }
        }
        try result.get()
    }

    func recordText(forKey key: String) throws -> String? {
        try self.record(forKey: key).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A copy of `text`'s UTF-8 in memory the caller deallocates.
func bytes(_ text: String) -> UnsafeMutableRawBufferPointer {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: text.utf8.count, alignment: 1)
    buffer.copyBytes(from: text.utf8)
    return buffer
}

/// Seconds since the Epoch.
func epochSeconds() -> Int64 {
    Int64(Date().timeIntervalSince1970)
}

@Suite("Session store: memcached", .serialized)
struct SessionStoreTests {
    @Test("check, touch with the expiry kept, logout")
    func roundTrip() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        let now = epochSeconds()
        let record = #"{"fingerprint":"fp","last_access_time":\#(now - 10),"session_idle_timeout":60,"x":[1,{"y":2}]}"#
        try store.create(key: "session:abc", record: Array(record.utf8), expiresAt: now + 3600)

        try store.check(key: "session:abc", fingerprint: "fp", now: now, touch: 1)
        let touched = #"{"fingerprint":"fp","last_access_time":\#(now),"session_idle_timeout":60,"x":[1,{"y":2}]}"#
        #expect(try store.recordText(forKey: "session:abc") == touched)

        // Within the touch interval nothing is written.
        try store.check(key: "session:abc", fingerprint: "fp", now: now + 5, touch: 10)
        #expect(try store.recordText(forKey: "session:abc") == touched)

        #expect(throws: SessionError.fingerprintMismatch) {
            try store.check(key: "session:abc", fingerprint: "other", now: now)
        }
        #expect(throws: SessionError.idle) { try store.check(key: "session:abc", fingerprint: "fp", now: now + 61) }

        #expect(try store.delete(key: "session:abc"))
        #expect(try !store.delete(key: "session:abc"))
        #expect(throws: SessionError.noRecord) { try store.check(key: "session:abc", fingerprint: "fp", now: now) }
        #expect(try store.record(forKey: "session:abc") == nil)
    }

    @Test("compare-and-swap: stored, changed by another request, deleted by a logout")
    func compareAndSwap() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        try store.create(key: "k", record: Array("one".utf8), expiresAt: 0)
        let key = UnsafeRawBufferPointer(bytes("k"))
        let two = UnsafeRawBufferPointer(bytes("two"))
        defer {
            key.deallocate()
            two.deallocate()
        }
        try store.withConnection { (connection) throws(SessionError) in
            guard let first = try connection.gets(key) else {
                Issue.record("no item")
                return
            }
            #expect(try connection.cas(key, value: two, expiration: 0, flags: first.flags, cas: first.cas) == .stored)
            // The token of the first read is stale now.
            #expect(try connection.cas(key, value: two, expiration: 0, flags: first.flags, cas: first.cas) == .changed)

            guard let second = try connection.gets(key) else {
                Issue.record("no item")
                return
            }
            #expect(Array(second.value) == Array("two".utf8))
            #expect(try connection.delete(key))
            #expect(
                try connection.cas(key, value: two, expiration: 0, flags: second.flags, cas: second.cas) == .deleted
            )
        }
        #expect(try store.record(forKey: "k") == nil)
    }

    @Test("records too long for a session are refused")
    func recordTooLong() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        let record = #"{"last_access_time":1,"session_idle_timeout":-1}"# + String(repeating: " ", count: 70000)
        try store.create(key: "long", record: Array(record.utf8), expiresAt: 0)
        #expect(throws: SessionError.recordTooLong) { try store.check(key: "long", now: 2) }
    }

    @Test(
        "keys memcached cannot take are invalid tokens",
        arguments: ["", String(repeating: "k", count: 251), "a b", "a\nb", "a\rb", "a\u{7F}", "a\u{0}b", "\t"]
    )
    func invalidKeys(_ key: String) throws {
        let store = try SessionStore(servers: ["127.0.0.1:1"], timeoutMilliseconds: 100)
        #expect(throws: SessionError.invalidKey) { try store.check(key: key, now: 1) }
        #expect(SessionError.invalidKey.status == .invalidToken)
    }

    @Test("the longest key and non-ASCII keys are used as given")
    func validKeys() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        for key in [String(repeating: "k", count: 250), "caf\u{E9}:\u{1F600}"] {
            #expect(throws: SessionError.noRecord) { try store.check(key: key, now: 1) }
            try store.create(
                key: key,
                record: Array(#"{"last_access_time":1,"session_idle_timeout":-1}"#.utf8),
                expiresAt: 0
            )
            try store.check(key: key, now: 2)
        }
    }

    @Test("a server that is down fails closed, and is used again once back, without a new store")
    func serverComesBack() throws {
        let port = try freePort()
        let store = try SessionStore(servers: ["127.0.0.1:\(port)"], timeoutMilliseconds: 500)
        #expect(throws: SessionError.storeUnreachable) { try store.check(key: "k", now: 1) }

        var server: MemcachedServerProcess? = try MemcachedServerProcess(port: port)
        usleep(2_100_000)  // the retry timeout: 1s, counted in whole seconds
        #expect(throws: SessionError.noRecord) { try store.check(key: "k", now: 1) }

        // Down again while connected, then back.
        server = nil
        do {
            try store.check(key: "k", now: 1)
            Issue.record("checked without a server")
        } catch {
            #expect(error.status == .sessionStoreUnavailable)
        }
        server = try MemcachedServerProcess(port: port)
        usleep(2_100_000)
        #expect(throws: SessionError.noRecord) { try store.check(key: "k", now: 1) }
        withExtendedLifetime(server) {}
    }

    @Test("a server that never answers times out")
    func serverNeverAnswers() throws {
        let silent = try LoopbackSocket()
        silent.listen()
        let store = try SessionStore(servers: ["127.0.0.1:\(silent.port)"], timeoutMilliseconds: 200)
        let start = Date()
        #expect(throws: SessionError.storeTimeout) { try store.check(key: "k", now: 1) }
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test("concurrent checks share the pool")
    func concurrentChecks() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        let now = epochSeconds()
        for index in 0..<16 {
            let record = #"{"last_access_time":\#(now),"session_idle_timeout":60}"#
            try store.create(key: "k\(index)", record: Array(record.utf8), expiresAt: now + 60)
        }
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 400) { iteration in
            do throws(SessionError) {
                try store.check(key: "k\(iteration % 16)", now: now + Int64(iteration % 3), touch: 0)
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }

    @Test(
        "server strings",
        arguments: [
            ("127.0.0.1:11211", "127.0.0.1", UInt16(11211)),
            ("memcached-1.internal:1", "memcached-1.internal", 1),
            ("[::1]:65535", "::1", 65535),
        ]
    )
    func serverStrings(_ text: String, _ host: String, _ port: UInt16) throws {
        #expect(try MemcachedServer(parsing: text) == MemcachedServer(host: host, port: port))
    }

    @Test(
        "bad server strings are configuration errors naming the server",
        arguments: [
            "", "localhost", "localhost:", ":11211", "localhost:0", "localhost:65536", "localhost:+1", "localhost:1x",
            "local host:1", "::1:11211", "[::1]", "[::1:11211", "[]:1", "[::1]x:1", "h\u{0}:1", "caf\u{E9}:1",
        ]
    )
    func badServerStrings(_ text: String) {
        do {
            _ = try SessionStore(servers: [text], timeoutMilliseconds: 100)
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(error.description.hasPrefix("invalid memcached server \"\(text)\": "))
        }
    }

    @Test("a store needs servers and a timeout")
    func configuration() {
        #expect(throws: SessionStoreError("no memcached servers")) {
            try SessionStore(servers: [], timeoutMilliseconds: 100)
        }
        #expect(throws: SessionStoreError.zeroTimeout) {
            try SessionStore(servers: ["127.0.0.1:11211"], timeoutMilliseconds: 0)
        }
    }
}

@Suite("Server ring: where SessionStore puts each key", .serialized)
struct ServerRingTests {
    @Test("the ring names the server that holds each key SessionStore wrote", arguments: [2, 3])
    func agreesWithTheStore(servers count: Int) throws {
        let servers = try (0..<count).map { _ in try MemcachedServerProcess() }
        let addresses = servers.map(\.address)
        let store = try SessionStore(servers: addresses, timeoutMilliseconds: 1000)
        let ring = try ServerRing(servers: addresses)
        let singles = try addresses.map { try SessionStore(servers: [$0], timeoutMilliseconds: 1000) }
        var perServer = [Int](repeating: 0, count: count)
        for n in 0..<60 {
            let key = "session:\(n)"
            try store.create(key: key, record: Array("{}".utf8), expiresAt: 0)
            let index = try Array(key.utf8).withUnsafeBytes { (key) throws(SessionError) in
                try ring.serverIndex(forKey: key)
            }
            let holders = try singles.indices.filter { try singles[$0].record(forKey: key) != nil }
            #expect(holders == [index], "\(key)")
            perServer[index] += 1
        }
        #expect(perServer.allSatisfy { $0 > 0 }, "every server holds keys: \(perServer)")
    }

    @Test("a key that memcached cannot take is refused", arguments: ["", "a b", String(repeating: "k", count: 251)])
    func invalidKeys(_ key: String) throws {
        let ring = try ServerRing(servers: ["127.0.0.1:1", "127.0.0.1:2"])
        #expect(throws: SessionError.invalidKey) {
            try Array(key.utf8).withUnsafeBytes { (key) throws(SessionError) in try ring.serverIndex(forKey: key) }
        }
    }
}
