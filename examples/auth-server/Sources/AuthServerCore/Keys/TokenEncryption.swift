import Foundation
import JWTCore
import JWTIssuer

/// The key the access tokens are encrypted to (`--encrypt-key`): each token is then a nested JWT (RFC 7519 §5.2),
/// signed as ever and encrypted for nginx's `auth_jwt_type nested`.
///
/// The server reads its own tokens back (logout), so it needs the whole key: a shared secret (`dir`, `A*KW`,
/// `A*GCMKW`), or the recipient's private key, whose public part encrypts and which decrypts.
public final class TokenEncryption: @unchecked Sendable {  // immutable once built; KeySet is only read
    let encrypter: TokenEncrypter
    let decryptionKeys: KeySet

    /// Reads the key of `path` (a JWK, a JWKS or PEM, as nginx's `auth_jwt_key_file`).
    ///
    /// - Parameters:
    ///   - algorithm: the JWE `alg`; `nil`: the JWK's `alg`, else `A128KW`/`A192KW`/`A256KW` for a secret of that
    ///     size, `RSA-OAEP-256` for RSA, `ECDH-ES+A256KW` for EC and X25519.
    ///   - encryption: the JWE `enc`; `nil`: `A256GCM`.
    public init(file path: String, algorithm: String?, encryption: String?) throws(ConfigurationError) {
        let loaded: LoadedEncryptionKey
        do {
            loaded = try LoadedEncryptionKey(file: path, kid: nil)
        } catch {
            throw ConfigurationError("--encrypt-key \(error.description)")
        }
        guard let algorithm = algorithm ?? loaded.alg ?? Self.defaultAlgorithm(of: loaded.key) else {
            throw ConfigurationError(
                "--encrypt-key \(path): no default alg for a secret of this size: give --encrypt-alg"
            )
        }
        do {
            self.encrypter = try TokenEncrypter(
                loaded.key,
                algorithm: algorithm,
                encryption: encryption ?? "A256GCM",
                keyID: loaded.kid
            )
        } catch {
            throw ConfigurationError("--encrypt-key \(path): \(error.description)")
        }
        let unreadable =
            "the server could not read its own tokens back: give the private key (its public part encrypts, the "
            + "whole decrypts), or the shared secret as an oct JWK with \"use\": \"enc\""
        let keys = KeySet()
        do {
            let file = try Data(contentsOf: URL(fileURLWithPath: path))
            _ = try file.withUnsafeBytes { (bytes) throws(KeyFileError) in try keys.add(contentsOf: bytes) }
        } catch {
            throw ConfigurationError("--encrypt-key \(path): \(error), so \(unreadable)")
        }
        guard keys.problem(serving: .encrypted) == nil else {
            throw ConfigurationError("--encrypt-key \(path) holds no key that decrypts: \(unreadable)")
        }
        self.decryptionKeys = keys
    }

    /// The nested JWT of the signed token `jws`.
    func nest(_ jws: String) throws -> String {
        try self.encrypter.nest(jws)
    }

    private static func defaultAlgorithm(of key: EncryptionKey) -> String? {
        switch key {
        case .symmetric(let secret):
            return [16, 24, 32].contains(secret.count) ? "A\(secret.count * 8)KW" : nil
        case .rsa:
            return "RSA-OAEP-256"
        case .p256, .p384, .p521, .x25519:
            return "ECDH-ES+A256KW"
        }
    }
}
