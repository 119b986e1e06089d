import Foundation
import JWTCore
import JWTIssuer
import SessionStore
import Testing

@testable import AuthServerCore

#if canImport(Glibc)
import Glibc
#endif

/// A directory of the test's own (mode 0700, from `mkdtemp`), deleted when released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/auth-server-keys.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        self.path = String(cString: try #require(made))
    }

    /// The keys directory inside it, not created yet: the server makes it.
    var keys: String { self.path + "/keys" }

    /// The names of the key files in the keys directory, sorted.
    func keyFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: self.keys).filter { $0.hasSuffix(".json") }.sorted()
    }

    /// The permission bits of `path`.
    func mode(_ path: String) -> mode_t {
        var status = stat()
        _ = stat(path, &status)
        return status.st_mode & 0o777
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// An auth service signing with the keys of a key directory, on a memcached of its own, with a test clock.
struct RotatingTestService: Sendable {
    static let lead: Int64 = 300
    static let lifetime: Int64 = 900

    let memcached: Memcached
    let clock: TestClock
    let directory: TemporaryDirectory
    let keys: RotatingKeys
    let service: AuthService
    let client: RouterClient

    init(
        algorithm: String = "ES256",
        rotateEvery: Int64? = nil,
        issuer: String? = nil,
        encryption: TokenEncryption? = nil
    ) throws {
        self.memcached = try Memcached()
        self.clock = TestClock()
        self.directory = try TemporaryDirectory()
        var policy = RotatingKeys.Policy()
        policy.algorithm = algorithm
        policy.publishLead = Self.lead
        policy.retention = Self.lifetime
        policy.rotateEvery = rotateEvery
        self.keys = try RotatingKeys(directory: self.directory.keys, policy: policy, now: self.clock.now)
        var configuration = AuthConfiguration()
        configuration.accessTokenLifetime = Self.lifetime
        configuration.jwksMaxAge = Self.lead
        configuration.issuer = issuer
        let clock = self.clock
        self.service = try AuthService(
            users: try TestUsers.directory(),
            rotatingKeys: self.keys,
            store: try self.memcached.store(),
            configuration: configuration,
            encryption: encryption,
            clock: { clock.now }
        )
        self.client = RouterClient(router: makeRouter(service: self.service))
    }

    /// `GET /.well-known/jwks.json`: the response, and the JWKs it lists.
    func jwks() async throws -> (RouterClient.Response, [[String: Any]]) {
        let response = try await self.client.execute(uri: "/.well-known/jwks.json", method: .get)
        let keys = try #require(try response.object()["keys"] as? [[String: Any]])
        return (response, keys)
    }

    /// The kids `GET /.well-known/jwks.json` lists, in order.
    func publishedKeyIDs() async throws -> [String] {
        try await self.jwks().1.map { try #require($0["kid"] as? String) }
    }

    /// A fresh login's access token.
    func login() async throws -> String {
        try #require(try await self.client.login("alice", fingerprint: "f").headers[.xAuthToken])
    }
}

/// The `kid` in a compact JWS's header.
func keyID(ofToken token: String) throws -> String? {
    let header = try #require(token.split(separator: ".").first)
    let json = try #require(Data(base64URLEncoded: String(header)))
    return try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])["kid"] as? String
}

/// Whether `token` verifies with the JWKS `jwks` through JWTCore, the module's verifier (as nginx would).
func verifies(_ token: String, withJWKS jwks: [[String: Any]], now: Int64) throws -> Bool {
    let keys = KeySet()
    let document = try JSONSerialization.data(withJSONObject: ["keys": jwks])
    _ = try document.withUnsafeBytes { (bytes) throws(KeyFileError) in try keys.add(contentsOf: bytes) }
    return (try? TokenVerifier(keys: keys).payload(of: token, now: now)) != nil
}
