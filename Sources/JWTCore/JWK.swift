import Crypto
import CryptoExtras

/// Reading JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2) and JWK Sets.
///
/// A JWK's role follows from what it holds and how it is marked:
/// - a public RSA, EC or Ed25519 key verifies signatures, unless marked for encryption (`use` `enc`, a JWE `alg`)
///   or an X25519 key: a public key for encrypting is of no use here and is skipped;
/// - a private RSA, EC or X25519 key (RFC 7518 §6.3.2, §6.2.2; RFC 8037 §2) decrypts, and never verifies;
/// - an `oct` secret verifies when marked `use` `sig` or a JWS `alg`, decrypts when marked `use` `enc` or a JWE
///   `alg`, and does both (for signed or for encrypted tokens, never within one nested token) when unmarked.
enum JWK {
    /// The smallest RSA modulus accepted, in bits.
    static let minimumRSAModulusBitCount = 2048
    /// The largest RSA modulus a decryption key may have, in bits: its encrypted keys are at most
    /// `Decrypter.maximumEncryptedKeyByteCount` bytes.
    static let maximumRSADecryptionModulusBitCount = 8192

    /// The keys in a key file holding a JWKS or a single JWK.
    static func keys(inJSON file: UnsafeRawBufferPointer) throws(KeyFileError) -> KeyFileKeys {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: file)
        } catch {
            throw KeyFileError("the key file is not valid JSON: \(error.explanation)")
        }
        var keys = KeyFileKeys()
        switch document["keys"] {
        case .array(let entries):
            for (index, entry) in entries.enumerated() {
                try self.add(entry, label: "keys[\(index)]", to: &keys)
            }
        case .some:
            throw KeyFileError("the JWKS member \"keys\" is not an array")
        case nil:
            try self.add(document, label: "the JWK", to: &keys)
        }
        guard keys.count > 0 else {
            throw KeyFileError(
                "the key file holds no key for signature verification (\"use\": \"sig\") "
                    + "or decryption (\"use\": \"enc\")"
            )
        }
        return keys
    }

    /// What a JWK is for.
    private enum Role {
        case verification
        case decryption
        /// An `oct` secret marked for neither.
        case both
    }

    /// A JWK `alg`, of whichever family.
    private enum Algorithm {
        case signature(SignatureAlgorithm)
        case keyManagement(KeyManagementAlgorithm)
        /// An `enc` name as a key's `alg`: a `dir` key for that content encryption (RFC 7520 §5.6 has one).
        case contentEncryption(ContentEncryptionAlgorithm)

        init?(_ name: String) {
            if let algorithm = SignatureAlgorithm(rawValue: name) {
                self = .signature(algorithm)
            } else if let algorithm = KeyManagementAlgorithm(rawValue: name) {
                self = .keyManagement(algorithm)
            } else if let algorithm = ContentEncryptionAlgorithm(rawValue: name) {
                self = .contentEncryption(algorithm)
            } else {
                return nil
            }
        }

        var name: String {
            switch self {
            case .signature(let algorithm): return algorithm.rawValue
            case .keyManagement(let algorithm): return algorithm.rawValue
            case .contentEncryption(let algorithm): return algorithm.rawValue
            }
        }

        var isSignature: Bool {
            if case .signature = self {
                return true
            }
            return false
        }
    }

    /// Adds the key a JWK describes to `keys`, or nothing if it is meant for something else (`use`, a public key for
    /// encrypting).
    private static func add(_ jwk: JSONValue, label: String, to keys: inout KeyFileKeys) throws(KeyFileError) {
        guard case .object = jwk else {
            throw KeyFileError("\(label) is not a JSON object")
        }
        var reader = MemberReader(jwk: jwk, label: label)
        let keyID = try reader.optionalString("kid")
        if let keyID {
            reader.label = "\(label) (kid \"\(KeyFile.printable(keyID.utf8))\")"
        }
        let use = try reader.optionalString("use")
        if let use, use != "sig", use != "enc" {
            return
        }
        let algorithm = try reader.optionalString("alg").map { (name) throws(KeyFileError) in
            guard let algorithm = Algorithm(name) else {
                throw reader.error("unsupported alg \"\(KeyFile.printable(name.utf8))\"")
            }
            return algorithm
        }
        guard var role = try self.role(of: reader, use: use, algorithm: algorithm) else {
            return
        }
        role = try self.narrow(role, byOperationsOf: reader)
        let keyIDBytes = keyID.map { Array($0.utf8) }
        switch role {
        case .verification:
            let pinnedAlgorithm: SignatureAlgorithm?
            switch algorithm {
            case .signature(let signature)?: pinnedAlgorithm = signature
            case nil: pinnedAlgorithm = nil
            case let other?: throw reader.error("alg \(other.name) does not fit a signature verification key")
            }
            keys.verification.append(
                try self.verificationKey(of: reader, keyID: keyIDBytes, pinnedAlgorithm: pinnedAlgorithm)
            )
        case .decryption:
            keys.decryption.append(try self.decryptionKey(of: reader, keyID: keyIDBytes, algorithm: algorithm))
        case .both:
            // The secret must serve HMAC (at least 32 bytes); for decryption it fits the algorithms of its length.
            keys.verification.append(
                try self.verificationKey(of: reader, keyID: keyIDBytes, pinnedAlgorithm: nil, isUnmarked: true)
            )
            keys.decryption.append(
                DecryptionKey(
                    material: .symmetric(SymmetricKey(data: try reader.requiredBytes("k"))),
                    keyID: keyIDBytes,
                    pin: nil,
                    isUnmarked: true
                )
            )
        }
        keys.count += 1
    }

    /// The key's role from its type, private members, `use` and `alg`; `nil` for a public key meant for encrypting.
    private static func role(
        of reader: MemberReader,
        use: String?,
        algorithm: Algorithm?
    ) throws(KeyFileError) -> Role? {
        let keyType = try reader.requiredString("kty")
        if keyType == "oct" {
            let forSignatures = use == "sig" || algorithm?.isSignature == true
            let forEncryption = use == "enc" || (algorithm.map { !$0.isSignature } ?? false)
            if forSignatures && forEncryption {
                throw reader.error("alg \(algorithm?.name ?? "") does not fit \"use\": \"\(use ?? "")\"")
            }
            return forSignatures ? .verification : forEncryption ? .decryption : .both
        }
        if reader.has("d") {
            if use == "sig" || algorithm?.isSignature == true {
                throw reader.error(
                    "private key material (\"d\") in a signature verification key; give the public key only"
                )
            }
            return .decryption
        }
        let isEncryptionKey =
            use == "enc" || (algorithm.map { !$0.isSignature } ?? false)
            || (keyType == "OKP" && (try? reader.optionalString("crv")) == "X25519")
        return isEncryptionKey ? nil : .verification
    }

    /// The role `key_ops` (RFC 7517 §4.3) leaves: it must allow a marked key's role, and it decides an unmarked one's.
    private static func narrow(_ role: Role, byOperationsOf reader: MemberReader) throws(KeyFileError) -> Role {
        guard let operations = reader.jwk["key_ops"] else {
            return role
        }
        guard case .array(let operations) = operations else {
            throw reader.error("\"key_ops\" is not an array")
        }
        let verifies = operations.contains(.string("verify"))
        let decrypts = ["decrypt", "unwrapKey", "deriveKey", "deriveBits"].contains { operations.contains(.string($0)) }
        switch role {
        case .verification:
            guard verifies else {
                throw reader.error("\"key_ops\" does not include \"verify\"")
            }
            return role
        case .decryption:
            guard decrypts else {
                throw reader.error(
                    "\"key_ops\" includes none of \"decrypt\", \"unwrapKey\", \"deriveKey\", \"deriveBits\""
                )
            }
            return role
        case .both:
            switch (verifies, decrypts) {
            case (true, true): return .both
            case (true, false): return .verification
            case (false, true): return .decryption
            case (false, false):
                throw reader.error("\"key_ops\" includes neither \"verify\" nor a decryption operation")
            }
        }
    }

    // MARK: - Verification keys

    private static func verificationKey(
        of reader: MemberReader,
        keyID: [UInt8]?,
        pinnedAlgorithm: SignatureAlgorithm?,
        isUnmarked: Bool = false
    ) throws(KeyFileError) -> VerificationKey {
        let key = VerificationKey(
            material: try self.material(of: reader),
            keyID: keyID,
            pinnedAlgorithm: pinnedAlgorithm,
            isUnmarked: isUnmarked
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
        try self.checkModulus(modulus, of: reader)
        do {
            return try _RSA.Signing.PublicKey(n: modulus, e: exponent)
        } catch {
            throw reader.error("the RSA public key (\"n\", \"e\") is invalid")
        }
    }

    private static func checkModulus(_ modulus: [UInt8], of reader: MemberReader) throws(KeyFileError) {
        let modulusBitCount = self.bitCount(of: modulus)
        guard modulusBitCount >= self.minimumRSAModulusBitCount else {
            throw reader.error(
                "the RSA modulus is \(modulusBitCount) bits; at least \(self.minimumRSAModulusBitCount) are required"
            )
        }
    }

    private static func ellipticCurveKey(of reader: MemberReader) throws(KeyFileError) -> VerificationKey.Material {
        let (curve, point) = try self.ellipticCurvePoint(of: reader)
        let material: VerificationKey.Material?
        switch curve {
        case .p256: material = (try? P256.Signing.PublicKey(rawRepresentation: point)).map { .p256($0) }
        case .p384: material = (try? P384.Signing.PublicKey(rawRepresentation: point)).map { .p384($0) }
        case .p521: material = (try? P521.Signing.PublicKey(rawRepresentation: point)).map { .p521($0) }
        }
        guard let material else {
            throw reader.error("the point (\"x\", \"y\") is not on \(curve.name)")
        }
        return material
    }

    /// The NIST curves of EC JWKs (RFC 7518 §6.2.1.1).
    private enum Curve {
        case p256
        case p384
        case p521

        var name: String {
            switch self {
            case .p256: return "P-256"
            case .p384: return "P-384"
            case .p521: return "P-521"
            }
        }

        /// The length of a coordinate and of a private scalar.
        var byteCount: Int {
            switch self {
            case .p256: return 32
            case .p384: return 48
            case .p521: return 66
            }
        }
    }

    /// An EC JWK's curve and its point as `x || y`, of the curve's width.
    private static func ellipticCurvePoint(of reader: MemberReader) throws(KeyFileError) -> (Curve, [UInt8]) {
        let name = try reader.requiredString("crv")
        let curve: Curve
        switch name {
        case "P-256": curve = .p256
        case "P-384": curve = .p384
        case "P-521": curve = .p521
        default: throw reader.error("unsupported EC curve \"\(KeyFile.printable(name.utf8))\"")
        }
        let x = try reader.requiredBytes("x")
        let y = try reader.requiredBytes("y")
        guard x.count == curve.byteCount, y.count == curve.byteCount else {
            throw reader.error("\"x\" and \"y\" must be \(curve.byteCount) bytes each for \(name)")
        }
        return (curve, x + y)
    }

    // MARK: - Decryption keys

    private static func decryptionKey(
        of reader: MemberReader,
        keyID: [UInt8]?,
        algorithm: Algorithm?
    ) throws(KeyFileError) -> DecryptionKey {
        let pin: DecryptionKey.Pin?
        switch algorithm {
        case .keyManagement(let keyManagement)?: pin = .keyManagement(keyManagement)
        case .contentEncryption(let encryption)?: pin = .contentEncryption(encryption)
        case .signature(let signature)?: throw reader.error("alg \(signature.rawValue) does not fit a decryption key")
        case nil: pin = nil
        }
        if let pin {
            let family: KeyManagementAlgorithm.KeyFamily
            switch pin {
            case .keyManagement(let keyManagement): family = keyManagement.keyFamily
            case .contentEncryption: family = .symmetric
            }
            let fits: Bool
            switch try reader.requiredString("kty") {
            case "oct": fits = family == .symmetric
            case "RSA": fits = family == .rsa
            default: fits = family == .ellipticCurve
            }
            guard fits else {
                throw reader.error("alg \(reader.algorithmName) does not fit the key type")
            }
        }
        return DecryptionKey(material: try self.decryptionMaterial(of: reader, pin: pin), keyID: keyID, pin: pin)
    }

    private static func decryptionMaterial(
        of reader: MemberReader,
        pin: DecryptionKey.Pin?
    ) throws(KeyFileError) -> DecryptionKey.Material {
        let keyType = try reader.requiredString("kty")
        switch keyType {
        case "oct":
            return .symmetric(SymmetricKey(data: try self.decryptionSecret(of: reader, pin: pin)))
        case "RSA":
            return .rsa(try self.rsaPrivateKey(of: reader))
        case "EC":
            return try self.ellipticCurvePrivateKey(of: reader)
        case "OKP":
            let curve = try reader.requiredString("crv")
            guard curve == "X25519" else {
                if curve == "Ed25519" {
                    throw reader.error(
                        "an Ed25519 private key (\"d\"); give the public key for signature verification"
                    )
                }
                throw reader.error("unsupported OKP curve \"\(KeyFile.printable(curve.utf8))\" for decryption")
            }
            let x = try reader.requiredBytes("x")
            let d = try reader.requiredBytes("d")
            guard d.count == 32, let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: d) else {
                throw reader.error("the X25519 private key \"d\" is not 32 bytes")
            }
            guard Array(key.publicKey.rawRepresentation) == x else {
                throw reader.error("the X25519 private key \"d\" does not match its public key \"x\"")
            }
            return .x25519(key)
        default:
            throw reader.error("unsupported kty \"\(KeyFile.printable(keyType.utf8))\"")
        }
    }

    /// An `oct` decryption secret: the length its pin needs, else one some algorithm can use.
    private static func decryptionSecret(
        of reader: MemberReader,
        pin: DecryptionKey.Pin?
    ) throws(KeyFileError) -> [UInt8] {
        let secret = try reader.requiredBytes("k")
        let required: Int?
        switch pin {
        case .keyManagement(let algorithm)?: required = algorithm.wrappingKeyByteCount
        case .contentEncryption(let encryption)?: required = encryption.keyByteCount
        case nil: required = nil
        }
        if let required {
            guard secret.count == required else {
                throw reader.error("the secret is \(secret.count) bytes; alg \(reader.algorithmName) needs \(required)")
            }
        } else {
            guard DecryptionKey.symmetricKeyByteCounts.contains(secret.count) else {
                throw reader.error(
                    "the decryption secret is \(secret.count) bytes; it must be 16, 24, 32, 48 or 64 bytes"
                )
            }
        }
        return secret
    }

    /// An RSA private key (RFC 7518 §6.3.2) with all its members: swift-crypto builds it from n, e, d, p and q
    /// (computing the CRT values itself), and BoringSSL checks the key's consistency.
    private static func rsaPrivateKey(of reader: MemberReader) throws(KeyFileError) -> _RSA.Encryption.PrivateKey {
        for name in ["p", "q", "dp", "dq", "qi"] where !reader.has(name) {
            throw reader.error(
                "an RSA private key needs \"d\", \"p\", \"q\", \"dp\", \"dq\" and \"qi\"; \"\(name)\" is missing"
            )
        }
        let modulus = try reader.requiredBytes("n")
        try self.checkModulus(modulus, of: reader)
        let modulusBitCount = self.bitCount(of: modulus)
        guard modulusBitCount <= self.maximumRSADecryptionModulusBitCount else {
            throw reader.error(
                "the RSA modulus is \(modulusBitCount) bits; a decryption key has at most "
                    + "\(self.maximumRSADecryptionModulusBitCount)"
            )
        }
        let exponent = try reader.requiredBytes("e")
        let d = try reader.requiredBytes("d")
        let p = try reader.requiredBytes("p")
        let q = try reader.requiredBytes("q")
        for name in ["dp", "dq", "qi"] {
            _ = try reader.requiredBytes(name)
        }
        do {
            return try _RSA.Encryption.PrivateKey(n: modulus, e: exponent, d: d, p: p, q: q)
        } catch {
            throw reader.error("the RSA private key is invalid (its members do not make one key)")
        }
    }

    private static func ellipticCurvePrivateKey(
        of reader: MemberReader
    ) throws(KeyFileError) -> DecryptionKey.Material {
        let (curve, point) = try self.ellipticCurvePoint(of: reader)
        let d = try reader.requiredBytes("d")
        guard d.count == curve.byteCount else {
            throw reader.error("the EC private key \"d\" must be \(curve.byteCount) bytes for \(curve.name)")
        }
        let parsed: (material: DecryptionKey.Material, publicPoint: [UInt8])?
        switch curve {
        case .p256:
            parsed = (try? P256.KeyAgreement.PrivateKey(rawRepresentation: d)).map {
                (.p256($0), Array($0.publicKey.rawRepresentation))
            }
        case .p384:
            parsed = (try? P384.KeyAgreement.PrivateKey(rawRepresentation: d)).map {
                (.p384($0), Array($0.publicKey.rawRepresentation))
            }
        case .p521:
            parsed = (try? P521.KeyAgreement.PrivateKey(rawRepresentation: d)).map {
                (.p521($0), Array($0.publicKey.rawRepresentation))
            }
        }
        guard let parsed else {
            throw reader.error("the EC private key \"d\" is not valid for \(curve.name)")
        }
        guard parsed.publicPoint == point else {
            throw reader.error("the EC private key \"d\" does not match its public key (\"x\", \"y\")")
        }
        return parsed.material
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

    /// The key's `alg` for a message, as printable text.
    var algorithmName: String {
        guard case .string(let name)? = self.jwk["alg"] else {
            return ""
        }
        return KeyFile.printable(name.utf8)
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
