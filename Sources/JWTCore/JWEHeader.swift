import Crypto

/// The parameters of a JWE protected header (RFC 7516 §4.1, RFC 7518 §4.6.1 and §4.7.1) that decide how a token
/// is decrypted.
///
/// The header is untrusted: it is read strictly, and everything that can be refused without a key is refused here,
/// before any key is used (an unsupported or refused `alg`, `enc`, `zip`, `crit`, a malformed `epk`).
struct JWEHeader {
    let algorithm: KeyManagementAlgorithm
    let encryption: ContentEncryptionAlgorithm
    /// The `kid` as a JSON string's contents, if the token names a key.
    let keyID: JSONName?
    /// Whether `cty` says the plaintext is a JWT (RFC 7519 §5.2): a nested token.
    let isNested: Bool
    /// `ECDH-ES*`: the sender's ephemeral public key, already checked to be a point on its curve.
    let ephemeralKey: EphemeralPublicKey?
    /// `ECDH-ES*`: `apu` and `apv` as base64url text (JSON string contents), checked to decode.
    let partyUInfo: UnsafeRawBufferPointer?
    let partyVInfo: UnsafeRawBufferPointer?
    /// `A*GCMKW`: the key wrap's `iv` and `tag` as base64url text, checked to decode to 12 and 16 bytes.
    let keyWrapIV: UnsafeRawBufferPointer?
    let keyWrapTag: UnsafeRawBufferPointer?

    static let keyWrapIVByteCount = 12
    static let keyWrapTagByteCount = 16

    /// The members of the header that matter, collected while the header is validated.
    struct Members: JSONMemberVisitor {
        var algorithm: JSONSpan?
        var encryption: JSONSpan?
        var keyID: JSONSpan?
        var contentType: JSONSpan?
        var ephemeralKey: JSONSpan?
        var partyUInfo: JSONSpan?
        var partyVInfo: JSONSpan?
        var keyWrapIV: JSONSpan?
        var keyWrapTag: JSONSpan?
        var hasCritical = false
        var hasCompression = false

        mutating func visit(_ name: JSONName, _ value: JSONSpan) {
            if name.equals("alg") {
                self.algorithm = value
            } else if name.equals("enc") {
                self.encryption = value
            } else if name.equals("kid") {
                self.keyID = value
            } else if name.equals("cty") {
                self.contentType = value
            } else if name.equals("epk") {
                self.ephemeralKey = value
            } else if name.equals("apu") {
                self.partyUInfo = value
            } else if name.equals("apv") {
                self.partyVInfo = value
            } else if name.equals("iv") {
                self.keyWrapIV = value
            } else if name.equals("tag") {
                self.keyWrapTag = value
            } else if name.equals("crit") {
                self.hasCritical = true
            } else if name.equals("zip") {
                self.hasCompression = true
            }
        }
    }

    /// Reads the parameters from the members of a header that validated as a JSON object.
    ///
    /// `crit` is refused whatever it names, because no JWE extension is implemented (RFC 7516 §4.1.13); `zip` because
    /// plaintext is never decompressed (a decompression bomb costs the server, not the sender).
    init(_ members: Members) throws(VerificationError) {
        guard !members.hasCritical else {
            throw .criticalHeader
        }
        guard !members.hasCompression else {
            throw .compressionRefused
        }
        guard let algorithm = members.algorithm else {
            throw .missingAlgorithm
        }
        self.algorithm = try Self.keyManagementAlgorithm(algorithm)
        guard let encryption = members.encryption else {
            throw .missingEncryption
        }
        guard encryption.kind == .string else {
            throw .encryptionNotString
        }
        guard let contentEncryption = ContentEncryptionAlgorithm(name: JSONName(string: encryption.bytes)) else {
            throw .unsupportedEncryption
        }
        self.encryption = contentEncryption
        if let keyID = members.keyID {
            guard keyID.kind == .string else {
                throw .keyIDNotString
            }
            self.keyID = JSONName(string: keyID.bytes)
        } else {
            self.keyID = nil
        }
        self.isNested = try Self.isJWT(members.contentType)

        switch self.algorithm {
        case .a128GCMKW, .a192GCMKW, .a256GCMKW:
            self.keyWrapIV = try Self.base64URL(members.keyWrapIV, byteCount: Self.keyWrapIVByteCount, or: .keyWrapIV)
            self.keyWrapTag = try Self.base64URL(
                members.keyWrapTag,
                byteCount: Self.keyWrapTagByteCount,
                or: .keyWrapTag
            )
        default:
            self.keyWrapIV = nil
            self.keyWrapTag = nil
        }
        if self.algorithm.keyFamily == .ellipticCurve {
            guard let epk = members.ephemeralKey, epk.kind == .object else {
                throw .missingEphemeralKey
            }
            self.ephemeralKey = try EphemeralPublicKey(epk.bytes)
            self.partyUInfo = try Self.partyInfo(members.partyUInfo)
            self.partyVInfo = try Self.partyInfo(members.partyVInfo)
        } else {
            self.ephemeralKey = nil
            self.partyUInfo = nil
            self.partyVInfo = nil
        }
    }

    private static func keyManagementAlgorithm(_ value: JSONSpan) throws(VerificationError) -> KeyManagementAlgorithm {
        guard value.kind == .string else {
            throw .algorithmNotString
        }
        if let algorithm = KeyManagementAlgorithm(name: JSONName(string: value.bytes)) {
            return algorithm
        }
        // Known algorithms refused on purpose get a reason of their own, so that an administrator sees why.
        let name = value.bytes
        if UnescapedBytes.decode(name, equals: "none".utf8, ignoringCase: true) {
            throw .algorithmNone
        }
        if UnescapedBytes.decode(name, equals: "RSA1_5".utf8) {
            throw .rsaPKCS1Refused
        }
        if UnescapedBytes(name).starts(with: "PBES2-".utf8) {
            throw .passwordBasedRefused
        }
        if UnescapedBytes.decode(name, equals: "RSA-OAEP-384".utf8)
            || UnescapedBytes.decode(name, equals: "RSA-OAEP-512".utf8)
        {
            throw .rsaOAEPDigestUnsupported
        }
        throw .unsupportedKeyManagement
    }

    /// Whether `cty` names a JWT: "JWT", or its media type "application/jwt" (RFC 7515 §4.1.10), in any case.
    private static func isJWT(_ value: JSONSpan?) throws(VerificationError) -> Bool {
        guard let value else {
            return false
        }
        guard value.kind == .string else {
            throw .contentTypeNotString
        }
        return UnescapedBytes.decode(value.bytes, equals: "JWT".utf8, ignoringCase: true)
            || UnescapedBytes.decode(value.bytes, equals: "application/jwt".utf8, ignoringCase: true)
    }

    /// A header member that must be a base64url string of `byteCount` bytes: its text.
    private static func base64URL(
        _ value: JSONSpan?,
        byteCount: Int,
        or error: VerificationError
    ) throws(VerificationError) -> UnsafeRawBufferPointer {
        guard let value, value.kind == .string,
            Base64URL.decodedCount(ofEncodedCount: value.bytes.count) == byteCount,
            Self.decodes(value.bytes)
        else {
            throw error
        }
        return value.bytes
    }

    /// `apu` or `apv`: absent, or a base64url string of any length.
    private static func partyInfo(_ value: JSONSpan?) throws(VerificationError) -> UnsafeRawBufferPointer? {
        guard let value else {
            return nil
        }
        guard value.kind == .string, Self.decodes(value.bytes) else {
            throw .partyInfoNotBase64URL
        }
        return value.bytes
    }

    /// Whether `text` is canonical base64url (an escaped JSON string never is: `\` is outside the alphabet).
    private static func decodes(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let count = Base64URL.decodedCount(ofEncodedCount: text.count) else {
            return false
        }
        return withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { output in
            Base64URL.decode(text, into: output) == count
        }
    }

    /// Decodes a member this header checked (`iv`, `tag`, `apu`, `apv`) and passes its bytes to `body`.
    static func withDecoded<Result>(
        _ text: UnsafeRawBufferPointer?,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        guard let text, let count = Base64URL.decodedCount(ofEncodedCount: text.count) else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { output in
            let written = Base64URL.decode(text, into: output) ?? 0
            return try body(UnsafeRawBufferPointer(rebasing: output[..<written]))
        }
    }
}

/// The `epk` of an `ECDH-ES*` token (RFC 7518 §4.6.1.1): a public key on P-256, P-384, P-521 (RFC 7518 §6.2.1) or
/// X25519 (RFC 8037 §2).
///
/// swift-crypto's initializers check that an EC point lies on its curve (an invalid-curve attack sends points of a
/// small subgroup of another curve); X25519 accepts any 32 bytes, and the agreement checks its result instead.
enum EphemeralPublicKey {
    case p256(P256.KeyAgreement.PublicKey)
    case p384(P384.KeyAgreement.PublicKey)
    case p521(P521.KeyAgreement.PublicKey)
    case x25519(Curve25519.KeyAgreement.PublicKey)

    /// Reads the JWK `object` (the JSON text of an object inside a header that validated).
    init(_ object: UnsafeRawBufferPointer) throws(VerificationError) {
        var keyType: JSONSpan?
        var curve: JSONSpan?
        var x: JSONSpan?
        var y: JSONSpan?
        do {
            var scanner = JSONScanner(object)
            let nesting = try scanner.enterContainer(nesting: 0)
            var isFirst = true
            while let member = try scanner.scanMember(isFirst: &isFirst, nesting: nesting) {
                if member.name.equals("kty") {
                    keyType = member.value
                } else if member.name.equals("crv") {
                    curve = member.value
                } else if member.name.equals("x") {
                    x = member.value
                } else if member.name.equals("y") {
                    y = member.value
                }
            }
        } catch {
            throw .invalidEphemeralKey
        }
        guard let keyType, keyType.kind == .string, let curve, curve.kind == .string, let x, x.kind == .string else {
            throw .invalidEphemeralKey
        }
        let curveName = JSONName(string: curve.bytes)
        if JSONName(string: keyType.bytes).equals("OKP") {
            let key = Self.withPoint(x.bytes, nil, coordinateByteCount: 32) {
                try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: $0)
            }
            guard curveName.equals("X25519"), y == nil, let key else {
                throw .invalidEphemeralKey
            }
            self = .x25519(key)
            return
        }
        guard JSONName(string: keyType.bytes).equals("EC"), let y, y.kind == .string else {
            throw .invalidEphemeralKey
        }
        let parsed: Self?
        if curveName.equals("P-256") {
            parsed = Self.withPoint(x.bytes, y.bytes, coordinateByteCount: 32) {
                (try? P256.KeyAgreement.PublicKey(rawRepresentation: $0)).map { .p256($0) }
            }
        } else if curveName.equals("P-384") {
            parsed = Self.withPoint(x.bytes, y.bytes, coordinateByteCount: 48) {
                (try? P384.KeyAgreement.PublicKey(rawRepresentation: $0)).map { .p384($0) }
            }
        } else if curveName.equals("P-521") {
            parsed = Self.withPoint(x.bytes, y.bytes, coordinateByteCount: 66) {
                (try? P521.KeyAgreement.PublicKey(rawRepresentation: $0)).map { .p521($0) }
            }
        } else {
            parsed = nil
        }
        guard let parsed else {
            throw .invalidEphemeralKey
        }
        self = parsed
    }

    /// Decodes the coordinates `x` (and `y`), each exactly `coordinateByteCount` bytes, and passes `x || y` to
    /// `body`; `nil` if either is not that.
    private static func withPoint<Result>(
        _ x: UnsafeRawBufferPointer,
        _ y: UnsafeRawBufferPointer?,
        coordinateByteCount: Int,
        _ body: (UnsafeRawBufferPointer) -> Result?
    ) -> Result? {
        let coordinates = y == nil ? 1 : 2
        return withUnsafeTemporaryAllocation(byteCount: coordinateByteCount * coordinates, alignment: 1) { point in
            func decode(_ text: UnsafeRawBufferPointer, at index: Int) -> Bool {
                let slot = UnsafeMutableRawBufferPointer(
                    rebasing: point[(index * coordinateByteCount)..<((index + 1) * coordinateByteCount)]
                )
                return Base64URL.decodedCount(ofEncodedCount: text.count) == coordinateByteCount
                    && Base64URL.decode(text, into: slot) == coordinateByteCount
            }
            guard decode(x, at: 0), y.map({ decode($0, at: 1) }) ?? true else {
                return nil
            }
            return body(UnsafeRawBufferPointer(point))
        }
    }
}
