// auth-server: the reference auth server for ngx_http_auth_jwt_module. Logs users in against a users file,
// signs their access tokens with the key of nginx's JWKS, and keeps their session records in memcached, where
// the module checks them.

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
        abstract: "Serve the HTTP API (POST /login, /logout, /logout-all, /refresh; GET /health).",
        discussion: """
            The signing key must match the JWKS nginx verifies with (auth_jwt_key_file): the server signs a probe \
            token at start and refuses to run when those keys do not verify it. Session records are written under \
            --session-prefix followed by the token's tokenId, as nginx reads them with \
            auth_jwt_session key=<prefix>$jwt_claim_tokenId.
            """
    )

    @Option(name: .long, help: "Address to listen on, host:port.")
    var listen = "127.0.0.1:8090"

    @Option(name: .long, help: "The users file (JSON; see the README).")
    var users: String

    @Option(name: .long, help: "Private signing key: JWK, JWKS (with private members) or PEM, as jwtctl sign reads.")
    var signingKey: String

    @Option(name: .long, help: "kid of the signing key in a JWKS, and the tokens' kid header.")
    var kid: String?

    @Option(name: .long, help: "Signing algorithm (default: the JWK's alg, else the key type's).")
    var alg: String?

    @Option(name: .long, help: "The JWKS nginx verifies with (its auth_jwt_key_file), to check tokens at logout.")
    var jwks: String

    @Option(name: .long, help: "A memcached server, host:port. Repeatable; list them as nginx does.")
    var memcached: [String] = []

    @Option(name: .long, help: "memcached connect and I/O timeout, in milliseconds.")
    var memcachedTimeout: UInt32 = 500

    @Option(name: .long, help: "Session key prefix: what auth_jwt_session key= puts before $jwt_claim_tokenId.")
    var sessionPrefix = "session:"

    @Option(name: .long, help: "Access token lifetime, in seconds.")
    var accessTokenLifetime: Int64 = 900

    @Option(name: .long, help: "Session lifetime (expires_at), in seconds.")
    var sessionLifetime: Int64 = 86400

    @Option(name: .long, help: "The largest request body accepted, in bytes.")
    var maxBody = 16 * 1024

    func run() async throws {
        let (host, port) = try Self.hostAndPort(self.listen)
        let service = try self.makeService()
        let logger = Logger(label: "auth-server")
        let app = Application(
            router: makeRouter(service: service, maximumBodySize: self.maxBody),
            // Idle connections are closed, so that clients that never finish cannot hold them.
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { _ in logger.info("listening on \(host):\(port)") },
            logger: logger
        )
        try await app.runService()
    }

    private func makeService() throws -> AuthService {
        do {
            let users = try UserDirectory(file: self.users)
            let signer = try TokenSigner(
                LoadedKey(file: self.signingKey, kid: self.kid),
                algorithm: self.alg,
                keyID: self.kid
            )
            let keys = KeySet()
            guard let file = FileManager.default.contents(atPath: self.jwks) else {
                throw ValidationError("cannot read \(self.jwks)")
            }
            _ = try file.withUnsafeBytes { (bytes) throws(KeyFileError) in try keys.add(contentsOf: bytes) }
            let store = try SessionStore(
                servers: self.memcached.isEmpty ? ["127.0.0.1:11211"] : self.memcached,
                timeoutMilliseconds: self.memcachedTimeout
            )
            var configuration = AuthConfiguration()
            configuration.accessTokenLifetime = self.accessTokenLifetime
            configuration.sessionLifetime = self.sessionLifetime
            configuration.sessionKeyPrefix = self.sessionPrefix
            return try AuthService(
                users: users,
                signer: signer,
                verificationKeys: keys,
                store: store,
                configuration: configuration
            )
        } catch let error as ValidationError {
            throw error
        } catch let error as CustomStringConvertible {
            // The configuration errors: UserDirectory.LoadError, SigningKeyError, KeyFileError, SessionStoreError,
            // ConfigurationError.
            throw ValidationError(error.description)
        }
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
