import Crypto
import Foundation
import JWTCore
import JWTIssuer
import Testing

@testable import AuthServerCore

/// `--encrypt-key`: access tokens are nested JWTs (a JWS encrypted to nginx's key), which the server reads back as
/// nginx's `auth_jwt_type nested` does; keys it could not read them back with are refused at start.
@Suite("Nested tokens", .serialized)
struct NestedTokenTests {
    /// A 256-bit secret as an `oct` JWK shared with nginx: `"use": "enc"`, unless `use` says otherwise.
    static func secretJWK(in directory: TemporaryDirectory, use: String? = "enc", kid: String = "enc-1") throws
        -> (path: String, secret: Data)
    {
        let secret = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        var jwk: [String: String] = ["kty": "oct", "kid": kid, "k": secret.base64URLEncoded]
        jwk["use"] = use
        let path = directory.path + "/\(kid).jwk"
        try JSONSerialization.data(withJSONObject: jwk).write(to: URL(fileURLWithPath: path))
        return (path, secret)
    }

    static func write(_ text: String, to path: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The JSON object of a base64url segment, `nil` when it is not one.
    static func object(ofSegment segment: Substring) -> [String: Any]? {
        Data(base64URLEncoded: String(segment)).flatMap { try? JSONSerialization.jsonObject(with: $0) }
            as? [String: Any]
    }

    /// The payload of `token` opened through JWTCore as a token of `type` with the keys of `files` (as nginx's
    /// `auth_jwt_key_file`s) and `jwks`; `nil` when refused.
    static func open(_ token: String, type: TokenType, files: [String], jwks: [[String: Any]], now: Int64) throws
        -> [String: Any]?
    {
        let keys = KeySet()
        var documents = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        if !jwks.isEmpty {
            documents.append(try JSONSerialization.data(withJSONObject: ["keys": jwks]))
        }
        for document in documents {
            _ = try document.withUnsafeBytes { (bytes) throws(KeyFileError) in try keys.add(contentsOf: bytes) }
        }
        let payload = try? TokenVerifier(keys: keys, type: type).payload(of: token, now: now)
        return payload.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) } as? [String: Any]
    }

    /// The plaintext of an `A256KW` + `A256GCM` JWE, decrypted with swift-crypto alone (not JWTCore's decrypter).
    static func decrypt(_ token: String, secret: Data) throws -> String {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        try #require(segments.count == 5)
        let part = { (index: Int) throws -> Data in try #require(Data(base64URLEncoded: String(segments[index]))) }
        let cek = try AES.KeyWrap.unwrap(part(1), using: SymmetricKey(data: secret))
        let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: part(2)), ciphertext: part(3), tag: part(4))
        let plaintext = try AES.GCM.open(box, using: cek, authenticating: Data(segments[0].utf8))
        return String(decoding: plaintext, as: UTF8.self)
    }

    @Test("login: five segments the client cannot read, that nginx opens; inside, a JWS of the published keys")
    func login() async throws {
        let directory = try TemporaryDirectory()
        let (keyFile, secret) = try Self.secretJWK(in: directory)
        let server = try RotatingTestService(
            encryption: TokenEncryption(file: keyFile, algorithm: nil, encryption: nil)
        )
        let token = try await server.login()
        let now = server.clock.now
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(segments.count == 5)
        let header = try #require(Self.object(ofSegment: segments[0]))
        #expect(header["alg"] as? String == "A256KW")
        #expect(header["enc"] as? String == "A256GCM")
        #expect(header["cty"] as? String == "JWT")
        #expect(header["kid"] as? String == "enc-1")
        #expect(header["sub"] == nil)
        #expect(Self.object(ofSegment: segments[3]) == nil)
        #expect(!token.contains(server.keys.signingKeyID(at: now) ?? "-"))

        // As nginx with auth_jwt_type nested, its key file and the auth server's JWKS.
        let (_, jwks) = try await server.jwks()
        let claims = try #require(try Self.open(token, type: .nested, files: [keyFile], jwks: jwks, now: now))
        #expect(claims["sub"] as? String == "alice")
        #expect(claims["roles"] as? [String] == ["dev", "admin"])
        // Neither as a signed token, nor without the decryption key, nor with another secret, nor as a JWE of claims.
        #expect(try Self.open(token, type: .signed, files: [keyFile], jwks: jwks, now: now) == nil)
        #expect(try Self.open(token, type: .nested, files: [], jwks: jwks, now: now) == nil)
        let other = try Self.secretJWK(in: directory, kid: "enc-2").path
        #expect(try Self.open(token, type: .nested, files: [other], jwks: jwks, now: now) == nil)
        #expect(try Self.open(token, type: .encrypted, files: [keyFile], jwks: jwks, now: now) == nil)

        // Inside: a JWS signed by the key the server publishes.
        let inner = try Self.decrypt(token, secret: secret)
        #expect(inner.split(separator: ".").count == 3)
        #expect(try keyID(ofToken: inner) == server.keys.signingKeyID(at: now))
        #expect(try verifies(inner, withJWKS: jwks, now: now))
        #expect(try !verifies(token, withJWKS: jwks, now: now))
    }

    @Test("refresh gives a nested token of the same session; logout and logout-all read nested tokens, not plain ones")
    func refreshAndLogout() async throws {
        let directory = try TemporaryDirectory()
        let keyFile = try Self.secretJWK(in: directory).path
        let server = try TestService(
            keys: TestKeys(use: "sig"),
            encryption: TokenEncryption(file: keyFile, algorithm: "dir", encryption: "A256GCM")
        )
        let client = RouterClient(router: makeRouter(service: server.service, maximumBodySize: 1024))

        let login = try await client.login("alice", fingerprint: "laptop")
        let token = try #require(login.headers[.xAuthToken])
        #expect(token.split(separator: ".", omittingEmptySubsequences: false).count == 5)
        #expect(Self.object(ofSegment: token.split(separator: ".")[0])?["alg"] as? String == "dir")
        let tokenID = try server.claims(token).tokenID

        server.clock.advance(by: 60)
        let refreshed = try await client.refresh(
            try #require(try login.object()["refresh_token"] as? String),
            fingerprint: "laptop"
        )
        #expect(refreshed.status == .ok)
        let next = try #require(refreshed.headers[.xAuthToken])
        #expect(next.split(separator: ".", omittingEmptySubsequences: false).count == 5)
        #expect(try server.claims(next).tokenID == tokenID)
        #expect(try server.claims(next).issuedAt == server.clock.now)

        // The signed token inside, presented bare, is not what this server issues.
        let bare = try server.keys.signer.sign(
            payload: Data(encodeJSON(try server.claims(next)))
        )
        try await client.logout(bare, fingerprint: "laptop").expectRefusal(.unauthorized, "INVALID_TOKEN")
        #expect(try server.record(tokenID) != nil)

        let logout = try await client.logout(next, fingerprint: "laptop")
        #expect(logout.status == .ok)
        #expect(try logout.object()["sessions_ended"] as? Int == 1)
        #expect(try server.record(tokenID) == nil)

        let first = try #require(try await client.login("alice", fingerprint: "a").headers[.xAuthToken])
        _ = try await client.login("alice", fingerprint: "b")
        let everywhere = try await client.logout(first, fingerprint: "a", everywhere: true)
        #expect(everywhere.status == .ok)
        #expect(try everywhere.object()["sessions_ended"] as? Int == 2)
    }

    @Test("a private EC key: its public part encrypts (ECDH-ES+A256KW), the whole reads the tokens back")
    func privateKey() async throws {
        let directory = try TemporaryDirectory()
        let key = P256.KeyAgreement.PrivateKey()
        let keyFile = try Self.write(key.pemRepresentation, to: directory.path + "/enc.pem")
        let server = try RotatingTestService(
            encryption: TokenEncryption(file: keyFile, algorithm: nil, encryption: "A128CBC-HS256")
        )
        let token = try await server.login()
        let header = try #require(Self.object(ofSegment: token.split(separator: ".")[0]))
        #expect(header["alg"] as? String == "ECDH-ES+A256KW")
        #expect(header["enc"] as? String == "A128CBC-HS256")
        #expect(try server.service.verify(token).subject == "alice")
        let (_, jwks) = try await server.jwks()
        #expect(try Self.open(token, type: .nested, files: [keyFile], jwks: jwks, now: server.clock.now) != nil)
        #expect(try await server.client.logout(token, fingerprint: "f").status == .ok)
    }

    @Test("refused at start: keys the server could not read its own tokens back with, or that do not fit")
    func refusedAtStart() throws {
        let directory = try TemporaryDirectory()
        let key = P256.KeyAgreement.PrivateKey()
        let x963 = key.publicKey.x963Representation
        let (x, y) = (x963.dropFirst().prefix(32).base64URLEncoded, x963.suffix(32).base64URLEncoded)
        let publicJWK = try Self.write(
            #"{"kty":"EC","crv":"P-256","use":"enc","kid":"pub","x":"\#(x)","y":"\#(y)"}"#,
            to: directory.path + "/public.jwk"
        )
        let publicPEM = try Self.write(key.publicKey.pemRepresentation, to: directory.path + "/public.pem")
        let secret = try Self.secretJWK(in: directory).path
        let cases: [(file: String, alg: String?, enc: String?, says: String)] = [
            (publicJWK, nil, nil, "could not read its own tokens back"),
            (publicPEM, nil, nil, "could not read its own tokens back"),
            (secret, "A128KW", nil, "cannot be used with this key"),
            (secret, "RSA-OAEP-256", nil, "cannot be used with this key"),
            (secret, nil, "A256CTR", "unsupported enc"),
            (directory.path + "/missing.jwk", nil, nil, "cannot read"),
        ]
        for (file, alg, enc, says) in cases {
            #expect {
                _ = try TokenEncryption(file: file, algorithm: alg, encryption: enc)
            } throws: {
                ($0 as? ConfigurationError)?.description.contains(says) == true
            }
        }

        // Keys that load, but with which the server cannot keep nginx's roles apart.
        let unmarked = try Self.secretJWK(in: directory, use: nil, kid: "unmarked").path
        let encryptingTo = { (file: String) throws in try TokenEncryption(file: file, algorithm: nil, encryption: nil) }
        #expect {
            _ = try TestService(keys: TestKeys(use: "sig"), encryption: encryptingTo(unmarked))
        } throws: {
            ($0 as? ConfigurationError)?.description.contains("\"use\"") == true
        }
        #expect {
            _ = try TestService(keys: TestKeys(), encryption: encryptingTo(secret))
        } throws: {
            ($0 as? ConfigurationError)?.description.contains("\"use\"") == true
        }
        // The same keys, marked: accepted.
        _ = try TestService(keys: TestKeys(use: "sig"), encryption: encryptingTo(secret))
    }
}
