import Crypto
import CryptoExtras
import Foundation

/// A signing key read from a file, with the kid and alg its JWK named.
public struct LoadedKey: Sendable {
    public var key: SigningKey
    public var kid: String?
    public var alg: String?

    /// Reads a JWK, a JWKS (the key named `kid`, else the first private one) or a PEM private key.
    public init(file path: String, kid wanted: String?) throws(SigningKeyError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SigningKeyError("cannot read \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            if let pem = PEMBlock.first(in: text, labelSuffix: "PRIVATE KEY") {
                self.init(key: try pem.privateKey(), kid: nil, alg: nil)
            } else if text.contains("-----BEGIN") {
                throw SigningKeyError("no PEM private key in the file")
            } else {
                self = try LoadedKey.fromJWKS(data, kid: wanted)
            }
        } catch let failure as SigningKeyError {
            throw SigningKeyError("\(path): \(failure.description)")
        } catch {
            throw SigningKeyError("\(path): invalid key (\(error))")
        }
    }

    public init(key: SigningKey, kid: String?, alg: String?) {
        self.key = key
        self.kid = kid
        self.alg = alg
    }

    private static func fromJWKS(_ data: Data, kid wanted: String?) throws -> LoadedKey {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SigningKeyError("neither a PEM private key nor a JSON object (JWK or JWKS)")
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
            throw SigningKeyError("\"keys\" is not an array of JWK objects")
        }
        let candidates = jwks.filter { $0["d"] != nil || $0["k"] != nil }
        let found = wanted.map { kid in candidates.first { $0["kid"] as? String == kid } } ?? candidates.first
        guard let jwk = found else {
            throw SigningKeyError(
                wanted.map { "no private key with kid \"\($0)\"" } ?? "no private key (a JWK with \"d\" or \"k\")"
            )
        }
        return LoadedKey(key: try privateKey(jwk: jwk), kid: jwk["kid"] as? String, alg: jwk["alg"] as? String)
    }

    private static func privateKey(jwk: [String: Any]) throws -> SigningKey {
        func member(_ name: String) throws -> Data {
            guard let text = jwk[name] as? String, let bytes = Data(base64URLEncoded: text) else {
                throw SigningKeyError("JWK member \"\(name)\" is missing or not base64url")
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
            throw SigningKeyError("unsupported JWK kty \(kty ?? "(none)")\(crv.map { " crv \($0)" } ?? "")")
        }
    }
}
