import Crypto
import CryptoExtras

/// One private key or secret that decrypts JWE, immutable once built at configuration time.
///
/// A decryption key never verifies a signature, and a verification key never decrypts: the two live in separate
/// lists of the key set. Like a verification key, it serves only the algorithms of its own type, and only the one
/// its JWK `alg` names when it names one.
final class DecryptionKey {
    /// The key itself, by type.
    enum Material {
        /// A shared secret: the CEK itself (`dir`) or an AES key-encryption key (`A*KW`, `A*GCMKW`).
        case symmetric(SymmetricKey)
        case rsa(_RSA.Encryption.PrivateKey)
        case p256(P256.KeyAgreement.PrivateKey)
        case p384(P384.KeyAgreement.PrivateKey)
        case p521(P521.KeyAgreement.PrivateKey)
        case x25519(Curve25519.KeyAgreement.PrivateKey)
    }

    /// What a JWK `alg` restricts the key to.
    enum Pin: Equatable {
        /// One key management algorithm (`"alg": "A128KW"`).
        case keyManagement(KeyManagementAlgorithm)
        /// `dir` with one content encryption (`"alg": "A128GCM"`, as RFC 7520 §5.6's key has it).
        case contentEncryption(ContentEncryptionAlgorithm)
    }

    /// The lengths a decryption secret can have: the AES key wrap keys' and the CEKs of every `enc`.
    static let symmetricKeyByteCounts: Set<Int> = [16, 24, 32, 48, 64]

    let material: Material
    /// The key's `kid` (decoded), if it has one.
    let keyID: [UInt8]?
    let pin: Pin?
    /// An `oct` JWK marked neither for signatures nor for encryption: it takes no part in a nested token.
    let isUnmarked: Bool

    init(material: Material, keyID: [UInt8]?, pin: Pin?, isUnmarked: Bool = false) {
        self.material = material
        self.keyID = keyID
        self.pin = pin
        self.isUnmarked = isUnmarked
    }

    /// Whether the key's type admits `algorithm`, ignoring any pin and the secret's length.
    func matchesType(of algorithm: KeyManagementAlgorithm) -> Bool {
        switch (self.material, algorithm.keyFamily) {
        case (.symmetric, .symmetric), (.rsa, .rsa), (.p256, .ellipticCurve), (.p384, .ellipticCurve),
            (.p521, .ellipticCurve), (.x25519, .ellipticCurve):
            return true
        default:
            return false
        }
    }

    /// Whether the key may decrypt a token with `header`: its type fits the `alg`, its pin allows the `alg` (and
    /// `enc`), a secret has the length the algorithms need, and an agreement key is on the `epk`'s curve.
    func canDecrypt(_ header: JWEHeader) -> Bool {
        switch self.pin {
        case .keyManagement(let algorithm)?:
            guard algorithm == header.algorithm else {
                return false
            }
        case .contentEncryption(let encryption)?:
            guard header.algorithm == .direct, encryption == header.encryption else {
                return false
            }
        case nil:
            break
        }
        switch (self.material, header.ephemeralKey) {
        case (.symmetric(let key), _):
            guard header.algorithm.keyFamily == .symmetric else {
                return false
            }
            let byteCount = header.algorithm.wrappingKeyByteCount ?? header.encryption.keyByteCount
            return key.bitCount == byteCount * 8
        case (.rsa, _):
            return header.algorithm.keyFamily == .rsa
        case (.p256, .p256?), (.p384, .p384?), (.p521, .p521?), (.x25519, .x25519?):
            return header.algorithm.keyFamily == .ellipticCurve
        default:
            return false
        }
    }

    /// Whether the token's name for a key, its `kid`, is this key's `kid`.
    func hasKeyID(_ name: JSONName) -> Bool {
        guard let keyID = self.keyID else {
            return false
        }
        return keyID.withUnsafeBytes { name.equals($0) }
    }
}
