import Foundation
import HTTPTypes
import JWTCore
import JWTIssuer
import Testing

@testable import AuthServerCore

/// `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`.
@Suite("JWKS publication", .serialized)
struct JWKSRouteTests {
    /// Every private JWK member (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2) and the secret of an oct key.
    static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    @Test(
        "public members only, kid, alg, use; Cache-Control max-age; JSON",
        arguments: ["ES256", "ES384", "ES512", "EdDSA", "RS256", "PS256"]
    )
    func publicKeysOnly(_ algorithm: String) async throws {
        let server = try RotatingTestService(algorithm: algorithm)
        _ = try server.keys.rotate(now: server.clock.now)  // two keys: the signing one and the next
        let (response, keys) = try await server.jwks()
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json")
        #expect(response.headers[.cacheControl] == "max-age=\(RotatingTestService.lead)")
        #expect(keys.count == 2)
        for jwk in keys {
            for member in Self.privateMembers {
                #expect(jwk[member] == nil, "\(algorithm) JWK publishes \(member)")
            }
            #expect(jwk["alg"] as? String == algorithm)
            #expect(jwk["use"] as? String == "sig")
            let kid = try #require(jwk["kid"] as? String)
            // The RFC 7638 thumbprint: SHA-256, 43 base64url characters.
            #expect(kid.utf8.count == 43)
        }
        let body = String(decoding: response.body.readableBytesView, as: UTF8.self)
        for member in Self.privateMembers {
            #expect(!body.contains("\"\(member)\":"), "\(algorithm) JWKS text holds \"\(member)\"")
        }
        // nginx's verifier (JWTCore) accepts the JWKS, and a login token verifies with it.
        let token = try await server.login()
        #expect(try verifies(token, withJWKS: keys, now: server.clock.now))
    }

    @Test("the RFC 7638 thumbprint of the RFC's own example key")
    func thumbprint() {
        // RFC 7638 §3.1.
        let jwk = [
            "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
            "n":
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCi"
                + "FV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7"
                + "d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-c"
                + "sFCur-kEgU8awapJzKnqDKgw",
        ]
        #expect(PublicJWK.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    @Test("a server with one --signing-key publishes its public half; a secret is never published")
    func staticKeys() async throws {
        let memcached = try Memcached()
        let key = try P256SigningKeyFixture()
        let service = try AuthService(
            users: try TestUsers.directory(),
            signer: key.signer,
            verificationKeys: try key.keySet(),
            store: try memcached.store()
        )
        let client = RouterClient(router: makeRouter(service: service))
        let response = try await client.execute(uri: "/.well-known/jwks.json", method: .get)
        #expect(response.status == .ok)
        #expect(response.headers[.cacheControl] == "max-age=300")
        let keys = try #require(try response.object()["keys"] as? [[String: Any]])
        #expect(keys.count == 1)
        #expect(keys.first?["kid"] as? String == "demo")
        #expect(keys.first?["x"] as? String == key.signer.key.publicJWK["x"])
        #expect(keys.first?["d"] == nil)

        // An HMAC signer (TestKeys): nothing to publish.
        let hmac = try TestService()
        try await RouterClient(router: makeRouter(service: hmac.service))
            .execute(uri: "/.well-known/jwks.json", method: .get)
            .expectRefusal(.notFound, "NOT_FOUND")
    }

    @Test("openid-configuration: issuer and jwks_uri with an issuer, 404 without; tokens carry iss")
    func discovery() async throws {
        let server = try RotatingTestService(issuer: "https://auth.example.com/")
        let response = try await server.client.execute(uri: "/.well-known/openid-configuration", method: .get)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json")
        let body = try response.object()
        #expect(body["issuer"] as? String == "https://auth.example.com/")
        #expect(body["jwks_uri"] as? String == "https://auth.example.com/.well-known/jwks.json")
        #expect(try server.service.verify(try await server.login()).issuer == "https://auth.example.com/")

        let plain = try RotatingTestService()
        try await plain.client.execute(uri: "/.well-known/openid-configuration", method: .get)
            .expectRefusal(.notFound, "NOT_FOUND")
    }
}

/// A P-256 key with kid `demo`, and the JWKS nginx would verify it with.
struct P256SigningKeyFixture {
    let signer: TokenSigner

    init() throws {
        let key = try ManagedKey.generate(algorithm: "ES256", publishedAt: 0, signsFrom: 0).signer.key
        self.signer = try TokenSigner(LoadedKey(key: key, kid: "demo", alg: "ES256"))
    }

    func keySet() throws -> KeySet {
        var jwk = self.signer.key.publicJWK
        jwk["kid"] = "demo"
        let document = try JSONSerialization.data(withJSONObject: ["keys": [jwk]])
        let keys = KeySet()
        _ = try document.withUnsafeBytes { (bytes) throws(KeyFileError) in try keys.add(contentsOf: bytes) }
        return keys
    }
}
