import Crypto
import Foundation
import JWTCore
import JWTIssuer
import SessionCore
import SessionStore

/// Lifetimes, key names and limits of the auth server.
public struct AuthConfiguration: Sendable {
    /// Seconds an access token is valid; a refresh gives a new one while the session lives.
    public var accessTokenLifetime: Int64 = 900
    /// Seconds a session lives at most (its record's `expires_at`), whatever the activity.
    public var sessionLifetime: Int64 = 86400
    /// What nginx's `auth_jwt_session key=` puts before `$jwt_claim_tokenId`.
    public var sessionKeyPrefix = "session:"
    /// The prefix of the per-user session index keys.
    public var indexKeyPrefix = "user-sessions:"
    /// The prefix of the markers of rotated refresh tokens, which tell a reused one from a wrong one.
    public var spentRefreshKeyPrefix = "refresh-spent:"
    /// Live sessions per user; a login beyond is refused (409).
    public var maximumSessionsPerUser = 100
    /// Seconds verifiers may cache the JWKS (its `Cache-Control: max-age`).
    public var jwksMaxAge: Int64 = 300
    /// The tokens' `iss`, and the base of `/.well-known/openid-configuration`'s `jwks_uri`; `nil`: neither.
    public var issuer: String?
    /// The revocation records written at logout for the access token presented, each expiring at that token's
    /// `exp` (for nginx's `auth_jwt_revocation`); none by default.
    public var revocationKeys: [RevocationKeyTemplate] = []

    public init() {}
}

/// What a login or a refresh hands out.
public struct IssuedTokens: Sendable, Hashable {
    /// The JWT nginx checks.
    public let accessToken: String
    /// Seconds until the access token's `exp`.
    public let expiresIn: Int64
    /// `<tokenId>.<secret>`, single use: each refresh returns the next one.
    public let refreshToken: String
    /// The session's end (`expires_at`).
    public let sessionExpiresAt: Int64
    public let username: String
    public let roles: [String]
}

/// Why the auth server cannot start with its configuration.
public struct ConfigurationError: Error, Hashable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Login, logout, log out everywhere and refresh, without HTTP: the routes call these.
///
/// Every method blocks (bcrypt, memcached): call them from a thread pool, never on an event loop.
public final class AuthService: Sendable {
    let users: UserDirectory
    let keys: any TokenKeys
    /// With `--encrypt-key`: the access tokens are nested JWTs, and are read back as nginx's
    /// `auth_jwt_type nested` reads them.
    let encryption: TokenEncryption?
    let ledger: SessionLedger
    let configuration: AuthConfiguration
    let clock: @Sendable () -> Int64

    /// A server signing with one key given at start, with no rotation.
    ///
    /// - Parameters:
    ///   - verificationKeys: the keys nginx verifies with (its `auth_jwt_key_file`), to check the tokens presented
    ///     at logout; a token the signer makes must verify with them, or the server refuses to start.
    ///   - encryption: the key the tokens are encrypted to, making them nested JWTs; `nil`: signed JWTs.
    ///   - clock: seconds since the Epoch.
    public convenience init(
        users: UserDirectory,
        signer: TokenSigner,
        verificationKeys: KeySet,
        store: SessionStore,
        configuration: AuthConfiguration = AuthConfiguration(),
        encryption: TokenEncryption? = nil,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws(ConfigurationError) {
        let keys = StaticKeys(signer: signer, verificationKeys: verificationKeys)
        try Self.checkKeysMatch(keys)
        try self.init(
            users: users,
            keys: keys,
            store: store,
            configuration: configuration,
            encryption: encryption,
            clock: clock
        )
    }

    /// A server signing with the keys of a key directory, which it publishes and rotates.
    ///
    /// - Parameters:
    ///   - encryption: the key the tokens are encrypted to, making them nested JWTs; `nil`: signed JWTs.
    ///   - clock: seconds since the Epoch, the keys' clock too.
    public convenience init(
        users: UserDirectory,
        rotatingKeys: RotatingKeys,
        store: SessionStore,
        configuration: AuthConfiguration = AuthConfiguration(),
        encryption: TokenEncryption? = nil,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws(ConfigurationError) {
        guard rotatingKeys.policy.retention >= configuration.accessTokenLifetime,
            rotatingKeys.policy.publishLead >= configuration.jwksMaxAge
        else {
            throw ConfigurationError(
                "keys must be published at least the JWKS max-age before they sign, and stay published at least "
                    + "the access token lifetime after"
            )
        }
        try self.init(
            users: users,
            keys: rotatingKeys,
            store: store,
            configuration: configuration,
            encryption: encryption,
            clock: clock
        )
    }

    init(
        users: UserDirectory,
        keys: any TokenKeys,
        store: SessionStore,
        configuration: AuthConfiguration,
        encryption: TokenEncryption? = nil,
        clock: @escaping @Sendable () -> Int64
    ) throws(ConfigurationError) {
        guard configuration.accessTokenLifetime > 0, configuration.sessionLifetime > 0 else {
            throw ConfigurationError("token and session lifetimes must be positive")
        }
        guard configuration.maximumSessionsPerUser > 0 else {
            throw ConfigurationError("the most sessions per user must be positive")
        }
        guard configuration.jwksMaxAge >= 0 else {
            throw ConfigurationError("the JWKS max-age must not be negative")
        }
        self.users = users
        self.keys = keys
        self.encryption = encryption
        self.ledger = SessionLedger(
            store: store,
            sessionKeyPrefix: configuration.sessionKeyPrefix,
            indexKeyPrefix: configuration.indexKeyPrefix,
            spentRefreshKeyPrefix: configuration.spentRefreshKeyPrefix,
            maximumSessionsPerUser: configuration.maximumSessionsPerUser
        )
        self.configuration = configuration
        self.clock = clock
        if encryption != nil {
            try self.checkEncryption()
        }
    }

    /// Checks the password; creates the session bound to `fingerprint`; returns its tokens.
    public func login(username: String, password: [UInt8], fingerprint: String) throws(AuthError) -> IssuedTokens {
        guard let user = self.users.authenticate(username: username, password: password) else {
            throw .invalidCredentials
        }
        let now = self.clock()
        let tokenID = randomToken(bytes: 16)
        let secret = randomToken(bytes: 32)
        let session = StoredSession(
            fingerprint: fingerprint,
            lastAccessTime: now,
            sessionIdleTimeout: user.sessionIdleTimeout,
            expiresAt: now + self.configuration.sessionLifetime,
            user: user.username,
            refreshTokenHash: Self.digest(secret),
            createdAt: now
        )
        try self.ledger.open(session, tokenID: tokenID)
        return try self.issue(for: user, tokenID: tokenID, secret: secret, session: session, now: now)
    }

    /// Ends the session of `accessToken`, presented with `fingerprint` (empty: none), which must be the one the
    /// session is bound to, as nginx requires it, and writes its revocation records (`revocationKeys`), also when
    /// the session had ended already, so that a logout retried after a store failure completes them. `false` when
    /// the session had ended already.
    public func logout(accessToken: String, fingerprint: String) throws(AuthError) -> Bool {
        let claims = try self.verify(accessToken)
        let now = self.clock()
        let ended = try self.ledger.logout(claims.tokenID, of: claims.subject, fingerprint: fingerprint, now: now)
        try self.revoke(claims, now: now)
        return ended
    }

    /// Writes the revocation records of a token, until its `exp`.
    private func revoke(_ claims: AccessClaims, now: Int64) throws(AuthError) {
        guard Revocation.isLive(until: claims.expires, now: now) else {
            return
        }
        for template in self.configuration.revocationKeys {
            let key = template.key(for: claims)
            try storeCall { () throws(SessionError) in
                try self.ledger.store.revoke(key: key, revokedAt: now, until: claims.expires)
            }
        }
    }

    /// Ends every session of the user of `accessToken`, whose own session must be live for a request with
    /// `fingerprint` (empty: none), as nginx decides it. Returns how many.
    public func logoutAll(accessToken: String, fingerprint: String) throws(AuthError) -> Int {
        let claims = try self.verify(accessToken)
        let now = self.clock()
        try self.ledger.checkLive(claims.tokenID, fingerprint: fingerprint, now: now)
        return try self.ledger.closeAll(of: claims.subject, now: now)
    }

    /// A new access token (and the next refresh token) for the live session of `refreshToken`, checked as nginx
    /// checks a request: the same device, not idle, not ended.
    public func refresh(refreshToken: String, fingerprint: String) throws(AuthError) -> IssuedTokens {
        guard let (tokenID, secret) = Self.parseRefreshToken(refreshToken) else {
            throw .invalidRefreshToken
        }
        let now = self.clock()
        let next = randomToken(bytes: 32)
        let session = try self.ledger.refresh(
            tokenID,
            presentedHash: Self.digest(secret),
            nextHash: Self.digest(next),
            fingerprint: fingerprint,
            now: now
        )
        guard let user = self.users[session.user] else {
            // Removed from the users file since the login.
            _ = try? self.ledger.end(tokenID, of: session.user, now: now)
            throw .invalidCredentials
        }
        return try self.issue(for: user, tokenID: tokenID, secret: next, session: session, now: now)
    }

    // MARK: Tokens

    private func issue(
        for user: User,
        tokenID: String,
        secret: String,
        session: StoredSession,
        now: Int64
    ) throws(AuthError) -> IssuedTokens {
        let expires = min(now + self.configuration.accessTokenLifetime, session.expiresAt)
        let claims = AccessClaims(
            subject: user.username,
            issuedAt: now,
            expires: expires,
            tokenID: tokenID,
            roles: user.roles,
            issuer: self.configuration.issuer
        )
        let token: String
        do {
            token = try self.seal(claims, now: now)
        } catch {
            throw .internalError
        }
        return IssuedTokens(
            accessToken: token,
            expiresIn: expires - now,
            refreshToken: tokenID + "." + secret,
            sessionExpiresAt: session.expiresAt,
            username: user.username,
            roles: user.roles
        )
    }

    /// The access token of `claims`: signed, then encrypted when the server has an encryption key.
    private func seal(_ claims: AccessClaims, now: Int64) throws -> String {
        let jws = try self.keys.signer(at: now).sign(payload: Data(encodeJSON(claims)))
        return try self.encryption?.nest(jws) ?? jws
    }

    /// The claims of an access token this server issued, verified as nginx verifies it (`auth_jwt_type nested`
    /// when the server encrypts its tokens).
    func verify(_ token: String) throws(AuthError) -> AccessClaims {
        let now = self.clock()
        return try self.verifier(at: now).claims(of: token, now: now)
    }

    private func verifier(at now: Int64) -> TokenVerifier {
        let verifier = self.keys.verifier(at: now)
        guard let encryption = self.encryption else {
            return verifier
        }
        return verifier.nested(decryptingWith: encryption.decryptionKeys)
    }

    /// Refuses to start when the server could not read its own nested tokens back, as nginx reads them with the
    /// same keys: a key missing for a role, an `oct` key marked for neither, or a probe token that does not open.
    private func checkEncryption() throws(ConfigurationError) {
        let now = self.clock()
        let verifier = self.verifier(at: now)
        if let problem = verifier.keys.problem(serving: .nested) {
            throw ConfigurationError("nested tokens (--encrypt-key): \(problem)")
        }
        let probe = AccessClaims(subject: "-", issuedAt: now, expires: now + 60, tokenID: "-", roles: [])
        do {
            _ = try verifier.claims(of: try self.seal(probe, now: now), now: now)
        } catch {
            throw ConfigurationError(
                "a nested token sealed with --encrypt-key does not open with it and the verification keys (\(error))"
            )
        }
    }

    /// The JWKS to publish now; `nil` when the signing key is a secret.
    public func publicJWKS() -> [UInt8]? {
        self.keys.publicJWKS(at: self.clock())
    }

    private static func checkKeysMatch(_ keys: StaticKeys) throws(ConfigurationError) {
        let probe = AccessClaims(subject: "-", issuedAt: 0, expires: .max / 2, tokenID: "-", roles: [])
        do {
            let token = try keys.signingKey.sign(payload: Data(encodeJSON(probe)))
            _ = try keys.verificationKeys.payload(of: token, now: 1)
        } catch {
            throw ConfigurationError(
                "a token signed with the signing key (\(keys.signingKey.algorithm)) does not verify with the "
                    + "verification keys (\(error)): give the JWKS nginx uses, and its private key"
            )
        }
    }

    /// The hash kept in the record for a refresh token's secret.
    static func digest(_ secret: String) -> String {
        Data(SHA256.hash(data: Data(secret.utf8))).base64URLEncoded
    }

    /// `<tokenId>.<secret>`, both base64url.
    static func parseRefreshToken(_ token: String) -> (tokenID: String, secret: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2,
            parts.allSatisfy({ (1...64).contains($0.utf8.count) && $0.utf8.allSatisfy(isBase64URL) })
        else {
            return nil
        }
        return (String(parts[0]), String(parts[1]))
    }
}

/// The claims of the access tokens: `sub`, `iat`, `exp`, `tokenId` (the session key nginx looks up), `roles`, and
/// `iss` when the server has an issuer.
struct AccessClaims: Codable, Sendable, Hashable {
    var subject: String
    var issuedAt: Int64
    var expires: Int64
    var tokenID: String
    var roles: [String]
    var issuer: String? = nil

    enum CodingKeys: String, CodingKey {
        case subject = "sub"
        case issuedAt = "iat"
        case expires = "exp"
        case tokenID = "tokenId"
        case roles
        case issuer = "iss"
    }
}

private func isBase64URL(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
        return true
    default:
        return false
    }
}
