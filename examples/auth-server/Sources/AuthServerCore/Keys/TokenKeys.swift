import JWTCore
import JWTIssuer

/// Where the keys of the access tokens come from: the key that signs now, the keys that verify, and the public
/// JWKS this server publishes at `/.well-known/jwks.json`.
protocol TokenKeys: Sendable {
    /// Signs the tokens issued at `now`.
    func signer(at now: Int64) -> TokenSigner

    /// Verifies the tokens presented at `now` (logout), with the keys nginx verifies with.
    func verifier(at now: Int64) -> TokenVerifier

    /// The JWKS published at `now`, public members only; `nil` when there is nothing to publish (an HMAC key).
    func publicJWKS(at now: Int64) -> [UInt8]?
}

/// One signing key given at start (`--signing-key`), and the JWKS nginx verifies with (`--jwks`): no rotation.
/// The published JWKS is the signing key's public half.
struct StaticKeys: TokenKeys {
    let signingKey: TokenSigner
    let verificationKeys: TokenVerifier
    let published: [UInt8]?

    init(signer: TokenSigner, verificationKeys: KeySet) {
        self.signingKey = signer
        self.verificationKeys = TokenVerifier(keys: verificationKeys)
        self.published = PublicJWK.of(signer.key, kid: signer.keyID, algorithm: signer.algorithm).map {
            PublicJWK.document([$0])
        }
    }

    func signer(at now: Int64) -> TokenSigner { self.signingKey }

    func verifier(at now: Int64) -> TokenVerifier { self.verificationKeys }

    func publicJWKS(at now: Int64) -> [UInt8]? { self.published }
}
