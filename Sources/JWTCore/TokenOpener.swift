/// What a location accepts (NGINX Plus's `auth_jwt_type`): a signed JWT, an encrypted JWT, or a signed JWT inside
/// an encrypted one.
public enum TokenType: Sendable, Hashable {
    /// A compact JWS (RFC 7515): verified with the signing keys.
    case signed
    /// A compact JWE (RFC 7516) whose plaintext is the claims set: decrypted with the decryption keys.
    case encrypted
    /// A compact JWE whose plaintext is a compact JWS (`cty` "JWT", RFC 7519 §5.2): decrypted, then verified.
    case nested
}

/// Opens a token of a given type: the request path's entry point for every type.
///
/// Works in place on the caller's token and scratch buffer, which it divides as follows for a token of `n` bytes:
/// the decoded JWE segments (`n` bytes: base64url shrinks), the plaintext (`n` bytes: it is never longer than the
/// ciphertext), then a verifier's scratch (`Verifier.scratchSize(forTokenLength: n)`), which holds the member names
/// of the JWE header and claims, or the whole verification of a nested token's JWS.
public struct TokenOpener {
    public let keys: KeySet

    public init(keys: KeySet) {
        self.keys = keys
    }

    /// The scratch buffer size `open` needs for a token of `tokenLength` bytes, whatever the type.
    public static func scratchSize(forTokenLength tokenLength: Int) -> Int {
        let length = min(max(tokenLength, 0), Verifier.maximumTokenLength)
        return 2 * length + Verifier.scratchSize(forTokenLength: length)
    }

    /// Opens `token` as a token of `type` and checks `exp` and `nbf` of its claims against `now` (seconds since the
    /// Epoch) with `leeway` seconds of tolerance.
    ///
    /// - Returns: for a signed token, its header and payload; for an encrypted one, the JWE header and the
    ///   plaintext claims set; for a nested one, the inner JWS's header and payload. All point into `scratch`.
    public func open(
        _ token: UnsafeRawBufferPointer,
        type: TokenType,
        scratch: UnsafeMutableRawBufferPointer,
        now: Int64,
        leeway: Int64
    ) throws(VerificationError) -> VerifiedToken {
        if type == .signed {
            return try Verifier(keys: self.keys).verify(token, scratch: scratch, now: now, leeway: leeway)
        }
        guard !token.isEmpty else {
            throw .emptyToken
        }
        guard token.count <= Verifier.maximumTokenLength else {
            throw .tokenTooLong
        }
        let segments = try EncryptedSegments(token)
        let length = token.count
        guard scratch.count >= Self.scratchSize(forTokenLength: length), let base = scratch.baseAddress else {
            throw .scratchTooSmall
        }
        let verifierScratch = UnsafeMutableRawBufferPointer(rebasing: scratch[(2 * length)...])
        let memberNameCount = MemberNameStack.capacity(forDocumentCount: length)
        let memberNames = UnsafeMutableBufferPointer(
            start: (base + 2 * length).alignedUp(for: MemberName.self)
                .bindMemory(to: MemberName.self, capacity: memberNameCount),
            count: memberNameCount
        )
        let decrypted = try Decrypter(keys: self.keys, includesUnmarkedKeys: type == .encrypted).decrypt(
            segments,
            content: type == .nested ? .nestedToken : .claims,
            decodedSegments: UnsafeMutableRawBufferPointer(rebasing: scratch[..<length]),
            plaintextOutput: UnsafeMutableRawBufferPointer(rebasing: scratch[length..<(2 * length)]),
            memberNames: memberNames
        )
        if type == .nested {
            // The member names are done with: the inner verification takes the verifier's part whole.
            return try Verifier(keys: self.keys, includesUnmarkedKeys: false).verify(
                decrypted.plaintext,
                scratch: verifierScratch,
                now: now,
                leeway: leeway
            )
        }
        var claims = TimeClaims.Members()
        try Verifier.validateObject(
            decrypted.plaintext,
            memberNames: memberNames,
            visitor: &claims,
            malformed: VerificationError.malformedPayload,
            notObject: .payloadNotObject
        )
        try TimeClaims.check(TimeClaims.values(claims), now: now, leeway: leeway)
        return VerifiedToken(header: decrypted.header, payload: decrypted.plaintext)
    }

    /// Whether `token`'s header names a `kid` that no key of its kind has (a decryption key for a JWE, a
    /// verification key for a JWS): after a refusal, whether keys fetched anew could open it. A token whose header
    /// cannot be read is `false`.
    public func namesUnknownKeyID(_ token: UnsafeRawBufferPointer) -> Bool {
        guard token.count <= Verifier.maximumTokenLength else {
            return false
        }
        if let segments = try? EncryptedSegments(token) {
            return Decrypter(keys: self.keys, includesUnmarkedKeys: true).namesUnknownKeyID(segments)
        }
        return Verifier(keys: self.keys).namesUnknownKeyID(token)
    }
}
