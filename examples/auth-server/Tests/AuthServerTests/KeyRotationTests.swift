import Foundation
import Testing

@testable import AuthServerCore

/// Rotation without a restart: a new key is published `lead` (the JWKS max-age) before it signs; the old key stays
/// published until the last token it signed has expired (the access token lifetime), then goes.
@Suite("Key rotation", .serialized)
struct KeyRotationTests {
    static let lead = RotatingTestService.lead
    static let lifetime = RotatingTestService.lifetime

    @Test("the timeline: published but not signing, then signing, the old key kept until its tokens expire, then gone")
    func timeline() async throws {
        let server = try RotatingTestService()
        let old = try #require(server.keys.signingKeyID(at: server.clock.now))
        #expect(try await server.publishedKeyIDs() == [old])
        #expect(try keyID(ofToken: try await server.login()) == old)

        let rotation = try server.keys.rotate(now: server.clock.now)
        guard case .published(let new, let signsFrom) = rotation else {
            Issue.record("rotation did not publish a key: \(rotation)")
            return
        }
        #expect(signsFrom == server.clock.now + Self.lead)
        #expect(new != old)

        // Published at once, not signing yet, for a whole max-age.
        #expect(try await server.publishedKeyIDs() == [old, new])
        #expect(try keyID(ofToken: try await server.login()) == old)
        server.clock.advance(by: Self.lead - 1)
        let lastOfOld = try await server.login()
        #expect(try keyID(ofToken: lastOfOld) == old)

        // Signing from then on; the old key still published.
        server.clock.advance(by: 1)
        let firstOfNew = try await server.login()
        #expect(try keyID(ofToken: firstOfNew) == new)
        #expect(try await server.publishedKeyIDs() == [old, new])
        let (_, jwks) = try await server.jwks()
        #expect(try verifies(lastOfOld, withJWKS: jwks, now: server.clock.now))
        #expect(try verifies(firstOfNew, withJWKS: jwks, now: server.clock.now))

        // Until the last token the old key signed (one second before the switch) has expired.
        server.clock.advance(by: Self.lifetime - 1)
        #expect(try await server.publishedKeyIDs() == [old, new])
        #expect(try server.keys.maintain(now: server.clock.now) == [])
        #expect(try server.directory.keyFiles() == [old + ".json", new + ".json"].sorted())

        server.clock.advance(by: 1)
        #expect(try await server.publishedKeyIDs() == [new])
        #expect(try server.keys.maintain(now: server.clock.now) == [.removed(kid: old)])
        #expect(try server.directory.keyFiles() == [new + ".json"])
        #expect(try keyID(ofToken: try await server.login()) == new)
    }

    @Test("a rotation asked for while one is under way does nothing")
    func alreadyPending() throws {
        let server = try RotatingTestService()
        guard case .published(let pending, let signsFrom) = try server.keys.rotate(now: server.clock.now) else {
            Issue.record("no key published")
            return
        }
        server.clock.advance(by: 10)
        #expect(try server.keys.rotate(now: server.clock.now) == .alreadyPending(kid: pending, signsFrom: signsFrom))
        #expect(try server.directory.keyFiles().count == 2)
        server.clock.advance(by: Self.lead)
        guard case .published = try server.keys.rotate(now: server.clock.now) else {
            Issue.record("no rotation once the pending key signs")
            return
        }
        #expect(server.keys.publishedKeyIDs(at: server.clock.now).count == 3)
    }

    @Test("on a schedule: the next key is published a lead before the current one has signed for the interval")
    func scheduled() throws {
        let every: Int64 = 1000
        let server = try RotatingTestService(rotateEvery: every)
        let start = server.clock.now
        let first = try #require(server.keys.signingKeyID(at: start))

        server.clock.advance(by: every - Self.lead - 1)
        #expect(try server.keys.maintain(now: server.clock.now) == [])
        server.clock.advance(by: 1)
        let events = try server.keys.maintain(now: server.clock.now)
        guard case .published(let second, let signsFrom)? = events.first, events.count == 1 else {
            Issue.record("no scheduled rotation: \(events)")
            return
        }
        #expect(signsFrom == start + every)
        #expect(server.keys.signingKeyID(at: start + every - 1) == first)
        #expect(server.keys.signingKeyID(at: start + every) == second)
        // Nothing more until the next key has signed for the interval.
        server.clock.advance(by: Self.lead)
        #expect(try server.keys.maintain(now: server.clock.now) == [])
    }

    @Test("a restart publishes the same keys and signs with the same one; the files are 0600 in a 0700 directory")
    func restart() throws {
        let directory = try TemporaryDirectory()
        var policy = RotatingKeys.Policy()
        policy.publishLead = Self.lead
        policy.retention = Self.lifetime
        let now: Int64 = 1_800_000_000
        var published: [String] = []
        do {
            let keys = try RotatingKeys(directory: directory.keys, policy: policy, now: now)
            _ = try keys.rotate(now: now)
            published = keys.publishedKeyIDs(at: now)
            #expect(published.count == 2)
            // The directory is locked while a server holds it.
            #expect(throws: KeyDirectoryError.self) {
                try RotatingKeys(directory: directory.keys, policy: policy, now: now)
            }
        }
        #expect(directory.mode(directory.keys) == 0o700)
        for file in try directory.keyFiles() {
            #expect(directory.mode(directory.keys + "/" + file) == 0o600)
        }
        do {
            let restarted = try RotatingKeys(directory: directory.keys, policy: policy, now: now + 1)
            #expect(restarted.publishedKeyIDs(at: now + 1) == published)
            #expect(restarted.signingKeyID(at: now + 1) == published[0])
            #expect(restarted.signingKeyID(at: now + Self.lead) == published[1])
        }
        // Down past the old key's removal: it is gone at the start.
        let late = try RotatingKeys(directory: directory.keys, policy: policy, now: now + Self.lead + Self.lifetime)
        #expect(late.publishedKeyIDs(at: now + Self.lead + Self.lifetime) == [published[1]])
        #expect(try directory.keyFiles() == [published[1] + ".json"])
    }

    @Test("refused: a directory or key file open to others, a file that is not a key, a bad policy")
    func refusals() throws {
        let directory = try TemporaryDirectory()
        let policy = RotatingKeys.Policy()
        do {
            _ = try RotatingKeys(directory: directory.keys, policy: policy, now: 1_800_000_000)
        }
        let file = directory.keys + "/" + (try #require(try directory.keyFiles().first))
        chmod(file, 0o644)
        #expect(throws: KeyDirectoryError.self) {
            try RotatingKeys(directory: directory.keys, policy: policy, now: 1_800_000_000)
        }
        chmod(file, 0o600)
        chmod(directory.keys, 0o755)
        #expect(throws: KeyDirectoryError.self) {
            try RotatingKeys(directory: directory.keys, policy: policy, now: 1_800_000_000)
        }
        chmod(directory.keys, 0o700)
        // A key file whose kid is not its key's thumbprint.
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let kid = String(file.split(separator: "/").last!.dropLast(".json".count))
        let forged = directory.keys + "/forged.json"
        _ = FileManager.default.createFile(
            atPath: forged,
            contents: Data(text.replacingOccurrences(of: kid, with: "forged").utf8),
            attributes: [.posixPermissions: 0o600]
        )
        #expect(throws: KeyDirectoryError.self) {
            try RotatingKeys(directory: directory.keys, policy: policy, now: 1_800_000_000)
        }
        try FileManager.default.removeItem(atPath: forged)
        #expect(throws: Never.self) {
            try RotatingKeys(directory: directory.keys, policy: policy, now: 1_800_000_000)
        }

        var unsupported = policy
        unsupported.algorithm = "HS256"
        #expect(throws: KeyDirectoryError.self) {
            try RotatingKeys(directory: directory.path + "/other", policy: unsupported, now: 0)
        }
        var tooOften = policy
        tooOften.rotateEvery = policy.publishLead
        #expect(throws: KeyDirectoryError.self) {
            try RotatingKeys(directory: directory.path + "/other", policy: tooOften, now: 0)
        }
    }

    @Test("the service refuses keys that would leave verifiers without the signing key or old tokens unverifiable")
    func servicePolicy() throws {
        let directory = try TemporaryDirectory()
        let memcached = try Memcached()
        var policy = RotatingKeys.Policy()
        policy.publishLead = 60
        policy.retention = 900
        let keys = try RotatingKeys(directory: directory.keys, policy: policy, now: 0)
        var configuration = AuthConfiguration()
        configuration.jwksMaxAge = 300  // longer than the lead
        #expect(throws: ConfigurationError.self) {
            try AuthService(
                users: try TestUsers.directory(),
                rotatingKeys: keys,
                store: try memcached.store(),
                configuration: configuration
            )
        }
        configuration.jwksMaxAge = 60
        configuration.accessTokenLifetime = 901  // longer than the retention
        #expect(throws: ConfigurationError.self) {
            try AuthService(
                users: try TestUsers.directory(),
                rotatingKeys: keys,
                store: try memcached.store(),
                configuration: configuration
            )
        }
    }

    @Test("logout verifies tokens of every published key: one signed before the rotation still logs out after it")
    func logoutAcrossRotation() async throws {
        let server = try RotatingTestService()
        let token = try await server.login()
        _ = try server.keys.rotate(now: server.clock.now)
        server.clock.advance(by: Self.lead + 10)
        let response = try await server.client.logout(token, fingerprint: "f")
        #expect(response.status == .ok)
        #expect(try response.object()["sessions_ended"] as? Int == 1)
    }
}
