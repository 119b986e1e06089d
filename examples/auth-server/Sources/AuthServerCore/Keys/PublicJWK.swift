import Crypto
import Foundation
import JWTIssuer

/// The JWKs this server publishes: only the public members of a key type, so that no private member (`d`, `p`,
/// `q`, `dp`, `dq`, `qi`, `oth`) or secret (`k`) can ever reach the JWKS, whatever `SigningKey.publicJWK` holds.
enum PublicJWK {
    /// The members of a public key, by `kty` (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). No `oct`: a secret is never
    /// published.
    static let publicMembers: [String: Set<String>] = [
        "EC": ["kty", "crv", "x", "y"],
        "RSA": ["kty", "n", "e"],
        "OKP": ["kty", "crv", "x"],
    ]

    /// The published JWK of `key`: its public members, `kid`, `alg` and `use`; `nil` for an HMAC key.
    static func of(_ key: SigningKey, kid: String?, algorithm: String) -> [String: String]? {
        let jwk = key.publicJWK
        guard let kty = jwk["kty"], let allowed = self.publicMembers[kty] else {
            return nil
        }
        var published = jwk.filter { allowed.contains($0.key) }
        published["kid"] = kid
        published["alg"] = algorithm
        published["use"] = "sig"
        return published
    }

    /// `{"keys":[...]}`, with sorted members so that the bytes are stable.
    static func document(_ keys: [[String: String]]) -> [UInt8] {
        encodeJSON(["keys": keys])
    }

    /// The JWK thumbprint (RFC 7638) of a public JWK, base64url: the `kid` of the keys this server generates.
    static func thumbprint(_ jwk: [String: String]) -> String {
        // The required members in lexicographic order, without whitespace. Their values are base64url or fixed
        // names, which JSON never escapes.
        let required: [String] =
            switch jwk["kty"] {
            case "EC": ["crv", "kty", "x", "y"]
            case "RSA": ["e", "kty", "n"]
            default: ["crv", "kty", "x"]
            }
        let members = required.map { "\"\($0)\":\"\(jwk[$0] ?? "")\"" }.joined(separator: ",")
        return Data(SHA256.hash(data: Data(("{" + members + "}").utf8))).base64URLEncoded
    }
}
