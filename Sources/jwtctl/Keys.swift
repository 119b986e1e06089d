// Key files for `sign` and `jwks`: JWK / JWKS (with private members) and PEM keys.

import Crypto
import CryptoExtras
import Foundation

/// A key that signs JWS: an HMAC secret or a private key.
enum SigningKey {
    case hmac(Data)
    case rsa(_RSA.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case p521(P521.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    /// The shortest HMAC secret the module accepts (RFC 7518 §3.2).
    static let minimumSecretLength = 32

    /// The algorithm a key signs with unless told otherwise.
    var defaultAlgorithm: String {
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
    var algorithms: [String] {
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
    func sign(_ input: Data, algorithm alg: String) throws -> Data {
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
            throw Failure.usage(
                "algorithm \(alg) cannot be used with this key (use one of \(algorithms.joined(separator: ", ")))"
            )
        }
    }

    /// The public JWK members of the key (the secret itself for HMAC).
    var publicJWK: [String: String] {
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

/// A signing key read from a file, with the kid and alg its JWK named.
struct LoadedKey {
    var key: SigningKey
    var kid: String?
    var alg: String?

    /// Reads a JWK, a JWKS (the key named `kid`, else the first private one) or a PEM private key.
    init(file path: String, kid wanted: String?) throws {
        let data = try readFile(path)
        let text = String(decoding: data, as: UTF8.self)
        do {
            if let pem = PEMBlock.first(in: text, labelSuffix: "PRIVATE KEY") {
                self.init(key: try pem.privateKey(), kid: nil, alg: nil)
            } else if text.contains("-----BEGIN") {
                throw Failure.usage("no PEM private key in the file")
            } else {
                self = try LoadedKey.fromJWKS(data, kid: wanted)
            }
        } catch let failure as Failure {
            throw Failure.usage("\(path): \(failure.message)")
        } catch {
            throw Failure.usage("\(path): invalid key (\(error))")
        }
    }

    init(key: SigningKey, kid: String?, alg: String?) {
        self.key = key
        self.kid = kid
        self.alg = alg
    }

    private static func fromJWKS(_ data: Data, kid wanted: String?) throws -> LoadedKey {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure.usage("neither a PEM private key nor a JSON object (JWK or JWKS)")
        }
        // A single JWK is the key; in a JWKS, --kid selects, else the first private key.
        guard let keys = object["keys"] else {
            return LoadedKey(
                key: try privateKey(jwk: object),
                kid: object["kid"] as? String,
                alg: object["alg"] as? String
            )
        }
        guard let jwks = keys as? [[String: Any]] else {
            throw Failure.usage("\"keys\" is not an array of JWK objects")
        }
        let candidates = jwks.filter { $0["d"] != nil || $0["k"] != nil }
        let found = wanted.map { kid in candidates.first { $0["kid"] as? String == kid } } ?? candidates.first
        guard let jwk = found else {
            throw Failure.usage(
                wanted.map { "no private key with kid \"\($0)\"" } ?? "no private key (a JWK with \"d\" or \"k\")"
            )
        }
        return LoadedKey(key: try privateKey(jwk: jwk), kid: jwk["kid"] as? String, alg: jwk["alg"] as? String)
    }

    private static func privateKey(jwk: [String: Any]) throws -> SigningKey {
        func member(_ name: String) throws -> Data {
            guard let text = jwk[name] as? String, let bytes = Data(base64URLEncoded: text) else {
                throw Failure.usage("JWK member \"\(name)\" is missing or not base64url")
            }
            return bytes
        }
        switch (jwk["kty"] as? String, jwk["crv"] as? String) {
        case ("oct", _):
            return try hmacKey(try member("k"))
        case ("RSA", _):
            return .rsa(
                try _RSA.Signing.PrivateKey(
                    n: try member("n"),
                    e: try member("e"),
                    d: try member("d"),
                    p: try member("p"),
                    q: try member("q")
                )
            )
        case ("EC", "P-256"):
            return .p256(try P256.Signing.PrivateKey(rawRepresentation: try member("d")))
        case ("EC", "P-384"):
            return .p384(try P384.Signing.PrivateKey(rawRepresentation: try member("d")))
        case ("EC", "P-521"):
            return .p521(try P521.Signing.PrivateKey(rawRepresentation: try member("d")))
        case ("OKP", "Ed25519"):
            return .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: try member("d")))
        case (let kty, let crv):
            throw Failure.usage("unsupported JWK kty \(kty ?? "(none)")\(crv.map { " crv \($0)" } ?? "")")
        }
    }
}

/// An HMAC key, refused below the length the module accepts.
func hmacKey(_ secret: Data) throws -> SigningKey {
    guard secret.count >= SigningKey.minimumSecretLength else {
        let minimum = SigningKey.minimumSecretLength
        throw Failure.usage("HMAC secret is \(secret.count) bytes; at least \(minimum) are required (RFC 7518 §3.2)")
    }
    return .hmac(secret)
}

/// One PEM block ("-----BEGIN <label>-----" ... "-----END <label>-----").
struct PEMBlock {
    var label: String
    var text: String

    static func all(in text: String) -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var rest = Substring(text)
        while let begin = rest.range(of: "-----BEGIN ") {
            guard let labelEnd = rest[begin.upperBound...].range(of: "-----") else { break }
            let label = String(rest[begin.upperBound..<labelEnd.lowerBound])
            guard let end = rest[labelEnd.upperBound...].range(of: "-----END \(label)-----") else { break }
            blocks.append(PEMBlock(label: label, text: String(rest[begin.lowerBound..<end.upperBound])))
            rest = rest[end.upperBound...]
        }
        return blocks
    }

    static func first(in text: String, labelSuffix: String) -> PEMBlock? {
        all(in: text).first { $0.label.hasSuffix(labelSuffix) }
    }

    /// The private key in a "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY" or "EC PRIVATE KEY" block.
    func privateKey() throws -> SigningKey {
        let attempts: [() throws -> SigningKey]
        switch label {
        case "RSA PRIVATE KEY":
            attempts = [{ .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: text)) }]
        case "EC PRIVATE KEY":
            attempts = ecAttempts
        case "PRIVATE KEY":
            attempts =
                [{ .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: text)) }] + ecAttempts + [
                    { .ed25519(try Curve25519.Signing.PrivateKey(pemRepresentation: text)) }
                ]
        default:
            throw Failure.usage("unsupported PEM \"\(label)\" (use PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)")
        }
        for attempt in attempts {
            if let key = try? attempt() { return key }
        }
        throw Failure.usage("unsupported or invalid \(label) (RSA of 2048 bits or more, P-256, P-384, P-521, Ed25519)")
    }

    private var ecAttempts: [() throws -> SigningKey] {
        [
            { .p256(try P256.Signing.PrivateKey(pemRepresentation: text)) },
            { .p384(try P384.Signing.PrivateKey(pemRepresentation: text)) },
            { .p521(try P521.Signing.PrivateKey(pemRepresentation: text)) },
        ]
    }

    /// The public JWK of a public key block ("PUBLIC KEY" SPKI or "RSA PUBLIC KEY" PKCS#1).
    func publicJWK() throws -> [String: String] {
        if let key = try? _RSA.Signing.PublicKey(pemRepresentation: text) {
            return rsaJWK(key)
        }
        if let key = try? P256.Signing.PublicKey(pemRepresentation: text) {
            return ecJWK(crv: "P-256", x963: key.x963Representation)
        }
        if let key = try? P384.Signing.PublicKey(pemRepresentation: text) {
            return ecJWK(crv: "P-384", x963: key.x963Representation)
        }
        if let key = try? P521.Signing.PublicKey(pemRepresentation: text) {
            return ecJWK(crv: "P-521", x963: key.x963Representation)
        }
        if let key = try? Curve25519.Signing.PublicKey(pemRepresentation: text) {
            return ["kty": "OKP", "crv": "Ed25519", "x": key.rawRepresentation.base64URLEncoded]
        }
        throw Failure.usage("unsupported or invalid \(label)")
    }
}
