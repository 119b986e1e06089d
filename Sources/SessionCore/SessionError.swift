import JWTCore

/// Why a session or revocation check refused a request: the status the client gets and a static reason for the
/// error log. One vocabulary for every reader of the session store: the nginx module (through ajwt.h), jwtctl and
/// the auth server.
///
/// Reasons are static strings that never contain the session key, the fingerprint or the record's contents.
public struct SessionError: StaticReasonError {
    /// The product status code the refusal maps to.
    public enum Status: Sendable, Hashable {
        /// The session key cannot be a memcached key.
        case invalidToken
        /// No session record (logout), or the record's `expires_at` passed.
        case loggedOut
        /// The request's fingerprint differs from the record's.
        case fingerprintMismatch
        /// The session was idle longer than its `session_idle_timeout`.
        case sessionIdleTimeout
        /// The record exists but cannot be read as a session record.
        case invalidSession
        /// memcached could not be reached in time, or answered what it never should.
        case sessionStoreUnavailable
        /// A revocation record names the token.
        case tokenRevoked
    }

    public let status: Status
    public let reason: StaticString

    /// A refusal; the session store defines its own I/O reasons with this.
    package init(_ reason: StaticString, status: Status) {
        self.status = status
        self.reason = reason
    }
}

extension SessionError {
    // The request's key.
    public static let invalidKey = Self("session key is not a valid memcached key", status: .invalidToken)

    // What memcached holds.
    public static let noRecord = Self("no session record", status: .loggedOut)
    public static let recordTooLong = Self("session record longer than 64 KiB", status: .invalidSession)

    // What memcached replied to a touch.
    public static let deletedDuringCheck = Self("session record deleted during the check", status: .loggedOut)
    public static let unexpectedReply = Self("unexpected reply from memcached", status: .sessionStoreUnavailable)

    // Revocation.
    public static let revoked = Self("token revoked", status: .tokenRevoked)

    // The record's shape.
    public static let recordNotObject = Self("session record is not a JSON object", status: .invalidSession)
    public static let missingLastAccessTime = Self(
        "session record has no last_access_time",
        status: .invalidSession
    )
    public static let lastAccessTimeNotInteger = Self(
        "session record last_access_time is not an integer",
        status: .invalidSession
    )
    public static let missingIdleTimeout = Self(
        "session record has no session_idle_timeout",
        status: .invalidSession
    )
    public static let idleTimeoutNotInteger = Self(
        "session record session_idle_timeout is not an integer",
        status: .invalidSession
    )
    public static let idleTimeoutNegative = Self(
        "session record session_idle_timeout is negative (only -1 turns the check off)",
        status: .invalidSession
    )
    public static let fingerprintNotString = Self(
        "session record fingerprint is not a string",
        status: .invalidSession
    )
    public static let expiresAtNotInteger = Self(
        "session record expires_at is not an integer",
        status: .invalidSession
    )
    public static let scratchTooSmall = Self(
        "output buffer too small for the session record",
        status: .invalidSession
    )

    // The decision, in the contract's order.
    public static let expired = Self("session expired", status: .loggedOut)
    public static let fingerprintMissing = Self(
        "request has no fingerprint but the session has one",
        status: .fingerprintMismatch
    )
    public static let fingerprintMismatch = Self(
        "fingerprint does not match the session's",
        status: .fingerprintMismatch
    )
    public static let idle = Self(
        "session idle for longer than session_idle_timeout",
        status: .sessionIdleTimeout
    )

    /// The record is not strict JSON.
    static func malformedRecord(_ error: JSONError) -> Self {
        switch error {
        case .syntax: return Self("session record JSON: syntax error", status: .invalidSession)
        case .invalidNumber: return Self("session record JSON: invalid number", status: .invalidSession)
        case .invalidUTF8: return Self("session record JSON: invalid UTF-8", status: .invalidSession)
        case .invalidEscape:
            return Self("session record JSON: invalid escape or lone surrogate", status: .invalidSession)
        case .controlCharacter:
            return Self("session record JSON: control character in a string", status: .invalidSession)
        case .tooDeep: return Self("session record JSON: nested deeper than 32 levels", status: .invalidSession)
        case .duplicateMemberName:
            return Self("session record JSON: duplicate member name", status: .invalidSession)
        case .trailingData: return Self("session record JSON: data after the value", status: .invalidSession)
        case .tooLarge: return Self("session record JSON: too large", status: .invalidSession)
        }
    }
}
