import HTTPTypes
import Hummingbird
import JWTCore
import SessionCore
import NIOCore

/// A refusal: the HTTP status, a code in the module's vocabulary (`{"status":"<CODE>"}`, as nginx answers) and a
/// sentence for people. Never carries a password, a token or a record.
public struct AuthError: Error, Hashable, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    // Credentials and tokens.
    static let invalidCredentials = Self(.unauthorized, "INVALID_CREDENTIALS", "wrong username or password")
    static let invalidToken = Self(.unauthorized, "INVALID_TOKEN", "the token is not valid")
    static let tokenMissing = Self(.unauthorized, "TOKEN_MISSING", "no token in the X-AUTH-TOKEN header")
    static let invalidRefreshToken = Self(.unauthorized, "INVALID_REFRESH_TOKEN", "the refresh token is not valid")
    static let refreshTokenReused = Self(
        .unauthorized,
        "REFRESH_TOKEN_REUSED",
        "the refresh token was used before: the session is ended; log in again"
    )
    static let sessionsRevoked = Self(
        .unauthorized,
        "SESSIONS_REVOKED",
        "every session of the user was ended while logging in; log in again"
    )
    static let tooManySessions = Self(
        .conflict,
        "TOO_MANY_SESSIONS",
        "the user has the most sessions allowed; log out of one first"
    )

    // The request itself.
    static let malformedJSON = Self(.badRequest, "MALFORMED_JSON", "the body is not a JSON object")
    static let bodyTooLarge = Self(.contentTooLarge, "BODY_TOO_LARGE", "the body is too large")
    static let unsupportedMediaType = Self(
        .unsupportedMediaType,
        "UNSUPPORTED_MEDIA_TYPE",
        "send the body as Content-Type: application/json"
    )
    static let notFound = Self(.notFound, "NOT_FOUND", "no such endpoint")

    static func missingField(_ name: String) -> Self {
        Self(.badRequest, "MISSING_FIELD", "the body has no \"\(name)\"")
    }

    static func invalidField(_ name: String, _ problem: String) -> Self {
        Self(.badRequest, "INVALID_FIELD", "\"\(name)\" \(problem)")
    }

    // The store.
    static let storeUnavailable = Self(
        .serviceUnavailable,
        "SESSION_STORE_UNAVAILABLE",
        "the session store cannot be reached; try again"
    )
    static let storeBusy = Self(
        .serviceUnavailable,
        "SESSION_STORE_BUSY",
        "the user's sessions are changing too fast; try again"
    )
    static let internalError = Self(.internalServerError, "INTERNAL_ERROR", "internal error")

    /// The refusal for a token that did not verify, as nginx would name it.
    static func token(_ error: VerificationError) -> Self {
        switch error.status {
        case .tokenExpired: Self(.unauthorized, "TOKEN_EXPIRED", "the token has expired")
        default: .invalidToken
        }
    }

    /// The refusal for a session check or store failure, as nginx would name it.
    static func session(_ error: SessionError) -> Self {
        switch error.status {
        case .loggedOut: Self(.unauthorized, "LOGGED_OUT", "the session has ended")
        case .fingerprintMismatch:
            Self(.unauthorized, "FINGERPRINT_MISMATCH", "the session belongs to another device")
        case .sessionIdleTimeout: Self(.unauthorized, "SESSION_IDLE_TIMEOUT", "the session was idle too long")
        case .invalidSession: Self(.unauthorized, "INVALID_SESSION", "the session record cannot be read")
        case .invalidToken: .invalidToken
        case .sessionStoreUnavailable: .storeUnavailable
        case .tokenRevoked: Self(.unauthorized, "TOKEN_REVOKED", "the token is revoked")
        }
    }
}

extension AuthError: HTTPResponseError {
    public var headers: HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        // RFC 9110 §15.5.2: a 401 names the scheme it wants.
        if self.status == .unauthorized {
            headers[.wwwAuthenticate] = #"Bearer realm="auth-server""#
        }
        return headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse(ErrorBody(status: self.code, message: self.message), status: self.status, headers: self.headers)
    }
}

private struct ErrorBody: Encodable {
    var status: String
    var message: String
}
