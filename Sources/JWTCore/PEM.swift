import Crypto
import CryptoExtras

/// Reading PEM keys (RFC 7468). Public keys verify signatures: SPKI `PUBLIC KEY` blocks for RSA, EC P-256/384/521 and
/// Ed25519, and PKCS#1 `RSA PUBLIC KEY` blocks. Private keys decrypt: PKCS#8 `PRIVATE KEY` blocks for RSA, EC
/// P-256/384/521 and X25519, PKCS#1 `RSA PRIVATE KEY` and SEC 1 `EC PRIVATE KEY` blocks. Text outside the blocks is
/// ignored, as RFC 7468 §2 recommends.
enum PEM {
    /// Whether `file` has a PEM encapsulation boundary, and so is read as PEM.
    static func containsBlock(_ file: UnsafeRawBufferPointer) -> Bool {
        let boundary = Array("-----BEGIN ".utf8)
        return file.indices.contains { file[$0...].starts(with: boundary) }
    }

    static func keys(in file: UnsafeRawBufferPointer) throws(KeyFileError) -> KeyFileKeys {
        var keys = KeyFileKeys()
        var openBlock: (label: String, body: [UInt8])?
        let lines = file.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for rawLine in lines {
            let line = String(decoding: rawLine, as: UTF8.self).trimmingASCIIWhitespace()
            if let block = openBlock {
                if line == "-----END \(block.label)-----" {
                    let label = "PEM block \(keys.count + 1) (\"\(KeyFile.printable(block.label.utf8))\")"
                    try self.add(label: block.label, body: block.body, describedAs: label, to: &keys)
                    openBlock = nil
                } else {
                    openBlock?.body.append(contentsOf: line.utf8)
                }
            } else if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----"), line.count > 16 {
                openBlock = (String(line.dropFirst(11).dropLast(5)), [])
            }
        }
        if let block = openBlock {
            throw KeyFileError(
                "PEM block \(keys.count + 1) (\"\(KeyFile.printable(block.label.utf8))\") has no END line"
            )
        }
        // "-----BEGIN " inside a line is not a block: a file must not load as holding no key.
        guard keys.count > 0 else {
            throw KeyFileError("the key file has no PEM block (a \"-----BEGIN ...-----\" line)")
        }
        return keys
    }

    private static func add(
        label: String,
        body: [UInt8],
        describedAs name: String,
        to keys: inout KeyFileKeys
    ) throws(KeyFileError) {
        if label == "CERTIFICATE" {
            throw KeyFileError("\(name): certificates are not read; extract the public key (openssl x509 -pubkey)")
        }
        if label == "ENCRYPTED PRIVATE KEY" {
            throw KeyFileError("\(name): encrypted private keys are not read; decrypt it (openssl pkey)")
        }
        let labels = ["PUBLIC KEY", "RSA PUBLIC KEY", "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]
        guard labels.contains(label) else {
            throw KeyFileError(
                "\(name): unsupported PEM type; expected \"PUBLIC KEY\", \"RSA PUBLIC KEY\", \"PRIVATE KEY\", "
                    + "\"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\""
            )
        }
        guard let der = self.decodeBase64(body) else {
            throw KeyFileError("\(name): the body is not valid base64")
        }
        switch label {
        case "RSA PUBLIC KEY":
            keys.verification.append(
                VerificationKey(
                    material: .rsa(try self.rsaKey(der: der, describedAs: name)),
                    keyID: nil,
                    pinnedAlgorithm: nil
                )
            )
        case "PUBLIC KEY":
            keys.verification.append(
                VerificationKey(
                    material: try self.subjectPublicKeyInfo(der: der, describedAs: name),
                    keyID: nil,
                    pinnedAlgorithm: nil
                )
            )
        default:
            keys.decryption.append(
                DecryptionKey(
                    material: try PrivateKeyDER.material(der: der, label: label, describedAs: name),
                    keyID: nil,
                    pin: nil
                )
            )
        }
        keys.count += 1
    }

    /// The key of a DER SubjectPublicKeyInfo (RFC 5280 §4.1), told apart by its AlgorithmIdentifier; the
    /// swift-crypto initializers then check the whole structure.
    private static func subjectPublicKeyInfo(
        der: [UInt8],
        describedAs name: String
    ) throws(KeyFileError)
        -> VerificationKey.Material
    {
        if der.count == 44, der.starts(with: AlgorithmIdentifier.ed25519PublicKeyPrefix) {
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: der.dropFirst(12)) else {
                throw KeyFileError("\(name): invalid Ed25519 public key")
            }
            return .ed25519(key)
        }
        let algorithm = der.dropFirst(self.sequenceHeaderCount(der))
        if algorithm.starts(with: AlgorithmIdentifier.rsa) {
            return .rsa(try self.rsaKey(der: der, describedAs: name))
        }
        let material: VerificationKey.Material?
        if algorithm.starts(with: AlgorithmIdentifier.p256) {
            material = (try? P256.Signing.PublicKey(derRepresentation: der)).map { .p256($0) }
        } else if algorithm.starts(with: AlgorithmIdentifier.p384) {
            material = (try? P384.Signing.PublicKey(derRepresentation: der)).map { .p384($0) }
        } else if algorithm.starts(with: AlgorithmIdentifier.p521) {
            material = (try? P521.Signing.PublicKey(derRepresentation: der)).map { .p521($0) }
        } else if algorithm.starts(with: AlgorithmIdentifier.ed448) {
            throw KeyFileError("\(name): Ed448 keys are not supported")
        } else {
            throw KeyFileError("\(name): unsupported public key algorithm or curve")
        }
        guard let material else {
            throw KeyFileError("\(name): invalid EC public key")
        }
        return material
    }

    /// An RSA public key from SPKI or PKCS#1 DER, at least `JWK.minimumRSAModulusBitCount` bits.
    private static func rsaKey(der: [UInt8], describedAs name: String) throws(KeyFileError) -> _RSA.Signing.PublicKey {
        // The unsafe initializer admits 1024-bit keys, so that a short key gets a message saying so.
        guard let key = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: der) else {
            throw KeyFileError("\(name): invalid RSA public key")
        }
        guard key.keySizeInBits >= JWK.minimumRSAModulusBitCount else {
            throw KeyFileError(
                "\(name): the RSA modulus is \(key.keySizeInBits) bits; at least \(JWK.minimumRSAModulusBitCount) "
                    + "are required"
            )
        }
        return key
    }

    /// The length of the tag and length octets of the outer DER SEQUENCE, or 0 if there is none.
    static func sequenceHeaderCount(_ der: [UInt8]) -> Int {
        guard der.count >= 2, der[0] == 0x30 else {
            return 0
        }
        switch der[1] {
        case 0x00..<0x80: return 2
        case 0x81: return 3
        case 0x82: return 4
        default: return 0
        }
    }

    /// Decodes a PEM body: standard base64 with padding, line breaks already removed.
    private static func decodeBase64(_ body: [UInt8]) -> [UInt8]? {
        guard body.count % 4 == 0 else {
            return nil
        }
        let unpadded = body.prefix { $0 != UInt8(ascii: "=") }
        guard body.count - unpadded.count <= 2, body.dropFirst(unpadded.count).allSatisfy({ $0 == UInt8(ascii: "=") })
        else {
            return nil
        }
        // Map the standard alphabet onto base64url's, refusing base64url's own characters.
        var translated: [UInt8] = []
        translated.reserveCapacity(unpadded.count)
        for byte in unpadded {
            switch byte {
            case UInt8(ascii: "+"): translated.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): translated.append(UInt8(ascii: "_"))
            case UInt8(ascii: "-"), UInt8(ascii: "_"): return nil
            default: translated.append(byte)
            }
        }
        return Base64URL.decode(translated)
    }
}

/// DER encodings of the AlgorithmIdentifiers this module reads (RFC 3279, RFC 5480, RFC 8410).
enum AlgorithmIdentifier {
    /// rsaEncryption, NULL parameters.
    static let rsa: [UInt8] = [
        0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00,
    ]
    /// id-ecPublicKey, secp256r1.
    static let p256: [UInt8] = [
        0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D,
        0x03, 0x01, 0x07,
    ]
    /// id-ecPublicKey, secp384r1.
    static let p384: [UInt8] = [
        0x30, 0x10, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22,
    ]
    /// id-ecPublicKey, secp521r1.
    static let p521: [UInt8] = [
        0x30, 0x10, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23,
    ]
    /// id-Ed448.
    static let ed448: [UInt8] = [0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x71]
    /// The whole SPKI of an Ed25519 key up to its 32 key bytes: SEQUENCE, id-Ed25519, BIT STRING header.
    static let ed25519PublicKeyPrefix: [UInt8] = [
        0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00,
    ]
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> String {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        return String(self.drop(while: isWhitespace).reversed().drop(while: isWhitespace).reversed())
    }
}
