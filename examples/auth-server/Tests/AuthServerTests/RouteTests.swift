import Foundation
import HTTPTypes
import Hummingbird
import JWTCore
import NIOCore
import SessionStore
import Testing

@testable import AuthServerCore

/// The HTTP API through Hummingbird's router, with a real memcached behind.
@Suite("Auth server routes", .serialized)
struct RouteTests {
    static let json: HTTPFields = [.contentType: "application/json"]

    /// Runs `body` with a client of a fresh server.
    func withServer(
        configure: (inout AuthConfiguration) -> Void = { _ in },
        _ body: (RouterClient, TestService) async throws -> Void
    ) async throws {
        let server = try TestService(configure: configure)
        try await body(RouterClient(router: makeRouter(service: server.service, maximumBodySize: 1024)), server)
    }

    // MARK: Login

    @Test("login: 200, the token in X-AUTH-TOKEN and the body, and the session record nginx reads")
    func login() async throws {
        try await withServer { client, server in
            let response = try await client.login("alice", fingerprint: "laptop-1")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try response.object()
            let token = try #require(response.headers[.xAuthToken])
            #expect(body["access_token"] as? String == token)
            #expect(body["token_type"] as? String == "Bearer")
            #expect(body["expires_in"] as? Int == 900)
            #expect(body["user"] as? String == "alice")
            #expect(body["roles"] as? [String] == ["dev", "admin"])

            let now = server.clock.now
            let claims = try server.claims(token)
            #expect(claims.subject == "alice")
            #expect(claims.roles == ["dev", "admin"])
            #expect(claims.issuedAt == now)
            #expect(claims.expires == now + 900)
            // At least 128 bits from the CSPRNG: 16 bytes, 22 base64url characters.
            #expect(claims.tokenID.utf8.count == 22)

            let record = try #require(try server.record(claims.tokenID))
            #expect(record.fingerprint == "laptop-1")
            #expect(record.lastAccessTime == now)
            #expect(record.sessionIdleTimeout == 1800)
            #expect(record.expiresAt == now + 86400)
            #expect(body["session_expires_at"] as? Int == Int(now + 86400))
            #expect(record.user == "alice")
            #expect(try server.index("alice")?.sessions == [claims.tokenID: now + 86400])

            let refresh = try #require(body["refresh_token"] as? String)
            #expect(refresh.hasPrefix(claims.tokenID + "."))
            // The record keeps a hash of the refresh secret, never the secret.
            #expect(!record.refreshTokenHash.isEmpty)
            #expect(!refresh.hasSuffix(record.refreshTokenHash))

            // Two logins, two sessions.
            let second = try await client.login("alice", fingerprint: "phone-2")
            let secondID = try server.claims(try #require(second.headers[.xAuthToken])).tokenID
            #expect(secondID != claims.tokenID)
            #expect(try server.index("alice")?.sessions.count == 2)
        }
    }

    @Test("wrong password and unknown user: the same 401, and nothing written")
    func wrongCredentials() async throws {
        try await withServer { client, server in
            for (user, password) in [
                ("alice", "wrong"), ("mallory", TestUsers.password), ("alice", ""),
                ("alice", TestUsers.password + String(repeating: "x", count: 60)),
            ] {
                let response = try await client.login(user, password: password, fingerprint: "f")
                try response.expectRefusal(.unauthorized, "INVALID_CREDENTIALS")
                #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="auth-server""#)
                #expect(response.headers[.xAuthToken] == nil)
            }
            #expect(try server.index("alice") == nil)
            #expect(try server.index("mallory") == nil)
        }
    }

    @Test(
        "bad requests: clear 4xx JSON",
        arguments: [
            ("not json", "application/json", HTTPResponse.Status.badRequest, "MALFORMED_JSON"),
            ("", "application/json", .badRequest, "MALFORMED_JSON"),
            (#"["alice"]"#, "application/json", .badRequest, "MALFORMED_JSON"),
            (#"{"username":"alice","password":"x"}"#, "application/json", .badRequest, "MISSING_FIELD"),
            (#"{"password":"x","fingerprint":"f"}"#, "application/json", .badRequest, "MISSING_FIELD"),
            (#"{"username":1,"password":"x","fingerprint":"f"}"#, "application/json", .badRequest, "INVALID_FIELD"),
            (#"{"username":"a","password":null,"fingerprint":"f"}"#, "application/json", .badRequest, "INVALID_FIELD"),
            (#"{"username":"a","password":"x","fingerprint":""}"#, "application/json", .badRequest, "INVALID_FIELD"),
            (
                #"{"username":"alice","password":"x","fingerprint":"f"}"#, "text/plain", .unsupportedMediaType,
                "UNSUPPORTED_MEDIA_TYPE"
            ),
            (
                #"{"username":"alice","password":"x","fingerprint":"f"}"#, "", .unsupportedMediaType,
                "UNSUPPORTED_MEDIA_TYPE"
            ),
            (
                #"{"username":"alice","password":"x","fingerprint":"\#(String(repeating: "f", count: 2000))"}"#,
                "application/json", .contentTooLarge, "BODY_TOO_LARGE"
            ),
        ]
    )
    func badRequests(
        _ body: String,
        _ contentType: String,
        _ status: HTTPResponse.Status,
        _ code: String
    )
        async throws
    {
        try await withServer { client, server in
            var headers: HTTPFields = [:]
            if !contentType.isEmpty {
                headers[.contentType] = contentType
            }
            let response = try await client.execute(
                uri: "/login",
                method: .post,
                headers: headers,
                body: ByteBuffer(string: body)
            )
            try response.expectRefusal(status, code)
            #expect(try server.index("alice") == nil)
        }
    }

    @Test("a charset parameter is fine; a fingerprint longer than 512 bytes is not")
    func contentTypeParameters() async throws {
        try await withServer { client, _ in
            let body = #"{"username":"alice","password":"\#(TestUsers.password)","fingerprint":"f"}"#
            let response = try await client.execute(
                uri: "/login",
                method: .post,
                headers: [.contentType: "Application/JSON; charset=utf-8"],
                body: ByteBuffer(string: body)
            )
            #expect(response.status == .ok)
            let long = try await client.login("alice", fingerprint: String(repeating: "f", count: 513))
            try long.expectRefusal(.badRequest, "INVALID_FIELD")
        }
    }

    @Test("unknown endpoints and methods: 404 JSON")
    func notFound() async throws {
        try await withServer { client, _ in
            try await client.execute(uri: "/login", method: .get).expectRefusal(.notFound, "NOT_FOUND")
            try await client.execute(uri: "/nope", method: .post).expectRefusal(.notFound, "NOT_FOUND")
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            #expect(try health.object()["status"] as? String == "OK")
        }
    }

    @Test("the session store down: 503, fail closed")
    func storeDown() async throws {
        let keys = try TestKeys()
        let service = try AuthService(
            users: try TestUsers.directory(),
            signer: keys.signer,
            verificationKeys: try keys.keySet(),
            store: try SessionStore(servers: ["127.0.0.1:1"], timeoutMilliseconds: 200)
        )
        let client = RouterClient(router: makeRouter(service: service))
        let response = try await client.login("alice", fingerprint: "f")
        try response.expectRefusal(.serviceUnavailable, "SESSION_STORE_UNAVAILABLE")
        #expect(response.headers[.xAuthToken] == nil)
    }

    @Test("too many sessions: 409")
    func tooManySessions() async throws {
        try await withServer(configure: { $0.maximumSessionsPerUser = 2 }) { client, server in
            #expect(try await client.login("bob", fingerprint: "1").status == .ok)
            #expect(try await client.login("bob", fingerprint: "2").status == .ok)
            try await client.login("bob", fingerprint: "3").expectRefusal(.conflict, "TOO_MANY_SESSIONS")
            // Expired sessions do not count.
            server.clock.advance(by: 86400)
            #expect(try await client.login("bob", fingerprint: "4").status == .ok)
            #expect(try server.index("bob")?.sessions.count == 1)
        }
    }

    // MARK: Logout

    @Test("logout ends that session only; again: nothing to end")
    func logout() async throws {
        try await withServer { client, server in
            let first = try await client.login("alice", fingerprint: "a")
            let second = try await client.login("alice", fingerprint: "b")
            let token = try #require(first.headers[.xAuthToken])
            let tokenID = try server.claims(token).tokenID
            let otherID = try server.claims(try #require(second.headers[.xAuthToken])).tokenID

            let response = try await client.logout(token, fingerprint: "a")
            #expect(response.status == .ok)
            #expect(try response.object()["sessions_ended"] as? Int == 1)
            #expect(try server.record(tokenID) == nil)
            #expect(try server.record(otherID) != nil)
            #expect(try server.index("alice")?.sessions.keys.sorted() == [otherID])

            let again = try await client.logout(token, fingerprint: "a")
            #expect(again.status == .ok)
            #expect(try again.object()["sessions_ended"] as? Int == 0)
        }
    }

    @Test("logout refuses a missing, forged or expired token")
    func logoutRefusals() async throws {
        try await withServer { client, server in
            let token = try #require(try await client.login("alice", fingerprint: "a").headers[.xAuthToken])
            let tokenID = try server.claims(token).tokenID
            try await client.execute(uri: "/logout", method: .post).expectRefusal(.unauthorized, "TOKEN_MISSING")

            let forged = String(token.dropLast()) + (token.hasSuffix("A") ? "B" : "A")
            try await client.execute(uri: "/logout", method: .post, headers: [.xAuthToken: forged])
                .expectRefusal(.unauthorized, "INVALID_TOKEN")
            // Signed with another key (an attacker's): refused.
            let other = try TestKeys().signer.sign(
                payload: Data(#"{"sub":"alice","tokenId":"\#(tokenID)","exp":9999999999}"#.utf8)
            )
            try await client.execute(uri: "/logout", method: .post, headers: [.xAuthToken: other])
                .expectRefusal(.unauthorized, "INVALID_TOKEN")
            // Signed with the right key but without this server's claims.
            let bare = try server.keys.signer.sign(payload: Data(#"{"exp":9999999999}"#.utf8))
            try await client.execute(uri: "/logout", method: .post, headers: [.xAuthToken: bare])
                .expectRefusal(.unauthorized, "INVALID_TOKEN")
            #expect(try server.record(tokenID) != nil)

            server.clock.advance(by: 901)
            try await client.logout(token, fingerprint: "a").expectRefusal(.unauthorized, "TOKEN_EXPIRED")
            #expect(try server.record(tokenID) != nil)
        }
    }

    @Test("logout everywhere ends every session of the user, and no one else's")
    func logoutAll() async throws {
        try await withServer { client, server in
            var ids: [String] = []
            var tokens: [String] = []
            for device in ["a", "b", "c"] {
                let token = try #require(try await client.login("alice", fingerprint: device).headers[.xAuthToken])
                tokens.append(token)
                ids.append(try server.claims(token).tokenID)
            }
            let bobID = try server.claims(
                try #require(try await client.login("bob", fingerprint: "b").headers[.xAuthToken])
            ).tokenID

            let response = try await client.logout(tokens[1], fingerprint: "b", everywhere: true)
            #expect(response.status == .ok)
            #expect(try response.object()["sessions_ended"] as? Int == 3)
            for id in ids {
                #expect(try server.record(id) == nil)
            }
            #expect(try server.record(bobID) != nil)
            #expect(try server.index("alice")?.sessions == [:])

            // A token whose session ended cannot end the sessions made since.
            let later = try #require(try await client.login("alice", fingerprint: "d").headers[.xAuthToken])
            try await client.logout(tokens[0], fingerprint: "a", everywhere: true)
                .expectRefusal(.unauthorized, "LOGGED_OUT")
            #expect(try server.record(try server.claims(later).tokenID) != nil)
        }
    }

    // MARK: Refresh

    @Test("refresh: a new access token for the same session, and the next refresh token")
    func refresh() async throws {
        try await withServer { client, server in
            let login = try await client.login("alice", fingerprint: "laptop")
            let first = try login.object()
            let tokenID = try server.claims(try #require(login.headers[.xAuthToken])).tokenID
            let refreshToken = try #require(first["refresh_token"] as? String)

            server.clock.advance(by: 600)
            let response = try await client.refresh(refreshToken, fingerprint: "laptop")
            #expect(response.status == .ok)
            let body = try response.object()
            let token = try #require(response.headers[.xAuthToken])
            #expect(body["access_token"] as? String == token)
            let claims = try server.claims(token)
            #expect(claims.tokenID == tokenID)
            #expect(claims.subject == "alice")
            #expect(claims.issuedAt == server.clock.now)
            #expect(claims.expires == server.clock.now + 900)
            let next = try #require(body["refresh_token"] as? String)
            #expect(next != refreshToken)
            #expect(next.hasPrefix(tokenID + "."))
            #expect(try server.record(tokenID)?.lastAccessTime == server.clock.now)

            // Bound to the device, as nginx checks it; refused from another, the token stays usable.
            try await client.refresh(next, fingerprint: "stolen").expectRefusal(.unauthorized, "FINGERPRINT_MISMATCH")
            #expect(try await client.refresh(next, fingerprint: "laptop").status == .ok)
            // Single use: reusing a spent one is RefreshReuseTests' subject.
        }
    }

    @Test("refresh is refused once the session is gone, idle or expired")
    func refreshRefusals() async throws {
        try await withServer { client, server in
            for malformed in ["", "abc", "a.b.c", ".x", "x.", "a b.c", String(repeating: "a", count: 65) + ".b"] {
                try await client.refresh(malformed, fingerprint: "f").expectRefusal(
                    .unauthorized,
                    "INVALID_REFRESH_TOKEN"
                )
            }
            try await client.refresh("AAAAAAAAAAAAAAAAAAAAAA.secret", fingerprint: "f").expectRefusal(
                .unauthorized,
                "LOGGED_OUT"
            )

            // Logged out.
            let login = try await client.login("alice", fingerprint: "f")
            let refreshToken = try #require(try login.object()["refresh_token"] as? String)
            #expect(try await client.logout(try #require(login.headers[.xAuthToken]), fingerprint: "f").status == .ok)
            try await client.refresh(refreshToken, fingerprint: "f").expectRefusal(.unauthorized, "LOGGED_OUT")

            // Idle longer than the user's session_idle_timeout (2 s).
            let idle = try #require(
                try await client.login("idle", fingerprint: "f").object()["refresh_token"] as? String
            )
            server.clock.advance(by: 3)
            try await client.refresh(idle, fingerprint: "f").expectRefusal(.unauthorized, "SESSION_IDLE_TIMEOUT")

            // Past expires_at (carol's sessions are never idle); the last access token never outlives the session.
            let carol = try #require(
                try await client.login("carol", fingerprint: "f").object()["refresh_token"] as? String
            )
            server.clock.advance(by: 86400 - 100)
            let last = try await client.refresh(carol, fingerprint: "f")
            let claims = try server.claims(try #require(last.headers[.xAuthToken]))
            #expect(claims.expires == server.clock.now + 100)
            let next = try #require(try last.object()["refresh_token"] as? String)
            server.clock.advance(by: 100)
            try await client.refresh(next, fingerprint: "f").expectRefusal(.unauthorized, "LOGGED_OUT")
        }
    }
}

extension RouterClient {
    func login(
        _ username: String,
        password: String = TestUsers.password,
        fingerprint: String
    ) async throws -> RouterClient.Response {
        let body = try JSONSerialization.data(withJSONObject: [
            "username": username, "password": password, "fingerprint": fingerprint,
        ])
        return try await self.execute(
            uri: "/login",
            method: .post,
            headers: RouteTests.json,
            body: ByteBuffer(bytes: body)
        )
    }

    func refresh(_ refreshToken: String, fingerprint: String) async throws -> RouterClient.Response {
        let body = try JSONSerialization.data(withJSONObject: [
            "refresh_token": refreshToken, "fingerprint": fingerprint,
        ])
        return try await self.execute(
            uri: "/refresh",
            method: .post,
            headers: RouteTests.json,
            body: ByteBuffer(bytes: body)
        )
    }
}

extension RouterClient {
    /// `POST /logout` (or `/logout-all`) with the token, and the fingerprint when there is one.
    func logout(_ token: String, fingerprint: String?, everywhere: Bool = false) async throws -> RouterClient.Response {
        var headers: HTTPFields = [.xAuthToken: token]
        if let fingerprint {
            headers[.fingerPrint] = fingerprint
        }
        return try await self.execute(uri: everywhere ? "/logout-all" : "/logout", method: .post, headers: headers)
    }
}

extension RouterClient.Response {
    func object() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(self.body.readableBytesView)) as? [String: Any])
    }

    /// A refusal: the status, `{"status":"<code>","message":...}` and its Content-Type.
    func expectRefusal(
        _ status: HTTPResponse.Status,
        _ code: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(self.status == status, sourceLocation: sourceLocation)
        #expect(self.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        let body = try self.object()
        #expect(body["status"] as? String == code, sourceLocation: sourceLocation)
        #expect(!((body["message"] as? String) ?? "").isEmpty, sourceLocation: sourceLocation)
    }
}
