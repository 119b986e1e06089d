import Crypto
import CryptoExtras

/// Reading JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2) and JWK Sets.
enum JWK {
    /// The smallest RSA modulus accepted, in bits.
    static let minimumRSAModulusBitCount = 2048

    /// The keys in a key file holding a JWKS or a single JWK.
    static func keys(inJSON file: UnsafeRawBufferPointer) throws(KeyFileError) -> [VerificationKey] {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: file)
        } catch {
            throw KeyFileError("the key file is not valid JSON: \(error.explanation)")
        }
        var keys: [VerificationKey] = []
        switch document["keys"] {
        case .array(let entries):
            for (index, entry) in entries.enumerated() {
                if let key = try self.key(from: entry, label: "keys[\(index)]") {
                    keys.append(key)
                }
            }
        case .some:
            throw KeyFileError("the JWKS member \"keys\" is not an array")
        case nil:
            if let key = try self.key(from: document, label: "the JWK") {
                keys.append(key)
            }
        }
        guard !keys.isEmpty else {
            throw KeyFileError("the key file holds no key for signature verification (\"use\": \"sig\")")
        }
        return keys
    }

    /// The key a JWK describes, or `nil` if it is meant for something other than signatures (`use`).
    private static func key(from jwk: JSONValue, label: String) throws(KeyFileError) -> VerificationKey? {
        guard case .object = jwk else {
            throw KeyFileError("\(label) is not a JSON object")
        }
        var reader = MemberReader(jwk: jwk, label: label)
        let keyID = try reader.optionalString("kid")
        if let keyID {
            reader.label = "\(label) (kid \"\(KeyFile.printable(keyID.utf8))\")"
        }
        if let use = try reader.optionalString("use"), use != "sig" {
            return nil
        }
        if let operations = jwk["key_ops"] {
            guard case .array(let operations) = operations, operations.contains(.string("verify")) else {
                throw reader.error("\"key_ops\" does not include \"verify\"")
            }
        }
        let pinnedAlgorithm = try reader.optionalString("alg").map { (name) throws(KeyFileError) in
            guard let algorithm = SignatureAlgorithm(rawValue: name) else {
                throw reader.error("unsupported alg \"\(KeyFile.printable(name.utf8))\"")
            }
            return algorithm
        }
        let key = VerificationKey(
            material: try self.material(of: reader),
            keyID: keyID.map { Array($0.utf8) },
            pinnedAlgorithm: pinnedAlgorithm
        )
        if let pinnedAlgorithm {
            guard key.matchesType(of: pinnedAlgorithm) else {
                throw reader.error("alg \(pinnedAlgorithm.rawValue) does not fit the key type")
            }
            guard key.canVerify(pinnedAlgorithm) else {
                throw reader.error("the secret is shorter than \(pinnedAlgorithm.rawValue) requires")
            }
        }
        return key
    }

    private static func material(of reader: MemberReader) throws(KeyFileError) -> VerificationKey.Material {
        let keyType = try reader.requiredString("kty")
        if keyType != "oct", reader.has("d") {
            throw reader.error("private key material in a verification key file (\"d\"); give the public key only")
        }
        switch keyType {
        case "oct":
            let secret = try reader.requiredBytes("k")
            guard secret.count >= VerificationKey.minimumHMACKeyByteCount else {
                throw reader.error(
                    "the HMAC secret is \(secret.count) bytes; at least \(VerificationKey.minimumHMACKeyByteCount) "
                        + "are required"
                )
            }
            return .hmac(HMACKey(secret: secret))
        case "RSA":
            return .rsa(try self.rsaKey(of: reader))
        case "EC":
            return try self.ellipticCurveKey(of: reader)
        case "OKP":
            let curve = try reader.requiredString("crv")
            guard curve == "Ed25519" else {
                throw reader.error("unsupported OKP curve \"\(KeyFile.printable(curve.utf8))\" (only Ed25519 is)")
            }
            let x = try reader.requiredBytes("x")
            guard x.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else {
                throw reader.error("the Ed25519 public key \"x\" is not 32 bytes")
            }
            return .ed25519(key)
        default:
            throw reader.error("unsupported kty \"\(KeyFile.printable(keyType.utf8))\"")
        }
    }

    private static func rsaKey(of reader: MemberReader) throws(KeyFileError) -> _RSA.Signing.PublicKey {
        let modulus = try reader.requiredBytes("n")
        let exponent = try reader.requiredBytes("e")
        let modulusBitCount = self.bitCount(of: modulus)
        guard modulusBitCount >= self.minimumRSAModulusBitCount else {
            throw reader.error(
                "the RSA modulus is \(modulusBitCount) bits; at least \(self.minimumRSAModulusBitCount) are required"
            )
        }
        do {
            return try _RSA.Signing.PublicKey(n: modulus, e: exponent)
        } catch {
            throw reader.error("the RSA public key (\"n\", \"e\") is invalid")
        }
    }

    private static func ellipticCurveKey(of reader: MemberReader) throws(KeyFileError) -> VerificationKey.Material {
        let curve = try reader.requiredString("crv")
        let coordinateByteCount: Int
        switch curve {
        case "P-256": coordinateByteCount = 32
        case "P-384": coordinateByteCount = 48
        case "P-521": coordinateByteCount = 66
        default: throw reader.error("unsupported EC curve \"\(KeyFile.printable(curve.utf8))\"")
        }
        let x = try reader.requiredBytes("x")
        let y = try reader.requiredBytes("y")
        guard x.count == coordinateByteCount, y.count == coordinateByteCount else {
            throw reader.error("\"x\" and \"y\" must be \(coordinateByteCount) bytes each for \(curve)")
        }
        let point = x + y
        let material: VerificationKey.Material?
        switch coordinateByteCount {
        case 32: material = (try? P256.Signing.PublicKey(rawRepresentation: point)).map { .p256($0) }
        case 48: material = (try? P384.Signing.PublicKey(rawRepresentation: point)).map { .p384($0) }
        default: material = (try? P521.Signing.PublicKey(rawRepresentation: point)).map { .p521($0) }
        }
        guard let material else {
            throw reader.error("the point (\"x\", \"y\") is not on \(curve)")
        }
        return material
    }

    /// The bit length of a big-endian unsigned integer.
    static func bitCount(of bigEndian: [UInt8]) -> Int {
        guard let first = bigEndian.firstIndex(where: { $0 != 0 }) else {
            return 0
        }
        return (bigEndian.count - first) * 8 - bigEndian[first].leadingZeroBitCount
    }
}

/// Reads a JWK's members, reporting errors under the key's label.
private struct MemberReader {
    let jwk: JSONValue
    var label: String

    func error(_ message: String) -> KeyFileError {
        KeyFileError("\(self.label): \(message)")
    }

    func has(_ name: String) -> Bool {
        self.jwk[name] != nil
    }

    func optionalString(_ name: String) throws(KeyFileError) -> String? {
        switch self.jwk[name] {
        case nil: return nil
        case .string(let value): return value
        case .some: throw self.error("\"\(name)\" is not a string")
        }
    }

    func requiredString(_ name: String) throws(KeyFileError) -> String {
        guard let value = try self.optionalString(name) else {
            throw self.error("\"\(name)\" is missing")
        }
        return value
    }

    func requiredBytes(_ name: String) throws(KeyFileError) -> [UInt8] {
        guard let bytes = Base64URL.decode(try self.requiredString(name).utf8) else {
            throw self.error("\"\(name)\" is not unpadded base64url")
        }
        return bytes
    }
}

extension JSONError {
    /// What is wrong, for a message.
    var explanation: String {
        switch self {
        case .syntax: return "syntax error"
        case .invalidNumber: return "invalid number"
        case .invalidUTF8: return "invalid UTF-8"
        case .invalidEscape: return "invalid escape sequence"
        case .controlCharacter: return "control character in a string"
        case .tooDeep: return "nested too deeply"
        case .duplicateMemberName: return "duplicate member name"
        case .trailingData: return "data after the JSON value"
        case .tooLarge: return "document too large"
        }
    }
}
