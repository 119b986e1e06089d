import Crypto
import CryptoExtras

/// Decryption keys from the DER of PEM private key blocks: PKCS#8 `PRIVATE KEY` (RFC 5208) for RSA, EC
/// P-256/384/521 and X25519, PKCS#1 `RSA PRIVATE KEY` (RFC 8017 §A.1.2) and SEC 1 `EC PRIVATE KEY` (RFC 5915).
///
/// A PKCS#8 key is told apart by its AlgorithmIdentifier, as public keys are; swift-crypto's initializers then read
/// and check the whole structure. Messages name the block, never its contents.
enum PrivateKeyDER {
    static func material(
        der: [UInt8],
        label: String,
        describedAs name: String
    ) throws(KeyFileError) -> DecryptionKey.Material {
        switch label {
        case "RSA PRIVATE KEY":
            return .rsa(try self.rsaKey(der: der, describedAs: name))
        case "EC PRIVATE KEY":
            guard let material = self.ellipticCurveKey(der: der) else {
                throw KeyFileError("\(name): invalid EC private key (P-256, P-384 or P-521)")
            }
            return material
        default:
            return try self.pkcs8(der: der, describedAs: name)
        }
    }

    /// The X25519 and Ed25519 AlgorithmIdentifiers (RFC 8410 §3), which swift-crypto's PKCS#8 reader does not tell
    /// apart.
    private static let x25519: [UInt8] = [0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x6E]
    private static let ed25519: [UInt8] = [0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70]

    private static func pkcs8(der: [UInt8], describedAs name: String) throws(KeyFileError) -> DecryptionKey.Material {
        // PrivateKeyInfo ::= SEQUENCE { version INTEGER (0, or 1 for RFC 5958), privateKeyAlgorithm, privateKey, ... }
        let body = der.dropFirst(PEM.sequenceHeaderCount(der))
        guard body.starts(with: [0x02, 0x01, 0x00]) || body.starts(with: [0x02, 0x01, 0x01]) else {
            throw KeyFileError("\(name): invalid PKCS#8 private key")
        }
        let algorithm = body.dropFirst(3)
        if algorithm.starts(with: AlgorithmIdentifier.rsa) {
            return .rsa(try self.rsaKey(der: der, describedAs: name))
        }
        if algorithm.starts(with: self.x25519) {
            guard let key = try? Curve25519.KeyAgreement.PrivateKey(derRepresentation: der) else {
                throw KeyFileError("\(name): invalid X25519 private key")
            }
            return .x25519(key)
        }
        if algorithm.starts(with: self.ed25519) {
            throw KeyFileError("\(name): an Ed25519 private key; give the public key for signature verification")
        }
        let material: DecryptionKey.Material?
        if algorithm.starts(with: AlgorithmIdentifier.p256) {
            material = (try? P256.KeyAgreement.PrivateKey(derRepresentation: der)).map { .p256($0) }
        } else if algorithm.starts(with: AlgorithmIdentifier.p384) {
            material = (try? P384.KeyAgreement.PrivateKey(derRepresentation: der)).map { .p384($0) }
        } else if algorithm.starts(with: AlgorithmIdentifier.p521) {
            material = (try? P521.KeyAgreement.PrivateKey(derRepresentation: der)).map { .p521($0) }
        } else {
            throw KeyFileError("\(name): unsupported private key algorithm or curve")
        }
        guard let material else {
            throw KeyFileError("\(name): invalid EC private key")
        }
        return material
    }

    /// A SEC 1 key: the private scalar's length tells the curve apart, and swift-crypto checks the rest.
    private static func ellipticCurveKey(der: [UInt8]) -> DecryptionKey.Material? {
        if let key = try? P256.KeyAgreement.PrivateKey(derRepresentation: der) {
            return .p256(key)
        }
        if let key = try? P384.KeyAgreement.PrivateKey(derRepresentation: der) {
            return .p384(key)
        }
        if let key = try? P521.KeyAgreement.PrivateKey(derRepresentation: der) {
            return .p521(key)
        }
        return nil
    }

    /// An RSA private key from PKCS#1 or PKCS#8 DER, of 2048 to 8192 bits.
    private static func rsaKey(
        der: [UInt8],
        describedAs name: String
    ) throws(KeyFileError) -> _RSA.Encryption.PrivateKey {
        // The unsafe initializer admits 1024-bit keys, so that a short key gets a message saying so.
        guard let key = try? _RSA.Encryption.PrivateKey(unsafeDERRepresentation: der) else {
            throw KeyFileError("\(name): invalid RSA private key")
        }
        guard key.keySizeInBits >= JWK.minimumRSAModulusBitCount else {
            throw KeyFileError(
                "\(name): the RSA modulus is \(key.keySizeInBits) bits; at least \(JWK.minimumRSAModulusBitCount) "
                    + "are required"
            )
        }
        guard key.keySizeInBits <= JWK.maximumRSADecryptionModulusBitCount else {
            throw KeyFileError(
                "\(name): the RSA modulus is \(key.keySizeInBits) bits; a decryption key has at most "
                    + "\(JWK.maximumRSADecryptionModulusBitCount)"
            )
        }
        return key
    }
}
