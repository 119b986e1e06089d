/// The JWE `alg` values this module decrypts with (RFC 7518 §4.1), that is how the content encryption key (CEK)
/// reaches the recipient.
///
/// Deliberately absent: `RSA1_5` (a padding oracle, RFC 7516 §11.5), the `PBES2-*` family (the token chooses the
/// iteration count, so a token can make the server do unbounded work), `RSA-OAEP-384` and `RSA-OAEP-512`
/// (swift-crypto 4.5.2 offers OAEP with SHA-1 and SHA-256 only), and `none`.
public enum KeyManagementAlgorithm: String, CaseIterable, Sendable {
    case direct = "dir"
    case a128KW = "A128KW"
    case a192KW = "A192KW"
    case a256KW = "A256KW"
    case a128GCMKW = "A128GCMKW"
    case a192GCMKW = "A192GCMKW"
    case a256GCMKW = "A256GCMKW"
    case rsaOAEP = "RSA-OAEP"
    case rsaOAEP256 = "RSA-OAEP-256"
    case ecdhES = "ECDH-ES"
    case ecdhESA128KW = "ECDH-ES+A128KW"
    case ecdhESA192KW = "ECDH-ES+A192KW"
    case ecdhESA256KW = "ECDH-ES+A256KW"

    /// The kind of key the algorithm needs.
    enum KeyFamily {
        case symmetric
        case rsa
        case ellipticCurve
    }

    var keyFamily: KeyFamily {
        switch self {
        case .direct, .a128KW, .a192KW, .a256KW, .a128GCMKW, .a192GCMKW, .a256GCMKW: return .symmetric
        case .rsaOAEP, .rsaOAEP256: return .rsa
        case .ecdhES, .ecdhESA128KW, .ecdhESA192KW, .ecdhESA256KW: return .ellipticCurve
        }
    }

    /// The length in bytes of the key-encryption key: the shared secret of AES key wrap and AES-GCM key wrap, the
    /// key Concat KDF derives for `ECDH-ES+A*KW`; `nil` when the length is the content encryption's (`dir`,
    /// `ECDH-ES`) or the key is not symmetric (RSA).
    var wrappingKeyByteCount: Int? {
        switch self {
        case .a128KW, .a128GCMKW, .ecdhESA128KW: return 16
        case .a192KW, .a192GCMKW, .ecdhESA192KW: return 24
        case .a256KW, .a256GCMKW, .ecdhESA256KW: return 32
        case .direct, .ecdhES, .rsaOAEP, .rsaOAEP256: return nil
        }
    }

    /// Whether the JWE Encrypted Key is empty (RFC 7516 §5.1 step 5): the CEK is the shared key itself or is
    /// agreed upon, not sent.
    var hasEmptyEncryptedKey: Bool {
        self == .direct || self == .ecdhES
    }

    /// The name as a static string, for comparing without building a `String`.
    var name: StaticString {
        switch self {
        case .direct: return "dir"
        case .a128KW: return "A128KW"
        case .a192KW: return "A192KW"
        case .a256KW: return "A256KW"
        case .a128GCMKW: return "A128GCMKW"
        case .a192GCMKW: return "A192GCMKW"
        case .a256GCMKW: return "A256GCMKW"
        case .rsaOAEP: return "RSA-OAEP"
        case .rsaOAEP256: return "RSA-OAEP-256"
        case .ecdhES: return "ECDH-ES"
        case .ecdhESA128KW: return "ECDH-ES+A128KW"
        case .ecdhESA192KW: return "ECDH-ES+A192KW"
        case .ecdhESA256KW: return "ECDH-ES+A256KW"
        }
    }

    /// The algorithm whose name is `name` (a JSON string's contents), matched exactly.
    init?(name: JSONName) {
        guard let match = Self.allCases.first(where: { name.equals($0.name) }) else {
            return nil
        }
        self = match
    }
}

/// The JWE `enc` values this module decrypts (RFC 7518 §5.1): authenticated encryption of the plaintext with the
/// CEK.
public enum ContentEncryptionAlgorithm: String, CaseIterable, Sendable {
    case a128CBCHS256 = "A128CBC-HS256"
    case a192CBCHS384 = "A192CBC-HS384"
    case a256CBCHS512 = "A256CBC-HS512"
    case a128GCM = "A128GCM"
    case a192GCM = "A192GCM"
    case a256GCM = "A256GCM"

    /// The CEK length in bytes: for AES-CBC with HMAC, the MAC key and the encryption key together (RFC 7518
    /// §5.2.2.1).
    var keyByteCount: Int {
        switch self {
        case .a128GCM: return 16
        case .a192GCM: return 24
        case .a256GCM, .a128CBCHS256: return 32
        case .a192CBCHS384: return 48
        case .a256CBCHS512: return 64
        }
    }

    /// The JWE Initialization Vector's length in bytes: 96 bits for GCM (RFC 7518 §5.3), one AES block for CBC.
    var ivByteCount: Int {
        self.isGCM ? 12 : 16
    }

    /// The JWE Authentication Tag's length in bytes: 128 bits for GCM, half the HMAC output for CBC (RFC 7518
    /// §5.2.3 to §5.2.5).
    var tagByteCount: Int {
        switch self {
        case .a128GCM, .a192GCM, .a256GCM, .a128CBCHS256: return 16
        case .a192CBCHS384: return 24
        case .a256CBCHS512: return 32
        }
    }

    var isGCM: Bool {
        switch self {
        case .a128GCM, .a192GCM, .a256GCM: return true
        case .a128CBCHS256, .a192CBCHS384, .a256CBCHS512: return false
        }
    }

    /// The name as a static string, for comparing without building a `String`.
    var name: StaticString {
        switch self {
        case .a128CBCHS256: return "A128CBC-HS256"
        case .a192CBCHS384: return "A192CBC-HS384"
        case .a256CBCHS512: return "A256CBC-HS512"
        case .a128GCM: return "A128GCM"
        case .a192GCM: return "A192GCM"
        case .a256GCM: return "A256GCM"
        }
    }

    /// The algorithm whose name is `name` (a JSON string's contents), matched exactly.
    init?(name: JSONName) {
        guard let match = Self.allCases.first(where: { name.equals($0.name) }) else {
            return nil
        }
        self = match
    }
}
