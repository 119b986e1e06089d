/// The parameters of a JWS header (RFC 7515 §4.1) that decide how a token is verified.
struct JOSEHeader {
    let algorithm: SignatureAlgorithm
    /// The `kid` as a JSON string's contents, if the token names a key.
    let keyID: JSONName?

    /// The members of the header that matter, collected while the header is validated.
    struct Members: JSONMemberVisitor {
        var algorithm: JSONSpan?
        var keyID: JSONSpan?
        var hasCritical = false
        var hasEncryption = false

        @inline(__always)
        mutating func visit(_ name: JSONName, _ value: JSONSpan) {
            if name.equals("alg") {
                self.algorithm = value
            } else if name.equals("kid") {
                self.keyID = value
            } else if name.equals("crit") {
                self.hasCritical = true
            } else if name.equals("enc") {
                self.hasEncryption = true
            }
        }
    }

    /// Reads the parameters from the members of a header that validated as a JSON object.
    ///
    /// `alg` must name a supported algorithm (`none`, in any spelling, never is); `kid` must be a string; `crit`
    /// is refused because no extension is implemented (RFC 7515 §4.1.11), and `enc` because it marks a JWE.
    init(_ members: Members) throws(VerificationError) {
        guard !members.hasCritical else {
            throw .criticalHeader
        }
        guard !members.hasEncryption else {
            throw .encryptedToken
        }
        guard let algorithm = members.algorithm else {
            throw .missingAlgorithm
        }
        self.algorithm = try Self.supportedAlgorithm(algorithm)
        if let keyID = members.keyID {
            guard keyID.kind == .string else {
                throw .keyIDNotString
            }
            self.keyID = JSONName(string: keyID.bytes)
        } else {
            self.keyID = nil
        }
    }

    private static func supportedAlgorithm(_ value: JSONSpan) throws(VerificationError) -> SignatureAlgorithm {
        guard value.kind == .string else {
            throw .algorithmNotString
        }
        let name = JSONName(string: value.bytes)
        if let algorithm = SignatureAlgorithm(name: name) {
            return algorithm
        }
        if UnescapedBytes.decode(value.bytes, equals: "none".utf8, ignoringCase: true) {
            throw .algorithmNone
        }
        throw .unsupportedAlgorithm
    }
}
