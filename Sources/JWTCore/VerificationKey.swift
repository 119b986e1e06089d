import Crypto
import CryptoExtras

/// One public key or HMAC secret, immutable once built at configuration time.
///
/// A key verifies only the algorithms of its own type, and only the one its JWK `alg` names when it names one:
/// an RSA or EC public key is never used as an HMAC secret, which rules out algorithm confusion.
final class VerificationKey: Sendable {
    /// The key itself, by type.
    enum Material: Sendable {
        case hmac(HMACKey)
        case rsa(_RSA.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case p521(P521.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
    }

    /// HMAC secrets shorter than this are refused at load time, whatever the algorithm.
    static let minimumHMACKeyByteCount = 32

    let material: Material
    /// The key's `kid` (decoded), if it has one.
    let keyID: [UInt8]?
    /// The only algorithm the key may verify, from its JWK `alg`.
    let pinnedAlgorithm: SignatureAlgorithm?
    /// An `oct` JWK marked neither for signatures nor for encryption (no `use`, no `alg`): it verifies signed
    /// tokens and decrypts encrypted ones, but takes no part in a nested token.
    let isUnmarked: Bool

    init(material: Material, keyID: [UInt8]?, pinnedAlgorithm: SignatureAlgorithm?, isUnmarked: Bool = false) {
        self.material = material
        self.keyID = keyID
        self.pinnedAlgorithm = pinnedAlgorithm
        self.isUnmarked = isUnmarked
    }

    /// Whether the key's type admits `algorithm`, ignoring any pin and the HMAC key length.
    func matchesType(of algorithm: SignatureAlgorithm) -> Bool {
        switch (self.material, algorithm) {
        case (.hmac, .hs256), (.hmac, .hs384), (.hmac, .hs512),
            (.rsa, .rs256), (.rsa, .rs384), (.rsa, .rs512), (.rsa, .ps256), (.rsa, .ps384), (.rsa, .ps512),
            (.p256, .es256), (.p384, .es384), (.p521, .es512), (.ed25519, .eddsa):
            return true
        default:
            return false
        }
    }

    /// Whether the key may verify `algorithm`: its type matches, its pin allows it, and an HMAC secret is at
    /// least as long as the hash output (RFC 7518 §3.2).
    func canVerify(_ algorithm: SignatureAlgorithm) -> Bool {
        guard self.matchesType(of: algorithm), self.pinnedAlgorithm == nil || self.pinnedAlgorithm == algorithm else {
            return false
        }
        if case .hmac(let key) = self.material {
            return key.byteCount >= algorithm.digestByteCount
        }
        return true
    }

    /// Whether the token's name for a key, its `kid`, is this key's `kid`.
    func hasKeyID(_ name: JSONName) -> Bool {
        guard let keyID = self.keyID else {
            return false
        }
        return keyID.withUnsafeBytes { name.equals($0) }
    }

    /// Verifies `signature` over `signingInput` with `algorithm`, in place, and in constant time where it matters
    /// (HMAC). The caller checks `canVerify(algorithm)` first; a mismatch simply fails.
    func isValidSignature(
        _ signature: UnsafeRawBufferPointer,
        for signingInput: UnsafeRawBufferPointer,
        algorithm: SignatureAlgorithm
    ) -> Bool {
        switch (self.material, algorithm) {
        case (.hmac(let key), _):
            return key.isValidAuthenticationCode(signature, for: signingInput, algorithm: algorithm)
        case (.rsa(let key), .rs256):
            return key.isValidSignature(signature, for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5)
        case (.rsa(let key), .rs384):
            return key.isValidSignature(signature, for: SHA384.hash(data: signingInput), padding: .insecurePKCS1v1_5)
        case (.rsa(let key), .rs512):
            return key.isValidSignature(signature, for: SHA512.hash(data: signingInput), padding: .insecurePKCS1v1_5)
        // swift-crypto's PSS uses MGF1 with the same hash and a salt as long as the digest, as RFC 7518 §3.5 requires.
        case (.rsa(let key), .ps256):
            return key.isValidSignature(signature, for: SHA256.hash(data: signingInput), padding: .PSS)
        case (.rsa(let key), .ps384):
            return key.isValidSignature(signature, for: SHA384.hash(data: signingInput), padding: .PSS)
        case (.rsa(let key), .ps512):
            return key.isValidSignature(signature, for: SHA512.hash(data: signingInput), padding: .PSS)
        // JWS ECDSA signatures are R || S of fixed length (RFC 7518 §3.4), never DER.
        case (.p256(let key), .es256):
            guard let ecdsaSignature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else {
                return false
            }
            return key.isValidSignature(ecdsaSignature, for: signingInput)
        case (.p384(let key), .es384):
            guard let ecdsaSignature = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else {
                return false
            }
            return key.isValidSignature(ecdsaSignature, for: signingInput)
        case (.p521(let key), .es512):
            guard let ecdsaSignature = try? P521.Signing.ECDSASignature(rawRepresentation: signature) else {
                return false
            }
            return key.isValidSignature(ecdsaSignature, for: signingInput)
        case (.ed25519(let key), .eddsa):
            return key.isValidSignature(signature, for: signingInput)
        default:
            return false
        }
    }
}

extension _RSA.Signing.PublicKey {
    fileprivate func isValidSignature<D: Digest>(
        _ signature: UnsafeRawBufferPointer,
        for digest: D,
        padding: _RSA.Signing.Padding
    ) -> Bool {
        self.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: padding)
    }
}
