import Foundation
import HTTPTypes
import JWTCore
import SessionStore
import Testing

@testable import AuthServerCore

/// Refresh token rotation with reuse detection (OAuth 2.0 Security BCP): a refresh token presented after it was
/// rotated ends its session, whoever presented it first, so a thief who refreshed first loses the session too.
@Suite("Refresh token reuse ends the session", .serialized)
struct RefreshReuseTests {
    /// What one party holds: an access token and a refresh token.
    struct Tokens {
        var access: String
        var refresh: String

        init(_ response: RouterClient.Response) throws {
            #expect(response.status == .ok)
            self.access = try #require(response.headers[.xAuthToken])
            self.refresh = try #require(try response.object()["refresh_token"] as? String)
        }
    }

    /// Afterwards no token of either party works: nginx refuses every access token (LOGGED_OUT), and every
    /// refresh token is refused.
    func expectSessionEnded(
        _ client: RouterClient,
        _ server: TestService,
        _ parties: [Tokens],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let tokenID = try server.claims(parties[0].access).tokenID
        #expect(try server.record(tokenID) == nil, sourceLocation: sourceLocation)
        for party in parties {
            #expect(
                try server.nginxRefusal(party.access, fingerprint: "laptop") == .loggedOut,
                sourceLocation: sourceLocation
            )
            try await client.refresh(party.refresh, fingerprint: "laptop")
                .expectRefusal(.unauthorized, "LOGGED_OUT", sourceLocation: sourceLocation)
        }
    }

    func withLogin(_ body: (RouterClient, TestService, Tokens) async throws -> Void) async throws {
        let server = try TestService()
        let client = RouterClient(router: makeRouter(service: server.service))
        try await body(client, server, try Tokens(try await client.login("alice", fingerprint: "laptop")))
    }

    @Test("the client refreshes first, then the thief reuses the old refresh token: the session ends")
    func clientFirst() async throws {
        try await withLogin { client, server, login in
            let client1 = try Tokens(try await client.refresh(login.refresh, fingerprint: "laptop"))
            #expect(try server.nginxRefusal(client1.access, fingerprint: "laptop") == nil)

            // The thief copied the device, fingerprint included.
            try await client.refresh(login.refresh, fingerprint: "laptop")
                .expectRefusal(.unauthorized, "REFRESH_TOKEN_REUSED")
            try await expectSessionEnded(client, server, [login, client1])
        }
    }

    @Test("the thief refreshes first, then the client reuses the old refresh token: the thief loses the session")
    func thiefFirst() async throws {
        try await withLogin { client, server, login in
            let thief = try Tokens(try await client.refresh(login.refresh, fingerprint: "laptop"))
            #expect(try server.nginxRefusal(thief.access, fingerprint: "laptop") == nil)

            try await client.refresh(login.refresh, fingerprint: "laptop")
                .expectRefusal(.unauthorized, "REFRESH_TOKEN_REUSED")
            try await expectSessionEnded(client, server, [login, thief])
        }
    }

    @Test("a refresh token from several rotations back is recognised too, from any device")
    func olderToken() async throws {
        try await withLogin { client, server, login in
            var latest = login
            for _ in 0..<3 {
                latest = try Tokens(try await client.refresh(latest.refresh, fingerprint: "laptop"))
            }
            try await client.refresh(login.refresh, fingerprint: "elsewhere")
                .expectRefusal(.unauthorized, "REFRESH_TOKEN_REUSED")
            try await expectSessionEnded(client, server, [login, latest])
        }
    }

    @Test("both parties refresh with the same token at once: the session ends whoever wins")
    func concurrent() async throws {
        try await withLogin { client, server, login in
            let refresh = login.refresh
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let response = try await client.refresh(refresh, fingerprint: "laptop")
                        return (response.status, response.headers[.xAuthToken])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == .ok }.count <= 1)
            #expect(statuses.contains { $0.0 == .unauthorized })
            var parties = [login]
            for case (.ok, let access?) in statuses {
                parties.append(Tokens(access: access, refresh: refresh))
            }
            try await expectSessionEnded(client, server, parties)
        }
    }

    @Test("a refresh token never issued is only refused: guessing cannot end someone's session")
    func wrongSecret() async throws {
        try await withLogin { client, server, login in
            let tokenID = try server.claims(login.access).tokenID
            for secret in ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x"] {
                try await client.refresh(tokenID + "." + secret, fingerprint: "laptop")
                    .expectRefusal(.unauthorized, "INVALID_REFRESH_TOKEN")
            }
            #expect(try server.nginxRefusal(login.access, fingerprint: "laptop") == nil)
            #expect(try await client.refresh(login.refresh, fingerprint: "laptop").status == .ok)
        }
    }

    @Test("a refresh refused for its fingerprint spends nothing: the client's next refresh works")
    func refusedRefreshIsNotRotation() async throws {
        try await withLogin { client, server, login in
            try await client.refresh(login.refresh, fingerprint: "stolen")
                .expectRefusal(.unauthorized, "FINGERPRINT_MISMATCH")
            let next = try Tokens(try await client.refresh(login.refresh, fingerprint: "laptop"))
            #expect(try server.nginxRefusal(next.access, fingerprint: "laptop") == nil)
        }
    }
}

extension RefreshReuseTests.Tokens {
    init(access: String, refresh: String) {
        self.access = access
        self.refresh = refresh
    }
}
