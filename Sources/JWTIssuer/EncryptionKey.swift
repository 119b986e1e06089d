import Crypto
import CryptoExtras
import Foundation

/// A key that encrypts JWE for a recipient: a shared secret, or the recipient's public key (given as such, or as
/// the private key it belongs to).
public enum EncryptionKey {
    case symmetric(Data)
    case rsa(_RSA.Encryption.PublicKey)
    case p256(P256.KeyAgreement.PublicKey)
    case p384(P384.KeyAgreement.PublicKey)
    case p521(P521.KeyAgreement.PublicKey)
    case x25519(Curve25519.KeyAgreement.PublicKey)

    /// The key management algorithms (JWE `alg`) this key may encrypt with.
    public var algorithms: [String] {
        switch self {
        case .symmetric(let secret):
            let wrap: [String]
            switch secret.count {
            case 16: wrap = ["A128KW", "A128GCMKW"]
            case 24: wrap = ["A192KW", "A192GCMKW"]
            case 32: wrap = ["A256KW", "A256GCMKW"]
            default: wrap = []
            }
            let direct = ContentEncryption.all.contains { $0.keyByteCount == secret.count } ? ["dir"] : []
            return direct + wrap
        case .rsa:
            return ["RSA-OAEP", "RSA-OAEP-256"]
        case .p256, .p384, .p521, .x25519:
            return ["ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"]
        }
    }

    /// The key a JWK describes: `oct` (`k`), or an RSA, EC or OKP X25519 key, public or private (its public part is
    /// taken).
    public init(jwk: [String: Any]) throws(SigningKeyError) {
        func member(_ name: String) throws(SigningKeyError) -> Data {
            guard let text = jwk[name] as? String, let bytes = Data(base64URLEncoded: text) else {
                throw SigningKeyError("JWK member \"\(name)\" is missing or not base64url")
            }
            return bytes
        }
        do {
            switch (jwk["kty"] as? String, jwk["crv"] as? String) {
            case ("oct", _):
                self = .symmetric(try member("k"))
            case ("RSA", _):
                self = .rsa(try _RSA.Encryption.PublicKey(n: try member("n"), e: try member("e")))
            case ("EC", "P-256"):
                self = .p256(try P256.KeyAgreement.PublicKey(rawRepresentation: try member("x") + member("y")))
            case ("EC", "P-384"):
                self = .p384(try P384.KeyAgreement.PublicKey(rawRepresentation: try member("x") + member("y")))
            case ("EC", "P-521"):
                self = .p521(try P521.KeyAgreement.PublicKey(rawRepresentation: try member("x") + member("y")))
            case ("OKP", "X25519"):
                self = .x25519(try Curve25519.KeyAgreement.PublicKey(rawRepresentation: try member("x")))
            case (let kty, let crv):
                throw SigningKeyError(
                    "unsupported JWK kty \(kty ?? "(none)")\(crv.map { " crv \($0)" } ?? "") for encryption"
                )
            }
        } catch let error as SigningKeyError {
            throw error
        } catch {
            throw SigningKeyError("invalid JWK for encryption (\(error))")
        }
    }

    /// The key of a PEM block: a public key (SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY`) or a private key (`PRIVATE
    /// KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`), whose public part is taken.
    public init(pem block: PEMBlock) throws(SigningKeyError) {
        let text = block.text
        var candidates: [() throws -> EncryptionKey] = []
        switch block.label {
        case "PUBLIC KEY", "RSA PUBLIC KEY":
            candidates = [
                { .rsa(try _RSA.Encryption.PublicKey(pemRepresentation: text)) },
                { .p256(try P256.KeyAgreement.PublicKey(pemRepresentation: text)) },
                { .p384(try P384.KeyAgreement.PublicKey(pemRepresentation: text)) },
                { .p521(try P521.KeyAgreement.PublicKey(pemRepresentation: text)) },
            ]
            if Self.isX25519(block) {
                candidates = [{ .x25519(try Curve25519.KeyAgreement.PublicKey(pemRepresentation: text)) }]
            }
        case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
            candidates = [
                { .rsa(try _RSA.Encryption.PrivateKey(pemRepresentation: text).publicKey) },
                { .p256(try P256.KeyAgreement.PrivateKey(pemRepresentation: text).publicKey) },
                { .p384(try P384.KeyAgreement.PrivateKey(pemRepresentation: text).publicKey) },
                { .p521(try P521.KeyAgreement.PrivateKey(pemRepresentation: text).publicKey) },
            ]
            if Self.isX25519(block) {
                candidates = [{ .x25519(try Curve25519.KeyAgreement.PrivateKey(pemRepresentation: text).publicKey) }]
            }
        default:
            throw SigningKeyError("unsupported PEM \"\(block.label)\" for encryption")
        }
        for candidate in candidates {
            if let key = try? candidate() {
                self = key
                return
            }
        }
        throw SigningKeyError("unsupported or invalid \(block.label) for encryption (RSA, P-256, P-384, P-521, X25519)")
    }

    /// Whether a PKCS#8 or SPKI block holds an X25519 key (OID 1.3.101.110), which swift-crypto's Curve25519 PEM
    /// readers do not tell from Ed25519.
    private static func isX25519(_ block: PEMBlock) -> Bool {
        let body = block.text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Data(base64Encoded: body) else {
            return false
        }
        let oid: [UInt8] = [0x06, 0x03, 0x2B, 0x65, 0x6E]
        return der.count < 64 && der.firstRange(of: oid) != nil
    }
}

/// A key for encrypting, read from a file, with the kid and alg its JWK named.
public struct LoadedEncryptionKey {
    public var key: EncryptionKey
    public var kid: String?
    public var alg: String?

    /// Reads a JWK, a JWKS (the key named `kid`, else the first key marked `"use": "enc"`, else the first key) or a
    /// PEM key.
    public init(file path: String, kid wanted: String?) throws(SigningKeyError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SigningKeyError("cannot read \(path)")
        }
        do {
            let text = String(decoding: data, as: UTF8.self)
            if let block = PEMBlock.all(in: text).first {
                self.init(key: try EncryptionKey(pem: block), kid: nil, alg: nil)
                return
            }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw SigningKeyError("neither a PEM key nor a JSON object (JWK or JWKS)")
            }
            let jwk: [String: Any]
            if let keys = object["keys"] {
                guard let jwks = keys as? [[String: Any]] else {
                    throw SigningKeyError("\"keys\" is not an array of JWK objects")
                }
                let found =
                    wanted.map { kid in jwks.first { $0["kid"] as? String == kid } }
                    ?? jwks.first { $0["use"] as? String == "enc" } ?? jwks.first
                guard let found else {
                    throw SigningKeyError(wanted.map { "no key with kid \"\($0)\"" } ?? "the JWKS is empty")
                }
                jwk = found
            } else {
                jwk = object
            }
            self.init(key: try EncryptionKey(jwk: jwk), kid: jwk["kid"] as? String, alg: jwk["alg"] as? String)
        } catch let failure as SigningKeyError {
            throw SigningKeyError("\(path): \(failure.description)")
        } catch {
            throw SigningKeyError("\(path): invalid key (\(error))")
        }
    }

    public init(key: EncryptionKey, kid: String?, alg: String?) {
        self.key = key
        self.kid = kid
        self.alg = alg
    }
}
