/// Why a token was rejected: the status the client gets and a static reason for the error log.
///
/// Reasons are static strings that never contain token bytes or key material.
public struct VerificationError: StaticReasonError {
    /// The product status code the rejection maps to.
    public enum Status: Sendable, Hashable {
        case invalidToken
        case tokenExpired
    }

    public let status: Status
    public let reason: StaticString

    private init(_ reason: StaticString, status: Status = .invalidToken) {
        self.status = status
        self.reason = reason
    }
}

extension VerificationError {
    // Shape of the token.
    public static let emptyToken = Self("token is empty")
    public static let tokenTooLong = Self("token is longer than 65536 bytes")
    public static let malformedSegments = Self("token is not three dot-separated segments")
    public static let encryptedToken = Self("encrypted tokens (JWE) are not supported")
    public static let headerNotBase64URL = Self("header is not canonical base64url")
    public static let payloadNotBase64URL = Self("payload is not canonical base64url")
    public static let signatureNotBase64URL = Self("signature is not canonical base64url")
    public static let missingSignature = Self("token has no signature")
    public static let scratchTooSmall = Self("scratch buffer too small for the token")

    // The JOSE header.
    public static let headerNotObject = Self("header is not a JSON object")
    public static let missingAlgorithm = Self("header has no alg")
    public static let algorithmNotString = Self("header alg is not a string")
    public static let algorithmNone = Self("alg none is not accepted")
    public static let unsupportedAlgorithm = Self("unsupported alg")
    public static let keyIDNotString = Self("header kid is not a string")
    public static let criticalHeader = Self("crit header parameter is not supported")

    // Key selection and signature.
    public static let unknownKeyID = Self("no key matches kid")
    public static let keyIDAlgorithmMismatch = Self("the key named by kid cannot verify this alg")
    public static let noKeyForAlgorithm = Self("no key can verify this alg")
    public static let badSignature = Self("signature verification failed")

    // The claims set, checked only once the signature verified.
    public static let payloadNotObject = Self("payload is not a JSON object")
    public static let expirationNotNumber = Self("exp claim is not a number")
    public static let notBeforeNotNumber = Self("nbf claim is not a number")
    public static let expirationNotFinite = Self("exp claim is not a finite number")
    public static let notBeforeNotFinite = Self("nbf claim is not a finite number")
    public static let expired = Self("token expired (exp)", status: .tokenExpired)
    public static let notYetValid = Self("token not yet valid (nbf)")

    /// The header is not strict JSON.
    static func malformedHeader(_ error: JSONError) -> Self {
        switch error {
        case .syntax: return Self("header JSON: syntax error")
        case .invalidNumber: return Self("header JSON: invalid number")
        case .invalidUTF8: return Self("header JSON: invalid UTF-8")
        case .invalidEscape: return Self("header JSON: invalid escape or lone surrogate")
        case .controlCharacter: return Self("header JSON: control character in a string")
        case .tooDeep: return Self("header JSON: nested deeper than 32 levels")
        case .duplicateMemberName: return Self("header JSON: duplicate member name")
        case .trailingData: return Self("header JSON: data after the value")
        case .tooLarge: return Self("header JSON: too large")
        }
    }

    /// The payload is not strict JSON.
    static func malformedPayload(_ error: JSONError) -> Self {
        switch error {
        case .syntax: return Self("payload JSON: syntax error")
        case .invalidNumber: return Self("payload JSON: invalid number")
        case .invalidUTF8: return Self("payload JSON: invalid UTF-8")
        case .invalidEscape: return Self("payload JSON: invalid escape or lone surrogate")
        case .controlCharacter: return Self("payload JSON: control character in a string")
        case .tooDeep: return Self("payload JSON: nested deeper than 32 levels")
        case .duplicateMemberName: return Self("payload JSON: duplicate member name")
        case .trailingData: return Self("payload JSON: data after the value")
        case .tooLarge: return Self("payload JSON: too large")
        }
    }
}
