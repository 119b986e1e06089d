import Crypto
import CryptoExtras
import Foundation

/// A key that signs JWS: an HMAC secret or a private key.
public enum SigningKey: Sendable {
    case hmac(Data)
    case rsa(_RSA.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case p521(P521.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    /// The shortest HMAC secret the module accepts (RFC 7518 §3.2).
    public static let minimumSecretLength = 32

    /// The algorithm a key signs with unless told otherwise.
    public var defaultAlgorithm: String {
        switch self {
        case .hmac: "HS256"
        case .rsa: "RS256"
        case .p256: "ES256"
        case .p384: "ES384"
        case .p521: "ES512"
        case .ed25519: "EdDSA"
        }
    }

    /// The algorithms this key may sign with: its family, and for EC keys their one curve.
    public var algorithms: [String] {
        switch self {
        case .hmac: ["HS256", "HS384", "HS512"]
        case .rsa: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
        case .p256: ["ES256"]
        case .p384: ["ES384"]
        case .p521: ["ES512"]
        case .ed25519: ["EdDSA"]
        }
    }

    /// Signs the JWS signing input with `alg`, which must be one of `algorithms`.
    public func sign(_ input: Data, algorithm alg: String) throws -> Data {
        switch (self, alg) {
        case (.hmac(let secret), "HS256"):
            return Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: secret)))
        case (.hmac(let secret), "HS384"):
            return Data(HMAC<SHA384>.authenticationCode(for: input, using: SymmetricKey(data: secret)))
        case (.hmac(let secret), "HS512"):
            return Data(HMAC<SHA512>.authenticationCode(for: input, using: SymmetricKey(data: secret)))
        case (.rsa(let key), "RS256"):
            return try key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        case (.rsa(let key), "RS384"):
            return try key.signature(for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        case (.rsa(let key), "RS512"):
            return try key.signature(for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        case (.rsa(let key), "PS256"):
            return try key.signature(for: SHA256.hash(data: input), padding: .PSS).rawRepresentation
        case (.rsa(let key), "PS384"):
            return try key.signature(for: SHA384.hash(data: input), padding: .PSS).rawRepresentation
        case (.rsa(let key), "PS512"):
            return try key.signature(for: SHA512.hash(data: input), padding: .PSS).rawRepresentation
        // JOSE ECDSA signatures are R || S of fixed width (RFC 7518 §3.4): rawRepresentation.
        case (.p256(let key), "ES256"):
            return try key.signature(for: input).rawRepresentation
        case (.p384(let key), "ES384"):
            return try key.signature(for: input).rawRepresentation
        case (.p521(let key), "ES512"):
            return try key.signature(for: input).rawRepresentation
        case (.ed25519(let key), "EdDSA"):
            return try key.signature(for: input)
        default:
            throw SigningKeyError.unusableAlgorithm(alg, for: self)
        }
    }

    /// The public JWK members of the key (the secret itself for HMAC).
    public var publicJWK: [String: String] {
        switch self {
        case .hmac(let secret):
            return ["kty": "oct", "k": secret.base64URLEncoded]
        case .rsa(let key):
            return rsaJWK(key.publicKey)
        case .p256(let key):
            return ecJWK(crv: "P-256", x963: key.publicKey.x963Representation)
        case .p384(let key):
            return ecJWK(crv: "P-384", x963: key.publicKey.x963Representation)
        case .p521(let key):
            return ecJWK(crv: "P-521", x963: key.publicKey.x963Representation)
        case .ed25519(let key):
            return ["kty": "OKP", "crv": "Ed25519", "x": key.publicKey.rawRepresentation.base64URLEncoded]
        }
    }
}

func rsaJWK(_ key: _RSA.Signing.PublicKey) -> [String: String] {
    // getKeyPrimitives() only fails for keys it could not have been built from.
    let primitives = try! key.getKeyPrimitives()
    return ["kty": "RSA", "n": primitives.modulus.base64URLEncoded, "e": primitives.publicExponent.base64URLEncoded]
}

func ecJWK(crv: String, x963: Data) -> [String: String] {
    // x963: 0x04 || X || Y, each coordinate of the curve's width.
    let width = (x963.count - 1) / 2
    let x = x963.dropFirst().prefix(width)
    let y = x963.suffix(width)
    return ["kty": "EC", "crv": crv, "x": Data(x).base64URLEncoded, "y": Data(y).base64URLEncoded]
}

/// An HMAC key, refused below the length the module accepts.
public func hmacKey(_ secret: Data) throws(SigningKeyError) -> SigningKey {
    guard secret.count >= SigningKey.minimumSecretLength else {
        let minimum = SigningKey.minimumSecretLength
        throw SigningKeyError("HMAC secret is \(secret.count) bytes; at least \(minimum) are required (RFC 7518 §3.2)")
    }
    return .hmac(secret)
}
