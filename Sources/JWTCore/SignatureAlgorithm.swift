/// The JWS `alg` values this module verifies (RFC 7518 §3.1, RFC 8037 §3.1). `none` is deliberately absent.
public enum SignatureAlgorithm: String, CaseIterable, Sendable {
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case ps384 = "PS384"
    case ps512 = "PS512"
    case es256 = "ES256"
    case es384 = "ES384"
    case es512 = "ES512"
    case eddsa = "EdDSA"

    /// The digest size in bytes of the algorithm's hash (for EdDSA, which hashes internally, 0).
    var digestByteCount: Int {
        switch self {
        case .hs256, .rs256, .ps256, .es256: return 32
        case .hs384, .rs384, .ps384, .es384: return 48
        case .hs512, .rs512, .ps512, .es512: return 64
        case .eddsa: return 0
        }
    }

    /// The algorithm whose name is the escaped JSON string contents `escapedName`, matched exactly.
    init?(escapedName: UnsafeRawBufferPointer) {
        let match = Self.allCases.first { UnescapedBytes.decode(escapedName, equals: $0.rawValue.utf8) }
        guard let match else {
            return nil
        }
        self = match
    }
}
