import Crypto
import CryptoExtras

/// One PEM block ("-----BEGIN <label>-----" ... "-----END <label>-----").
public struct PEMBlock: Sendable {
    public var label: String
    public var text: String

    public static func all(in text: String) -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var rest = Substring(text)
        while let begin = rest.range(of: "-----BEGIN ") {
            guard let labelEnd = rest[begin.upperBound...].range(of: "-----") else { break }
            let label = String(rest[begin.upperBound..<labelEnd.lowerBound])
            guard let end = rest[labelEnd.upperBound...].range(of: "-----END \(label)-----") else { break }
            blocks.append(PEMBlock(label: label, text: String(rest[begin.lowerBound..<end.upperBound])))
            rest = rest[end.upperBound...]
        }
        return blocks
    }

    public static func first(in text: String, labelSuffix: String) -> PEMBlock? {
        all(in: text).first { $0.label.hasSuffix(labelSuffix) }
    }

    /// The private key in a "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY" or "EC PRIVATE KEY" block.
    public func privateKey() throws(SigningKeyError) -> SigningKey {
        let attempts: [() throws -> SigningKey]
        switch label {
        case "RSA PRIVATE KEY":
            attempts = [{ .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: text)) }]
        case "EC PRIVATE KEY":
            attempts = ecAttempts
        case "PRIVATE KEY":
            attempts =
                [{ .rsa(try _RSA.Signing.PrivateKey(pemRepresentation: text)) }] + ecAttempts + [
                    { .ed25519(try Curve25519.Signing.PrivateKey(pemRepresentation: text)) }
                ]
        default:
            throw SigningKeyError("unsupported PEM \"\(label)\" (use PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)")
        }
        for attempt in attempts {
            if let key = try? attempt() { return key }
        }
        throw SigningKeyError(
            "unsupported or invalid \(label) (RSA of 2048 bits or more, P-256, P-384, P-521, Ed25519)"
        )
    }

    private var ecAttempts: [() throws -> SigningKey] {
        [
            { .p256(try P256.Signing.PrivateKey(pemRepresentation: text)) },
            { .p384(try P384.Signing.PrivateKey(pemRepresentation: text)) },
            { .p521(try P521.Signing.PrivateKey(pemRepresentation: text)) },
        ]
    }

    /// The public JWK of a public key block ("PUBLIC KEY" SPKI or "RSA PUBLIC KEY" PKCS#1).
    public func publicJWK() throws(SigningKeyError) -> [String: String] {
        if let key = try? _RSA.Signing.PublicKey(pemRepresentation: text) {
            return rsaJWK(key)
        }
        if let key = try? P256.Signing.PublicKey(pemRepresentation: text) {
            return ecJWK(crv: "P-256", x963: key.x963Representation)
        }
        if let key = try? P384.Signing.PublicKey(pemRepresentation: text) {
            return ecJWK(crv: "P-384", x963: key.x963Representation)
        }
        if let key = try? P521.Signing.PublicKey(pemRepresentation: text) {
            return ecJWK(crv: "P-521", x963: key.x963Representation)
        }
        if let key = try? Curve25519.Signing.PublicKey(pemRepresentation: text) {
            return ["kty": "OKP", "crv": "Ed25519", "x": key.rawRepresentation.base64URLEncoded]
        }
        throw SigningKeyError("unsupported or invalid \(label)")
    }
}
