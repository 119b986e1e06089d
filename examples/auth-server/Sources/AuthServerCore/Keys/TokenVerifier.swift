import JWTCore

/// Verifies access tokens with JWTCore, the module's own verifier.
struct TokenVerifier: @unchecked Sendable {  // KeySet is only read once built (its documented contract)
    private let verifier: Verifier

    init(keys: KeySet) {
        self.verifier = Verifier(keys: keys)
    }

    /// The verified payload of `token`.
    func payload(of token: String, now: Int64) throws(VerificationError) -> [UInt8] {
        let token = Array(token.utf8)
        var scratch = [UInt8](repeating: 0, count: Verifier.scratchSize(forTokenLength: token.count))
        let payload = token.withUnsafeBytes { token in
            scratch.withUnsafeMutableBytes { scratch in
                Result { () throws(VerificationError) in
                    Array(try self.verifier.verify(token, scratch: scratch, now: now, leeway: 0).payload)
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
