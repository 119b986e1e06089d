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
    public static let encryptedToken = Self("an encrypted token (JWE) where a signed token (JWS) is expected")
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

    // Encrypted tokens (JWE, RFC 7516): the shape, checked before any key is used.
    public static let signedTokenNotEncrypted = Self("a signed token (JWS) where an encrypted token (JWE) is expected")
    public static let malformedEncryptedSegments = Self("token is not five dot-separated segments")
    public static let encryptedKeyNotBase64URL = Self("JWE encrypted key is not canonical base64url")
    public static let ivNotBase64URL = Self("JWE initialization vector is not canonical base64url")
    public static let ciphertextNotBase64URL = Self("JWE ciphertext is not canonical base64url")
    public static let tagNotBase64URL = Self("JWE authentication tag is not canonical base64url")
    public static let missingEncryption = Self("JWE header has no enc")
    public static let encryptionNotString = Self("JWE header enc is not a string")
    public static let unsupportedEncryption = Self("unsupported JWE enc")
    public static let unsupportedKeyManagement = Self("unsupported JWE alg")
    public static let rsaPKCS1Refused = Self("JWE alg RSA1_5 is refused (a padding oracle)")
    public static let passwordBasedRefused = Self("JWE alg PBES2 is refused (the token sets the work factor)")
    public static let rsaOAEPDigestUnsupported = Self("JWE alg RSA-OAEP-384 and RSA-OAEP-512 are not supported")
    public static let compressionRefused = Self("JWE zip (compressed plaintext) is not supported")
    public static let contentTypeNotString = Self("JWE header cty is not a string")
    public static let notNested = Self("JWE header has no cty JWT: not a nested token")
    public static let nestedNotEncrypted = Self("a nested token (cty JWT) where an encrypted token is expected")
    public static let encryptedKeyNotEmpty = Self("JWE encrypted key must be empty for dir and ECDH-ES")
    public static let missingEncryptedKey = Self("JWE encrypted key is empty")
    public static let encryptedKeyTooLong = Self("JWE encrypted key is longer than 1024 bytes")
    public static let ivLength = Self("JWE initialization vector has the wrong length for enc")
    public static let tagLength = Self("JWE authentication tag has the wrong length for enc")
    public static let ciphertextLength = Self("JWE ciphertext is not whole AES blocks")
    public static let keyWrapIV = Self("JWE header iv (AES-GCM key wrap) is missing or not 12 base64url bytes")
    public static let keyWrapTag = Self("JWE header tag (AES-GCM key wrap) is missing or not 16 base64url bytes")
    public static let missingEphemeralKey = Self("JWE header epk is missing or not an object")
    public static let invalidEphemeralKey = Self("JWE header epk is not a public key on a supported curve")
    public static let partyInfoNotBase64URL = Self("JWE header apu or apv is not a base64url string")

    // Encrypted tokens: key selection and decryption.
    public static let noKeyForEncryption = Self("no key can decrypt this alg and enc")
    public static let keyIDEncryptionMismatch = Self("the key named by kid cannot decrypt this alg and enc")
    /// Every failure once a key is chosen (unwrapping, agreement, a CEK of the wrong length, the tag, the padding)
    /// has this one reason, so that no response or log line tells which step failed.
    public static let decryptionFailed = Self("the token could not be decrypted")

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
