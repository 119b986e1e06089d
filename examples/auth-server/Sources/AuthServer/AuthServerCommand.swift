// auth-server: the reference auth server for ngx_http_auth_jwt_module. Logs users in against a users file,
// signs their access tokens with a key nginx verifies (one given key, or keys of its own that it publishes at
// /.well-known/jwks.json and rotates), and keeps their session records in memcached, where the module checks them.

import ArgumentParser
import AuthServerCore
import Foundation
import Hummingbird
import JWTCore
import JWTIssuer
import Logging
import NIOCore
import SessionStore

@main
struct AuthServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth-server",
        abstract: "The reference auth server for ngx_http_auth_jwt_module: login, logout, refresh.",
        subcommands: [Serve.self, HashPassword.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API (POST /login, /logout, /logout-all, /refresh; GET /health, /.well-known/...).",
        discussion: """
            Keys, one of two ways. Either --signing-key with --jwks: one key, which must match the JWKS nginx \
            verifies with (auth_jwt_key_file); the server signs a probe token at start and refuses to run when \
            those keys do not verify it. Or --keys-dir: the server generates and keeps its own keys there (files \
            mode 0600, directory 0700, locked by the running server) and publishes their public halves at \
            GET /.well-known/jwks.json (Cache-Control: max-age=--jwks-max-age), for auth_jwt_key_request. A \
            rotation (SIGHUP, or every --rotate-every seconds) publishes a new key at once, signs with it \
            --key-publish-lead seconds later, and removes the old key once the last token it signed has \
            expired (--access-token-lifetime after it stopped signing). Either way the JWKS lists the signing \
            key's public half. Session records are written under --session-prefix followed by the token's \
            tokenId, as nginx reads them with auth_jwt_session key=<prefix>$jwt_claim_tokenId. With \
            --encrypt-key, every access token is a nested JWT: signed as above, then encrypted to that key (JWE), \
            for nginx's auth_jwt_type nested; the server reads its tokens back (logout) as nginx does, so the file \
            must hold the key that decrypts: the shared secret (an oct JWK with "use": "enc"), or the private key.
            """
    )

    @Option(name: .long, help: "Address to listen on, host:port.")
    var listen = "127.0.0.1:8090"

    @Option(name: .long, help: "The users file (JSON; see the README).")
    var users: String

    @Option(name: .long, help: "Private signing key: JWK, JWKS (with private members) or PEM, as jwtctl sign reads.")
    var signingKey: String?

    @Option(name: .long, help: "kid of the signing key in a JWKS, and the tokens' kid header.")
    var kid: String?

    @Option(name: .long, help: "Signing algorithm (default: the JWK's alg, else the key type's).")
    var alg: String?

    @Option(name: .long, help: "The JWKS nginx verifies with (its auth_jwt_key_file), to check tokens at logout.")
    var jwks: String?

    @Option(name: .long, help: "Directory of the server's own keys, published and rotated (not with --signing-key).")
    var keysDir: String?

    @Option(name: .long, help: "Algorithm of the keys generated in --keys-dir.")
    var keyAlgorithm = "ES256"

    @Option(name: .long, help: "Seconds verifiers may cache the JWKS (Cache-Control: max-age).")
    var jwksMaxAge: Int64 = 300

    @Option(name: .long, help: "Seconds a new key is published before it signs (default and least: --jwks-max-age).")
    var keyPublishLead: Int64?

    @Option(name: .long, help: "Rotate the keys of --keys-dir every so many seconds (default: only on SIGHUP).")
    var rotateEvery: Int64?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Encrypt the access tokens to this key, making them nested JWTs: the key nginx decrypts with (JWK, JWKS "
                + "or PEM; a secret as an oct JWK with \"use\": \"enc\", or a private key, whose public part encrypts)."
        )
    )
    var encryptKey: String?

    @Option(
        name: .long,
        help: "JWE alg (default: the JWK's alg, else A256KW for a 256-bit secret, RSA-OAEP-256, ECDH-ES+A256KW)."
    )
    var encryptAlg: String?

    @Option(name: .long, help: "JWE enc (default: A256GCM).")
    var encryptEnc: String?

    @Option(name: .long, help: "Issuer URL: the tokens' iss, and GET /.well-known/openid-configuration's base.")
    var issuer: String?

    @Option(name: .long, help: "A memcached server, host:port. Repeatable; list them as nginx does.")
    var memcached: [String] = []

    @Option(name: .long, help: "memcached connect and I/O timeout, in milliseconds.")
    var memcachedTimeout: UInt32 = 500

    @Option(name: .long, help: "Session key prefix: what auth_jwt_session key= puts before $jwt_claim_tokenId.")
    var sessionPrefix = "session:"

    @Option(
        name: .long,
        help: """
            At logout, also revoke the access token presented: a revocation record under this key (repeatable), \
            naming the token's claim as {tokenId} or {sub}, such as 'revoked:jti:{tokenId}', until the token's exp, \
            for nginx's auth_jwt_revocation.
            """
    )
    var revokeKey: [String] = []

    @Option(name: .long, help: "Access token lifetime, in seconds.")
    var accessTokenLifetime: Int64 = 900

    @Option(name: .long, help: "Session lifetime (expires_at), in seconds.")
    var sessionLifetime: Int64 = 86400

    @Option(name: .long, help: "The largest request body accepted, in bytes.")
    var maxBody = 16 * 1024

    func validate() throws {
        switch (self.signingKey, self.jwks, self.keysDir) {
        case (.some, .some, nil):
            break
        case (nil, nil, .some):
            guard self.kid == nil, self.alg == nil else {
                throw ValidationError("--kid and --alg name a --signing-key; --keys-dir names its keys itself")
            }
        default:
            throw ValidationError("give either --signing-key and --jwks, or --keys-dir")
        }
        guard self.encryptKey != nil || (self.encryptAlg == nil && self.encryptEnc == nil) else {
            throw ValidationError("--encrypt-alg and --encrypt-enc need --encrypt-key")
        }
        guard self.jwksMaxAge >= 0 else {
            throw ValidationError("--jwks-max-age must not be negative")
        }
        if let lead = self.keyPublishLead, lead < self.jwksMaxAge {
            throw ValidationError(
                "--key-publish-lead must be at least --jwks-max-age: a cached JWKS must hold a key before it signs"
            )
        }
    }

    func run() async throws {
        let (host, port) = try Self.hostAndPort(self.listen)
        let logger = Logger(label: "auth-server")
        let (service, keys) = try self.makeService()
        let maintenance = await KeyMaintenance(keys: keys, logger: logger)
        var app = Application(
            router: makeRouter(service: service, maximumBodySize: self.maxBody),
            // Idle connections are closed, so that clients that never finish cannot hold them.
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { _ in
                logger.info("listening on \(host):\(port)")
                if let keys {
                    let now = Int64(Date().timeIntervalSince1970)
                    let published = keys.publishedKeyIDs(at: now).joined(separator: ", ")
                    logger.notice("publishing keys \(published); signing with \(keys.signingKeyID(at: now) ?? "-")")
                }
            },
            logger: logger
        )
        app.addServices(maintenance)
        try await app.runService()
    }

    private func makeService() throws -> (AuthService, RotatingKeys?) {
        do {
            let users = try UserDirectory(file: self.users)
            let store = try SessionStore(
                servers: self.memcached.isEmpty ? ["127.0.0.1:11211"] : self.memcached,
                timeoutMilliseconds: self.memcachedTimeout
            )
            var configuration = AuthConfiguration()
            configuration.accessTokenLifetime = self.accessTokenLifetime
            configuration.sessionLifetime = self.sessionLifetime
            configuration.sessionKeyPrefix = self.sessionPrefix
            configuration.jwksMaxAge = self.jwksMaxAge
            configuration.issuer = self.issuer
            configuration.revocationKeys = try self.revokeKey.map { (template) throws(ConfigurationError) in
                try RevocationKeyTemplate(template)
            }
            let encryption = try self.encryptKey.map { (path) throws(ConfigurationError) in
                try TokenEncryption(file: path, algorithm: self.encryptAlg, encryption: self.encryptEnc)
            }
            guard let keysDir = self.keysDir else {
                let service = try AuthService(
                    users: users,
                    signer: try self.signer(),
                    verificationKeys: try self.verificationKeys(),
                    store: store,
                    configuration: configuration,
                    encryption: encryption
                )
                return (service, nil)
            }
            var policy = RotatingKeys.Policy()
            policy.algorithm = self.keyAlgorithm
            policy.publishLead = self.keyPublishLead ?? self.jwksMaxAge
            policy.retention = self.accessTokenLifetime
            policy.rotateEvery = self.rotateEvery
            let keys = try RotatingKeys(
                directory: keysDir,
                policy: policy,
                now: Int64(Date().timeIntervalSince1970)
            )
            let service = try AuthService(
                users: users,
                rotatingKeys: keys,
                store: store,
                configuration: configuration,
                encryption: encryption
            )
            return (service, keys)
        } catch let error as ValidationError {
            throw error
        } catch let error as CustomStringConvertible {
            // The configuration errors: UserDirectory.LoadError, SigningKeyError, KeyFileError, KeyDirectoryError,
            // SessionStoreError, ConfigurationError.
            throw ValidationError(error.description)
        }
    }

    /// The signer of `--signing-key`.
    private func signer() throws -> TokenSigner {
        try TokenSigner(LoadedKey(file: self.signingKey ?? "", kid: self.kid), algorithm: self.alg, keyID: self.kid)
    }

    /// The keys of `--jwks`.
    private func verificationKeys() throws -> KeySet {
        let path = self.jwks ?? ""
        guard let file = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        let keys = KeySet()
        _ = try file.withUnsafeBytes { (bytes) throws(KeyFileError) in try keys.add(contentsOf: bytes) }
        // A key file of private keys loads as decryption keys, which verify nothing: refuse it here.
        if let problem = keys.problem(serving: .signed) {
            throw ValidationError("\(path): \(problem)")
        }
        return keys
    }

    /// `host:port`, or `[IPv6]:port`.
    static func hostAndPort(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("--listen wants host:port, not \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        return (host, port)
    }
}

struct HashPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Read a password from standard input (one line) and print its bcrypt hash for the users file."
    )

    @Option(name: .long, help: "bcrypt cost: 2^cost rounds (4 to 31).")
    var cost = Bcrypt.defaultCost

    func run() throws {
        guard let password = readLine(strippingNewline: true) else {
            throw ValidationError("no password on standard input")
        }
        do {
            print(try Bcrypt.hash(password, cost: self.cost))
        } catch {
            throw ValidationError(error.description)
        }
    }
}
