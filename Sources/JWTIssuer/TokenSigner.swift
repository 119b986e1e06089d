import Foundation

/// Signs compact JWS (RFC 7515 §7.1) with one key and one algorithm: what `jwtctl sign` and an auth server share.
public struct TokenSigner: Sendable {
    public let key: SigningKey
    public let algorithm: String
    /// The `kid` header member, naming the key in the verifier's JWKS.
    public let keyID: String?

    /// A signer for `loaded` with `algorithm`, by default the JWK's `alg`, else the key type's default
    /// (oct HS256, RSA RS256, P-256 ES256, P-384 ES384, P-521 ES512, Ed25519 EdDSA). A JWK's `alg` pins the key:
    /// another algorithm is refused, as the module refuses it. `keyID` defaults to the JWK's `kid`.
    public init(_ loaded: LoadedKey, algorithm: String? = nil, keyID: String? = nil) throws(SigningKeyError) {
        let algorithm = algorithm ?? loaded.alg ?? loaded.key.defaultAlgorithm
        if let pinned = loaded.alg, pinned != algorithm {
            throw SigningKeyError("the key's JWK pins alg \(pinned); refusing \(algorithm)")
        }
        guard loaded.key.algorithms.contains(algorithm) else {
            throw .unusableAlgorithm(algorithm, for: loaded.key)
        }
        self.key = loaded.key
        self.algorithm = algorithm
        self.keyID = keyID ?? loaded.kid
    }

    /// The compact JWS of `payload`, the claims set's JSON text, signed exactly as given (claim order and number
    /// spelling stay). The header is `header`'s members with `alg`, `kid` (when the signer has one) and `typ`
    /// (`JWT` unless given) set.
    public func sign(payload: Data, header: [String: Any] = [:]) throws -> String {
        var members = header
        members["alg"] = self.algorithm
        if members["typ"] == nil {
            members["typ"] = "JWT"
        }
        if let keyID = self.keyID {
            members["kid"] = keyID
        }
        let headerText = try JSONSerialization.data(
            withJSONObject: members,
            options: [.sortedKeys, .withoutEscapingSlashes]
        )
        let input = headerText.base64URLEncoded + "." + payload.base64URLEncoded
        let signature = try self.key.sign(Data(input.utf8), algorithm: self.algorithm)
        return input + "." + signature.base64URLEncoded
    }
}
