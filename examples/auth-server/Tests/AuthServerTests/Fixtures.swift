import Foundation
import JWTCore
import SessionCore
import JWTIssuer
import SessionStore
import Synchronization
import Testing

@testable import AuthServerCore

#if canImport(Glibc)
import Glibc
#endif

/// A memcached of the test's own on a loopback port, stopped when released. memcached must be installed: a
/// missing one fails the tests, never skips them.
final class Memcached: @unchecked Sendable {  // immutable; Process is only read
    let address: String
    private let process: Process

    init() throws {
        let executable = try #require(
            ["/usr/bin/memcached", "/usr/local/bin/memcached"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            },
            "memcached is not installed (apt-get install memcached)"
        )
        // A random port; memcached exits at once when it is taken, and the next one is tried.
        for _ in 0..<20 {
            let port = Int.random(in: 20000...29999)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments =
                ["-l", "127.0.0.1", "-p", String(port), "-U", "0", "-m", "16"]
                + (geteuid() == 0 ? ["-u", "nobody"] : [])
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Tests run in parallel: the port may be another test's memcached, which answers while this one
            // fails to bind. Only this process's pid in `stats` says the server is this test's own.
            for _ in 0..<100 where process.isRunning {
                if Self.pid(port: port) == process.processIdentifier {
                    self.address = "127.0.0.1:\(port)"
                    self.process = process
                    return
                }
                usleep(50_000)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        throw MemcachedDidNotStart()
    }

    struct MemcachedDidNotStart: Error {}

    /// The pid the memcached on 127.0.0.1:`port` reports (`stats`), or `nil` when none answers.
    static func pid(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else {
            return nil
        }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        let command = Array("stats\r\n".utf8)
        guard connected == 0, send(fd, command, command.count, 0) == command.count else {
            return nil
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !reply.suffix(5).elementsEqual("END\r\n".utf8) {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else {
                return nil
            }
            reply += buffer[..<count]
        }
        let pid = String(decoding: reply, as: UTF8.self).split(separator: "\r\n").first { $0.hasPrefix("STAT pid ") }
        return pid.flatMap { Int32($0.dropFirst("STAT pid ".count)) }
    }

    func store() throws -> SessionStore {
        try SessionStore(servers: [self.address], timeoutMilliseconds: 1000)
    }

    deinit {
        // SIGKILL: a child of a test thread inherits its blocked signals, SIGTERM among them.
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }
}

/// A clock the test moves.
final class TestClock: Sendable {
    private let seconds: Mutex<Int64>

    init(_ start: Int64 = Int64(Date().timeIntervalSince1970)) {
        self.seconds = Mutex(start)
    }

    var now: Int64 { self.seconds.withLock { $0 } }

    func advance(by seconds: Int64) {
        self.seconds.withLock { $0 += seconds }
    }
}

/// Accounts with cheap hashes (bcrypt cost 4).
enum TestUsers {
    static let password = "correct horse battery staple"

    static func directory() throws -> UserDirectory {
        let hash = try Bcrypt.hash(self.password, cost: 4)
        return try UserDirectory(users: [
            User(username: "alice", passwordHash: hash, roles: ["dev", "admin"], sessionIdleTimeout: 1800),
            User(username: "bob", passwordHash: hash, roles: ["dev"], sessionIdleTimeout: 1800),
            User(username: "idle", passwordHash: hash, roles: [], sessionIdleTimeout: 2),
            User(username: "carol", passwordHash: hash, roles: [], sessionIdleTimeout: -1),
        ])
    }
}

/// An HMAC key and the JWKS nginx would verify it with.
struct TestKeys {
    let signer: TokenSigner
    let jwks: String

    /// - Parameter use: the JWK's `use`; `nil`: none (a key nested tokens refuse).
    init(kid: String = "k1", use: String? = nil) throws {
        let secret = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        self.signer = try TokenSigner(LoadedKey(key: hmacKey(secret), kid: kid, alg: nil))
        let marked = use.map { #","use":"\#($0)""# } ?? ""
        self.jwks = #"{"keys":[{"kty":"oct","kid":"\#(kid)"\#(marked),"k":"\#(secret.base64URLEncoded)"}]}"#
    }

    func keySet() throws -> KeySet {
        let keys = KeySet()
        _ = try Array(self.jwks.utf8).withUnsafeBytes { (bytes) throws(KeyFileError) in
            try keys.add(contentsOf: bytes)
        }
        return keys
    }
}

/// An auth service on a memcached of its own, with a test clock.
struct TestService: Sendable {
    let memcached: Memcached
    let store: SessionStore
    let clock: TestClock
    let keys: TestKeys
    let service: AuthService

    init(
        keys: TestKeys? = nil,
        encryption: TokenEncryption? = nil,
        configure: (inout AuthConfiguration) -> Void = { _ in }
    ) throws {
        self.memcached = try Memcached()
        self.store = try self.memcached.store()
        self.clock = TestClock()
        self.keys = try keys ?? TestKeys()
        var configuration = AuthConfiguration()
        configure(&configuration)
        let clock = self.clock
        self.service = try AuthService(
            users: try TestUsers.directory(),
            signer: self.keys.signer,
            verificationKeys: try self.keys.keySet(),
            store: self.store,
            configuration: configuration,
            encryption: encryption,
            clock: { clock.now }
        )
    }

    /// The session record under `session:<tokenID>`, decoded.
    func record(_ tokenID: String) throws -> StoredSession? {
        try self.store.record(forKey: "session:" + tokenID).map {
            try JSONDecoder().decode(StoredSession.self, from: Data($0))
        }
    }

    /// The user's session index, decoded.
    func index(_ username: String) throws -> SessionIndex? {
        try self.store.record(forKey: "user-sessions:" + username).map {
            try JSONDecoder().decode(SessionIndex.self, from: Data($0))
        }
    }

    /// The verified claims of an access token.
    func claims(_ token: String) throws -> AccessClaims {
        try self.service.verify(token)
    }

    /// nginx's own session check (`SessionStore.check`, as the module runs it) of a request with `token` from
    /// `fingerprint`: `nil` when nginx lets it through, else the status it refuses it with.
    func nginxRefusal(_ token: String, fingerprint: String) throws -> SessionError.Status? {
        let key = Array(("session:" + (try self.claims(token)).tokenID).utf8)
        let fingerprint = Array(fingerprint.utf8)
        let result = key.withUnsafeBytes { key in
            fingerprint.withUnsafeBytes { fingerprint in
                Result { () throws(SessionError) in
                    try self.store.check(key: key, fingerprint: fingerprint, now: self.clock.now, touch: 1)
                }
            }
        }
        guard case .failure(let refusal) = result else {
            return nil
        }
        return refusal.status
    }
}
