import Foundation
import HTTPTypes
import JWTCore
import SessionStore
import Testing

@testable import AuthServerCore

/// `/logout` and `/logout-all` act for a session only from the device it is bound to, as nginx decides it: a token
/// stolen without its fingerprint cannot end its owner's sessions.
@Suite("Logout requires the session's fingerprint", .serialized)
struct LogoutFingerprintTests {
    /// A client, its server, and alice logged in on the `laptop` and `phone`: their tokens.
    func withTwoSessions(
        _ body: (RouterClient, TestService, _ laptop: String, _ phone: String) async throws -> Void
    ) async throws {
        let server = try TestService()
        let client = RouterClient(router: makeRouter(service: server.service, maximumBodySize: 1024))
        let laptop = try #require(try await client.login("alice", fingerprint: "laptop").headers[.xAuthToken])
        let phone = try #require(try await client.login("alice", fingerprint: "phone").headers[.xAuthToken])
        try await body(client, server, laptop, phone)
    }

    @Test(
        "logout without the session's fingerprint: 401 FINGERPRINT_MISMATCH, and the session lives on",
        arguments: [
            nil, "", "phone", "laptoq", "aaptop", "LAPTOP", "laptop-and-more", String(repeating: "x", count: 600),
        ] as [String?]
    )
    func logoutRefused(_ fingerprint: String?) async throws {
        try await withTwoSessions { client, server, laptop, _ in
            let response = try await client.logout(laptop, fingerprint: fingerprint)
            try response.expectRefusal(.unauthorized, "FINGERPRINT_MISMATCH")
            #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="auth-server""#)
            #expect(try server.record(try server.claims(laptop).tokenID) != nil)
            #expect(try server.nginxRefusal(laptop, fingerprint: "laptop") == nil)
        }
    }

    @Test(
        "logout-all without the session's fingerprint: 401 FINGERPRINT_MISMATCH, and no session ends",
        arguments: [nil, "", "phone", "laptop2"] as [String?]
    )
    func logoutAllRefused(_ fingerprint: String?) async throws {
        try await withTwoSessions { client, server, laptop, phone in
            try await client.logout(laptop, fingerprint: fingerprint, everywhere: true)
                .expectRefusal(.unauthorized, "FINGERPRINT_MISMATCH")
            #expect(try server.nginxRefusal(laptop, fingerprint: "laptop") == nil)
            #expect(try server.nginxRefusal(phone, fingerprint: "phone") == nil)
            #expect(try server.index("alice")?.sessions.count == 2)
        }
    }

    @Test("with the session's fingerprint: logout ends that session, logout-all every one")
    func accepted() async throws {
        try await withTwoSessions { client, server, laptop, phone in
            let response = try await client.logout(laptop, fingerprint: "laptop")
            #expect(response.status == .ok)
            #expect(try response.object()["sessions_ended"] as? Int == 1)
            #expect(try server.nginxRefusal(laptop, fingerprint: "laptop") == .loggedOut)
            #expect(try server.nginxRefusal(phone, fingerprint: "phone") == nil)

            let tablet = try #require(try await client.login("alice", fingerprint: "tablet").headers[.xAuthToken])
            let all = try await client.logout(phone, fingerprint: "phone", everywhere: true)
            #expect(all.status == .ok)
            #expect(try all.object()["sessions_ended"] as? Int == 2)
            #expect(try server.nginxRefusal(phone, fingerprint: "phone") == .loggedOut)
            #expect(try server.nginxRefusal(tablet, fingerprint: "tablet") == .loggedOut)
        }
    }

    @Test("an idle session: logout ends it from its device only; logout-all is refused as nginx refuses it")
    func idle() async throws {
        let server = try TestService()
        let client = RouterClient(router: makeRouter(service: server.service))
        let first = try #require(try await client.login("idle", fingerprint: "pad").headers[.xAuthToken])
        let second = try #require(try await client.login("idle", fingerprint: "pad-2").headers[.xAuthToken])
        server.clock.advance(by: 3)  // the user's session_idle_timeout is 2
        #expect(try server.nginxRefusal(first, fingerprint: "pad") == .sessionIdleTimeout)

        try await client.logout(first, fingerprint: "pad-2").expectRefusal(.unauthorized, "FINGERPRINT_MISMATCH")
        try await client.logout(first, fingerprint: "pad", everywhere: true)
            .expectRefusal(.unauthorized, "SESSION_IDLE_TIMEOUT")
        #expect(try server.record(try server.claims(second).tokenID) != nil)

        let response = try await client.logout(first, fingerprint: "pad")
        #expect(response.status == .ok)
        #expect(try response.object()["sessions_ended"] as? Int == 1)
        #expect(try server.record(try server.claims(first).tokenID) == nil)
    }

    @Test("a record without a fingerprint (no fingerprint check, as nginx decides) lets a logout without one through")
    func unboundSession() async throws {
        let server = try TestService()
        let client = RouterClient(router: makeRouter(service: server.service))
        let token = try #require(try await client.login("carol", fingerprint: "f").headers[.xAuthToken])
        let tokenID = try server.claims(token).tokenID
        let stored = try #require(try server.store.record(forKey: "session:" + tokenID))
        var record = try #require(try JSONSerialization.jsonObject(with: Data(stored)) as? [String: Any])
        record["fingerprint"] = nil
        try server.store.create(
            key: "session:" + tokenID,
            record: Array(try JSONSerialization.data(withJSONObject: record)),
            expiresAt: 0
        )
        let response = try await client.logout(token, fingerprint: nil)
        #expect(response.status == .ok)
        #expect(try response.object()["sessions_ended"] as? Int == 1)
    }

    @Test("a record nginx cannot read: both refused with INVALID_SESSION, nothing deleted")
    func unreadableRecord() async throws {
        try await withTwoSessions { client, server, laptop, _ in
            let key = "session:" + (try server.claims(laptop).tokenID)
            try server.store.create(key: key, record: Array(#"{"fingerprint":"laptop"}"#.utf8), expiresAt: 0)
            try await client.logout(laptop, fingerprint: "laptop").expectRefusal(.unauthorized, "INVALID_SESSION")
            try await client.logout(laptop, fingerprint: "laptop", everywhere: true)
                .expectRefusal(.unauthorized, "INVALID_SESSION")
            #expect(try server.store.record(forKey: key) != nil)
            #expect(try server.index("alice")?.sessions.count == 2)
        }
    }
}
