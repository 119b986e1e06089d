import Foundation
import SessionCore
import SessionStore
import Testing

@testable import AuthServerCore

#if canImport(Glibc)
import Glibc
#endif

/// `--revoke-key`: at logout, a revocation record for the access token presented, until its `exp`, for nginx's
/// `auth_jwt_revocation`.
@Suite("Logout revokes the access token", .serialized)
struct RevocationTests {
    static let templates = ["revoked:jti:{tokenId}", "revoked:sub:{sub}"]

    func withService(
        revoking templates: [String] = Self.templates,
        _ body: (TestService, _ token: String) throws -> Void
    ) throws {
        let server = try TestService { configuration in
            configuration.revocationKeys = try! templates.map { try RevocationKeyTemplate($0) }
        }
        let issued = try server.service.login(
            username: "alice",
            password: Array(TestUsers.password.utf8),
            fingerprint: "laptop"
        )
        try body(server, issued.accessToken)
    }

    @Test("each key gets {\"revoked_at\":now}, expiring at the token's exp")
    func logoutRevokes() throws {
        try withService { server, token in
            let claims = try server.claims(token)
            #expect(try server.service.logout(accessToken: token, fingerprint: "laptop"))
            let record = Array(#"{"revoked_at":\#(server.clock.now)}"#.utf8)
            for key in ["revoked:jti:\(claims.tokenID)", "revoked:sub:alice"] {
                #expect(try server.store.record(forKey: key) == record, "\(key)")
                let ttl = try #require(try remainingLifetime(of: key, at: server.memcached.address), "\(key)")
                let expected = claims.expires - Int64(Date().timeIntervalSince1970)
                #expect(abs(ttl - expected) <= 2, "\(key): ttl \(ttl), expected about \(expected)")
            }
        }
    }

    @Test("a logout retried after the session ended still writes the records")
    func retriedLogout() throws {
        try withService { server, token in
            let claims = try server.claims(token)
            #expect(try server.service.logout(accessToken: token, fingerprint: "laptop"))
            #expect(try server.store.delete(key: "revoked:jti:\(claims.tokenID)"))
            #expect(try !server.service.logout(accessToken: token, fingerprint: "laptop"))
            #expect(try server.store.record(forKey: "revoked:jti:\(claims.tokenID)") != nil)
        }
    }

    @Test("a refused logout (another device) revokes nothing")
    func refusedLogout() throws {
        try withService { server, token in
            let claims = try server.claims(token)
            #expect(throws: AuthError.self) { try server.service.logout(accessToken: token, fingerprint: "phone") }
            #expect(try server.store.record(forKey: "revoked:jti:\(claims.tokenID)") == nil)
            #expect(try server.store.record(forKey: "revoked:sub:alice") == nil)
        }
    }

    @Test("without --revoke-key, logout writes no revocation record")
    func noTemplates() throws {
        try withService(revoking: []) { server, token in
            let claims = try server.claims(token)
            #expect(try server.service.logout(accessToken: token, fingerprint: "laptop"))
            #expect(try server.store.record(forKey: "revoked:jti:\(claims.tokenID)") == nil)
        }
    }

    @Test(
        "templates",
        arguments: [
            ("revoked:jti:{tokenId}", "revoked:jti:T1"), ("{sub}", "alice"), ("r:{sub}:{tokenId}:x", "r:alice:T1:x"),
        ]
    )
    func templates(_ template: String, _ key: String) throws {
        let claims = AccessClaims(subject: "alice", issuedAt: 0, expires: 1, tokenID: "T1", roles: [])
        #expect(try RevocationKeyTemplate(template).key(for: claims) == key)
    }

    @Test(
        "templates that name no claim, an unknown one, or hold spaces are configuration errors",
        arguments: ["revoked", "", "revoked:{jti}", "revoked:{tokenId", "revoked:}{sub}", "revoked {sub}", "{{sub}}"]
    )
    func invalidTemplates(_ template: String) {
        #expect(throws: ConfigurationError.self) { try RevocationKeyTemplate(template) }
    }
}

/// The seconds memcached still keeps `key` (meta get's `t` flag), or nil when it has no such key; -1: no expiry.
func remainingLifetime(of key: String, at address: String) throws -> Int64? {
    let port = try #require(UInt16(address.split(separator: ":").last ?? ""))
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    defer { close(fd) }
    var peer = sockaddr_in()
    peer.sin_family = sa_family_t(AF_INET)
    peer.sin_port = port.bigEndian
    peer.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let connected = withUnsafePointer(to: &peer) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    try #require(connected == 0)
    let request = Array("mg \(key) t\r\n".utf8)
    try #require(write(fd, request, request.count) == request.count)
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 256)
    while !reply.suffix(2).elementsEqual("\r\n".utf8) {
        let count = read(fd, &buffer, buffer.count)
        try #require(count > 0)
        reply += buffer[..<count]
    }
    let line = String(decoding: reply.dropLast(2), as: UTF8.self)
    if line == "EN" {
        return nil
    }
    let flag = try #require(line.split(separator: " ").first { $0.hasPrefix("t") }, "\(line)")
    return try #require(Int64(flag.dropFirst()), "\(line)")
}
