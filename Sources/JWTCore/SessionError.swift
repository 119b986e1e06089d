/// Why a session check refused a request: the status the client gets and a static reason for the error log.
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
        /// memcached could not be reached in time.
        case sessionStoreUnavailable
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
    // The record's shape.
    public static let recordTooLong = Self("session record is longer than 65536 bytes", status: .invalidSession)
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
