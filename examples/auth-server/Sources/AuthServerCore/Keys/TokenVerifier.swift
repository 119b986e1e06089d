import JWTCore

/// Verifies access tokens with JWTCore, the module's own opener: signed tokens as `auth_jwt_type signed` does,
/// nested ones as `auth_jwt_type nested` does.
struct TokenVerifier: @unchecked Sendable {  // KeySet is only read once built (its documented contract)
    let keys: KeySet
    let type: TokenType

    init(keys: KeySet, type: TokenType = .signed) {
        self.keys = keys
        self.type = type
    }

    /// A verifier of nested tokens: decrypted with `decryptionKeys`, then verified with this verifier's keys.
    func nested(decryptingWith decryptionKeys: KeySet) -> TokenVerifier {
        let keys = KeySet()
        keys.add(contentsOf: self.keys)
        keys.add(contentsOf: decryptionKeys)
        return TokenVerifier(keys: keys, type: .nested)
    }

    /// The verified payload of `token`.
    func payload(of token: String, now: Int64) throws(VerificationError) -> [UInt8] {
        let token = Array(token.utf8)
        var scratch = [UInt8](repeating: 0, count: TokenOpener.scratchSize(forTokenLength: token.count))
        let opener = TokenOpener(keys: self.keys)
        let payload = token.withUnsafeBytes { token in
            scratch.withUnsafeMutableBytes { scratch in
                Result { () throws(VerificationError) in
                    Array(try opener.open(token, type: self.type, scratch: scratch, now: now, leeway: 0).payload)
                }
            }
        }
        return try payload.get()
    }

    /// The claims of a token this server signed, refused as nginx would refuse it.
    func claims(of token: String, now: Int64) throws(AuthError) -> AccessClaims {
        let payload: [UInt8]
        do {
            payload = try self.payload(of: token, now: now)
        } catch {
            throw .token(error)
        }
        guard let claims = decodeJSON(AccessClaims.self, from: payload) else {
            throw .invalidToken  // verified, but not one of this server's tokens
        }
        return claims
    }
}
