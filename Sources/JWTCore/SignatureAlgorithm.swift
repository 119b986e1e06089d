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

    /// The algorithm whose name is `name` (a JSON string's contents), matched exactly.
    init?(name: JSONName) {
        guard !name.hasEscape else {
            // A spelling with escapes ("HS\u0032\u00356") is legal JSON, and rare: compare each name.
            guard let match = Self.allCases.first(where: { name.equals($0.name) }) else {
                return nil
            }
            self = match
            return
        }
        // Every supported name has five characters: a family, then a digest size (or "DSA" for EdDSA).
        let bytes = name.escaped
        guard bytes.count == 5 else {
            return nil
        }
        let size = (bytes[2], bytes[3], bytes[4])
        let algorithm: SignatureAlgorithm?
        switch (bytes[0], bytes[1]) {
        case (UInt8(ascii: "H"), UInt8(ascii: "S")): algorithm = Self.bySize(size, .hs256, .hs384, .hs512)
        case (UInt8(ascii: "R"), UInt8(ascii: "S")): algorithm = Self.bySize(size, .rs256, .rs384, .rs512)
        case (UInt8(ascii: "P"), UInt8(ascii: "S")): algorithm = Self.bySize(size, .ps256, .ps384, .ps512)
        case (UInt8(ascii: "E"), UInt8(ascii: "S")): algorithm = Self.bySize(size, .es256, .es384, .es512)
        case (UInt8(ascii: "E"), UInt8(ascii: "d")):
            algorithm = size == (UInt8(ascii: "D"), UInt8(ascii: "S"), UInt8(ascii: "A")) ? .eddsa : nil
        default: algorithm = nil
        }
        guard let algorithm else {
            return nil
        }
        self = algorithm
    }

    /// The name as a static string, for comparing without building a `String`.
    var name: StaticString {
        switch self {
        case .hs256: return "HS256"
        case .hs384: return "HS384"
        case .hs512: return "HS512"
        case .rs256: return "RS256"
        case .rs384: return "RS384"
        case .rs512: return "RS512"
        case .ps256: return "PS256"
        case .ps384: return "PS384"
        case .ps512: return "PS512"
        case .es256: return "ES256"
        case .es384: return "ES384"
        case .es512: return "ES512"
        case .eddsa: return "EdDSA"
        }
    }

    private static func bySize(
        _ size: (UInt8, UInt8, UInt8),
        _ bits256: Self,
        _ bits384: Self,
        _ bits512: Self
    ) -> Self? {
        switch size {
        case (UInt8(ascii: "2"), UInt8(ascii: "5"), UInt8(ascii: "6")): return bits256
        case (UInt8(ascii: "3"), UInt8(ascii: "8"), UInt8(ascii: "4")): return bits384
        case (UInt8(ascii: "5"), UInt8(ascii: "1"), UInt8(ascii: "2")): return bits512
        default: return nil
        }
    }
}
