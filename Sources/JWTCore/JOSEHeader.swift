/// The parameters of a JWS header (RFC 7515 §4.1) that decide how a token is verified.
struct JOSEHeader {
    let algorithm: SignatureAlgorithm
    /// The `kid` as escaped JSON string contents, if the token names a key.
    let keyID: UnsafeRawBufferPointer?

    /// Reads the parameters of `header`, a JSON object that was already validated.
    ///
    /// `alg` must name a supported algorithm (`none`, in any spelling, never is); `kid` must be a string; `crit`
    /// is refused because no extension is implemented (RFC 7515 §4.1.11), and `enc` because it marks a JWE.
    init(validatedObject header: UnsafeRawBufferPointer) throws(VerificationError) {
        var algorithm: JSONSpan?
        var keyID: JSONSpan?
        var hasCritical = false
        var hasEncryption = false
        do throws(JSONError) {
            var scanner = JSONScanner(header)
            let nesting = try scanner.enterContainer(nesting: 0)
            var isFirst = true
            while let member = try scanner.scanMember(isFirst: &isFirst, nesting: nesting) {
                if UnescapedBytes.decode(member.name, equals: "alg".utf8) {
                    algorithm = member.value
                } else if UnescapedBytes.decode(member.name, equals: "kid".utf8) {
                    keyID = member.value
                } else if UnescapedBytes.decode(member.name, equals: "crit".utf8) {
                    hasCritical = true
                } else if UnescapedBytes.decode(member.name, equals: "enc".utf8) {
                    hasEncryption = true
                }
            }
        } catch {
            throw .headerNotObject
        }
        guard !hasCritical else {
            throw .criticalHeader
        }
        guard !hasEncryption else {
            throw .encryptedToken
        }
        guard let algorithm else {
            throw .missingAlgorithm
        }
        guard keyID == nil || keyID?.kind == .string else {
            throw .keyIDNotString
        }
        self.algorithm = try Self.supportedAlgorithm(algorithm)
        self.keyID = keyID?.bytes
    }

    private static func supportedAlgorithm(_ value: JSONSpan) throws(VerificationError) -> SignatureAlgorithm {
        guard value.kind == .string else {
            throw .algorithmNotString
        }
        if let algorithm = SignatureAlgorithm(escapedName: value.bytes) {
            return algorithm
        }
        if UnescapedBytes.decode(value.bytes, equals: "none".utf8, ignoringCase: true) {
            throw .algorithmNone
        }
        throw .unsupportedAlgorithm
    }
}
