import Crypto
import CryptoExtras
import Foundation
import JWTIssuer

/// A signing key as the key directory keeps it, in `<kid>.json`: the private key and its timeline.
struct KeyFile: Codable, Sendable, Hashable {
    /// The JWK thumbprint (RFC 7638) of the public key.
    var kid: String
    var algorithm: String
    /// When the key entered the published JWKS, in seconds since the Epoch.
    var publishedAt: Int64
    /// When the key starts signing; the key before it stops then.
    var signsFrom: Int64
    /// PEM (PKCS#8, or PKCS#1 for RSA).
    var privateKey: String

    enum CodingKeys: String, CodingKey {
        case kid
        case algorithm = "alg"
        case publishedAt = "published_at"
        case signsFrom = "signs_from"
        case privateKey = "private_key"
    }
}

/// A key of the ring, ready to sign and to publish.
struct ManagedKey: Sendable {
    let file: KeyFile
    let signer: TokenSigner
    /// What the JWKS publishes of it.
    let publicJWK: [String: String]

    var kid: String { self.file.kid }
    var publishedAt: Int64 { self.file.publishedAt }
    var signsFrom: Int64 { self.file.signsFrom }

    /// The algorithms a generated key can sign with: every JWS algorithm but HMAC's, whose key cannot be public.
    static let algorithms = ["ES256", "ES384", "ES512", "EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]

    /// A key read back from its file; refused when its `kid` is not its public key's thumbprint (a file edited or
    /// mixed up), since nginx would then look the tokens' `kid` up in vain.
    init(_ file: KeyFile) throws(KeyDirectoryError) {
        guard let pem = PEMBlock.first(in: file.privateKey, labelSuffix: "PRIVATE KEY") else {
            throw KeyDirectoryError("key \(file.kid): no PEM private key")
        }
        let signer: TokenSigner
        do throws(SigningKeyError) {
            signer = try TokenSigner(
                LoadedKey(key: try pem.privateKey(), kid: file.kid, alg: file.algorithm),
                algorithm: file.algorithm
            )
        } catch {
            throw KeyDirectoryError("key \(file.kid): \(error.description)")
        }
        guard let jwk = PublicJWK.of(signer.key, kid: file.kid, algorithm: file.algorithm),
            PublicJWK.thumbprint(jwk) == file.kid
        else {
            throw KeyDirectoryError("key \(file.kid): the kid is not the thumbprint of the key's public half")
        }
        self.file = file
        self.signer = signer
        self.publicJWK = jwk
    }

    /// A new key for `algorithm`, from the system CSPRNG.
    static func generate(algorithm: String, publishedAt: Int64, signsFrom: Int64) throws(KeyDirectoryError) -> Self {
        let pem: String
        do {
            pem = try self.privateKeyPEM(algorithm: algorithm)
        } catch {
            throw KeyDirectoryError("cannot generate a \(algorithm) key: \(error)")
        }
        guard let block = PEMBlock.first(in: pem, labelSuffix: "PRIVATE KEY"),
            let key = try? block.privateKey(),
            let jwk = PublicJWK.of(key, kid: nil, algorithm: algorithm)
        else {
            throw KeyDirectoryError("cannot read back the generated \(algorithm) key")
        }
        let file = KeyFile(
            kid: PublicJWK.thumbprint(jwk),
            algorithm: algorithm,
            publishedAt: publishedAt,
            signsFrom: signsFrom,
            privateKey: pem
        )
        return try Self(file)
    }

    private static func privateKeyPEM(algorithm: String) throws -> String {
        switch algorithm {
        case "ES256": return P256.Signing.PrivateKey().pemRepresentation
        case "ES384": return P384.Signing.PrivateKey().pemRepresentation
        case "ES512": return P521.Signing.PrivateKey().pemRepresentation
        case "EdDSA": return Curve25519.Signing.PrivateKey().pemRepresentation
        case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
            return try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
        default:
            throw KeyDirectoryError("unsupported algorithm (use one of \(self.algorithms.joined(separator: ", ")))")
        }
    }
}
