import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

extension HTTPField.Name {
    /// The header the access token travels in (the module's `token=$http_x_auth_token`).
    public static let xAuthToken = Self("X-AUTH-TOKEN")!
    /// The device fingerprint nginx checks a session against (the module's `fingerprint=$http_finger_print`).
    public static let fingerPrint = Self("FINGER-PRINT")!
}

/// The auth server's HTTP API (the README's "Auth server" section):
///
/// - `POST /login` `{"username","password","fingerprint"}`: 200 with the access token in `X-AUTH-TOKEN` and the
///   tokens in the JSON body;
/// - `POST /logout` (token in `X-AUTH-TOKEN`, the session's fingerprint in `FINGER-PRINT`): ends that session;
/// - `POST /logout-all` (the same headers): ends every session of the user;
/// - `POST /refresh` `{"refresh_token","fingerprint"}`: a new access token for the same live session; a refresh
///   token used twice ends the session;
/// - `GET /.well-known/jwks.json`, `GET /.well-known/openid-configuration`: the public keys (`KeyRoutes`);
/// - `GET /health`: 200 once the server runs.
///
/// Every answer is JSON; refusals are `{"status":"<CODE>","message":...}` with a 4xx or 503.
public func makeRouter(
    service: AuthService,
    maximumBodySize: Int = 16 * 1024,
    threadPool: NIOThreadPool = .singleton
) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: JSONErrorMiddleware())

    router.get("health") { _, _ in
        jsonResponse(StatusBody(status: "OK"))
    }

    router.post("login") { request, _ in
        let body = try await decodeBody(LoginRequest.self, from: request, limit: maximumBodySize)
        try checkFingerprint(body.fingerprint)
        let password = Array(body.password.utf8)
        let tokens = try await threadPool.runIfActive {
            try service.login(username: body.username, password: password, fingerprint: body.fingerprint)
        }
        return tokensResponse(tokens)
    }

    router.post("logout") { request, _ in
        let token = try accessToken(of: request)
        let fingerprint = request.headers[.fingerPrint] ?? ""
        let ended = try await threadPool.runIfActive {
            try service.logout(accessToken: token, fingerprint: fingerprint)
        }
        return jsonResponse(LogoutBody(status: "OK", sessionsEnded: ended ? 1 : 0))
    }

    router.post("logout-all") { request, _ in
        let token = try accessToken(of: request)
        let fingerprint = request.headers[.fingerPrint] ?? ""
        let ended = try await threadPool.runIfActive {
            try service.logoutAll(accessToken: token, fingerprint: fingerprint)
        }
        return jsonResponse(LogoutBody(status: "OK", sessionsEnded: ended))
    }

    router.post("refresh") { request, _ in
        let body = try await decodeBody(RefreshRequest.self, from: request, limit: maximumBodySize)
        try checkFingerprint(body.fingerprint)
        let tokens = try await threadPool.runIfActive {
            try service.refresh(refreshToken: body.refreshToken, fingerprint: body.fingerprint)
        }
        return tokensResponse(tokens)
    }
    addKeyRoutes(to: router, service: service)
    return router
}

// MARK: Requests

struct LoginRequest: Decodable, Sendable {
    var username: String
    var password: String
    var fingerprint: String
}

struct RefreshRequest: Decodable, Sendable {
    var refreshToken: String
    var fingerprint: String

    enum CodingKeys: String, CodingKey {
        case refreshToken = "refresh_token"
        case fingerprint
    }
}

/// The longest fingerprint accepted: it is stored in every session record and compared by nginx.
let maximumFingerprintLength = 512

func checkFingerprint(_ fingerprint: String) throws(AuthError) {
    guard (1...maximumFingerprintLength).contains(fingerprint.utf8.count) else {
        throw .invalidField("fingerprint", "must be 1 to \(maximumFingerprintLength) bytes")
    }
}

/// The access token of a logout.
func accessToken(of request: Request) throws(AuthError) -> String {
    guard let token = request.headers[.xAuthToken], !token.isEmpty else {
        throw .tokenMissing
    }
    return token
}

/// The JSON body as `Body`, with at most `limit` bytes, sent as `application/json`.
func decodeBody<Body: Decodable>(_ type: Body.Type, from request: Request, limit: Int) async throws -> Body {
    guard let contentType = request.headers[.contentType], isJSONMediaType(contentType) else {
        throw AuthError.unsupportedMediaType
    }
    var request = request
    let buffer: ByteBuffer
    do {
        buffer = try await request.collectBody(upTo: limit)
    } catch is NIOTooManyBytesError {
        throw AuthError.bodyTooLarge
    }
    do {
        return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
    } catch let error as DecodingError {
        throw AuthError(decoding: error)
    }
}

/// `application/json`, with or without parameters (`; charset=utf-8`), in any case.
func isJSONMediaType(_ value: String) -> Bool {
    let mediaType = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
    return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
}

extension AuthError {
    /// The refusal for a body that is not the JSON object expected.
    init(decoding error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context) where context.codingPath.isEmpty:
            self = .missingField(key.stringValue)
        case .typeMismatch(_, let context) where context.codingPath.count == 1,
            .valueNotFound(_, let context) where context.codingPath.count == 1:
            self = .invalidField(context.codingPath[0].stringValue, "must be a string")
        default:
            // Not JSON, or not an object at the top level.
            self = .malformedJSON
        }
    }
}

// MARK: Responses

struct StatusBody: Encodable {
    var status: String
}

struct LogoutBody: Encodable {
    var status: String
    var sessionsEnded: Int

    enum CodingKeys: String, CodingKey {
        case status
        case sessionsEnded = "sessions_ended"
    }
}

struct TokensBody: Encodable {
    var accessToken: String
    var tokenType = "Bearer"
    var expiresIn: Int64
    var refreshToken: String
    var sessionExpiresAt: Int64
    var user: String
    var roles: [String]

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case refreshToken = "refresh_token"
        case sessionExpiresAt = "session_expires_at"
        case user
        case roles
    }
}

/// 200 with the access token in `X-AUTH-TOKEN` and both tokens in the body; never cached (RFC 6749 §5.1).
func tokensResponse(_ tokens: IssuedTokens) -> Response {
    let body = TokensBody(
        accessToken: tokens.accessToken,
        expiresIn: tokens.expiresIn,
        refreshToken: tokens.refreshToken,
        sessionExpiresAt: tokens.sessionExpiresAt,
        user: tokens.username,
        roles: tokens.roles
    )
    return jsonResponse(body, headers: [.xAuthToken: tokens.accessToken, .cacheControl: "no-store"])
}

/// Every refusal as JSON: the server's own, the router's 404, and anything unexpected as a 500 that is logged.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as AuthError {
            throw error
        } catch let error as any HTTPResponseError {
            throw error.status == .notFound
                ? AuthError.notFound
                : AuthError(error.status, "HTTP_\(error.status.code)", error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            throw AuthError.internalError
        }
    }
}
