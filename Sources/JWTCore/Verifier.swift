#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A token that verified: its decoded header and payload, JSON objects inside the caller's scratch buffer.
public struct VerifiedToken {
    public let header: UnsafeRawBufferPointer
    public let payload: UnsafeRawBufferPointer
}

/// Verifies compact JWS tokens (RFC 7515 §7.1) against a key set: the request path.
///
/// Works in place on the caller's token and scratch buffer: nothing is copied, and nothing allocated for HMAC.
/// The header is untrusted until the signature verifies, so it is parsed strictly and cheaply; the payload is
/// only read after.
public struct Verifier {
    /// The longest token accepted (`AJWT_MAX_TOKEN_LEN`).
    public static var maximumTokenLength: Int { ABILimits.maximumTokenLength }

    public let keys: KeySet
    /// Whether `oct` keys marked neither for signatures nor for encryption verify: they do for signed tokens, never
    /// inside a nested token, where a key has one role.
    let includesUnmarkedKeys: Bool

    public init(keys: KeySet) {
        self.init(keys: keys, includesUnmarkedKeys: true)
    }

    init(keys: KeySet, includesUnmarkedKeys: Bool) {
        self.keys = keys
        self.includesUnmarkedKeys = includesUnmarkedKeys
    }

    /// The scratch buffer size `verify` needs for a token of `tokenLength` bytes.
    ///
    /// The buffer holds the decoded segments (base64url shrinks, so `tokenLength` bytes suffice) followed by the
    /// member names the JSON validator keeps for its duplicate check.
    public static func scratchSize(forTokenLength tokenLength: Int) -> Int {
        let length = min(max(tokenLength, 0), self.maximumTokenLength)
        let memberNameCount = MemberNameStack.capacity(forDocumentCount: length)
        return length + MemoryLayout<MemberName>.alignment - 1 + memberNameCount * MemoryLayout<MemberName>.stride
    }

    /// Verifies `token`: its shape, its header, its signature with the key the header selects, then `exp` and
    /// `nbf` against `now` (seconds since the Epoch) with `leeway` seconds of tolerance.
    ///
    /// Key selection: when the token names a `kid`, the first key with that `kid` that can verify the token's
    /// `alg` is tried, and only it; keys without a `kid` stand in when no key has that `kid`. Without a `kid`,
    /// every key that can verify the `alg` is tried in order.
    ///
    /// - Parameter scratch: at least `scratchSize(forTokenLength: token.count)` bytes; the result points into it.
    public func verify(
        _ token: UnsafeRawBufferPointer,
        scratch: UnsafeMutableRawBufferPointer,
        now: Int64,
        leeway: Int64
    ) throws(VerificationError) -> VerifiedToken {
        guard !token.isEmpty else {
            throw .emptyToken
        }
        guard token.count <= Self.maximumTokenLength else {
            throw .tokenTooLong
        }
        let segments = try CompactSegments(token)
        guard scratch.count >= Self.scratchSize(forTokenLength: token.count), let scratchBase = scratch.baseAddress
        else {
            throw .scratchTooSmall
        }

        var decoder = SegmentDecoder(output: UnsafeMutableRawBufferPointer(rebasing: scratch[..<token.count]))
        let header = try decoder.decode(segments.header, orThrow: .headerNotBase64URL)
        let payload = try decoder.decode(segments.payload, orThrow: .payloadNotBase64URL)
        let signature = try decoder.decode(segments.signature, orThrow: .signatureNotBase64URL)

        let memberNameCount = MemberNameStack.capacity(forDocumentCount: token.count)
        let memberNames = UnsafeMutableBufferPointer(
            start: (scratchBase + token.count).alignedUp(for: MemberName.self)
                .bindMemory(to: MemberName.self, capacity: memberNameCount),
            count: memberNameCount
        )

        // One pass over each JSON text validates it and collects the members the checks read.
        var headerMembers = JOSEHeader.Members()
        try Self.validateObject(
            header,
            memberNames: memberNames,
            visitor: &headerMembers,
            malformed: VerificationError.malformedHeader,
            notObject: .headerNotObject
        )
        let parameters = try JOSEHeader(headerMembers)
        // Checked after the header, so that an unsecured token is logged for its "alg": "none".
        guard !signature.isEmpty else {
            throw .missingSignature
        }
        try self.verifySignature(signature, over: segments.signingInput, header: parameters)

        var claims = TimeClaims.Members()
        try Self.validateObject(
            payload,
            memberNames: memberNames,
            visitor: &claims,
            malformed: VerificationError.malformedPayload,
            notObject: .payloadNotObject
        )
        try TimeClaims.check(TimeClaims.values(claims), now: now, leeway: leeway)
        return VerifiedToken(header: header, payload: payload)
    }

    /// Reads `exp` and `nbf` in `payload`, the payload of a token that `verify` accepted, as `verify` reads them:
    /// for a cache of verified tokens, which keeps them and checks them with `TimeClaims.check` on every hit, so
    /// that it sees a token expire exactly when `verify` would.
    ///
    /// Given a payload `verify` would have refused, it throws rather than read outside it.
    public static func readTimeClaims(_ payload: UnsafeRawBufferPointer) throws(VerificationError) -> TimeClaims.Values {
        var claims = TimeClaims.Members()
        var scanner = JSONScanner(payload)
        let value: JSONSpan
        do {
            value = try scanner.scanDocument(visitingMembers: &claims)
        } catch {
            throw .malformedPayload(error)
        }
        guard value.kind == .object else {
            throw .payloadNotObject
        }
        return try TimeClaims.values(claims)
    }

    /// Whether `token`'s header names a `kid` that no key in the set has: after a refusal, whether keys fetched
    /// anew could verify it. A token whose header cannot be read is `false`.
    public func namesUnknownKeyID(_ token: UnsafeRawBufferPointer) -> Bool {
        guard token.count <= Self.maximumTokenLength, let segments = try? CompactSegments(token) else {
            return false
        }
        let size = Self.scratchSize(forTokenLength: segments.header.count)
        return withUnsafeTemporaryAllocation(byteCount: size, alignment: MemoryLayout<MemberName>.alignment) {
            scratch in
            guard let base = scratch.baseAddress else {
                return false
            }
            let decoded = UnsafeMutableRawBufferPointer(rebasing: scratch[..<segments.header.count])
            var decoder = SegmentDecoder(output: decoded)
            let memberNameCount = MemberNameStack.capacity(forDocumentCount: segments.header.count)
            let memberNames = UnsafeMutableBufferPointer(
                start: (base + segments.header.count).alignedUp(for: MemberName.self)
                    .bindMemory(to: MemberName.self, capacity: memberNameCount),
                count: memberNameCount
            )
            var members = JOSEHeader.Members()
            do {
                let header = try decoder.decode(segments.header, orThrow: .headerNotBase64URL)
                try Self.validateObject(
                    header,
                    memberNames: memberNames,
                    visitor: &members,
                    malformed: VerificationError.malformedHeader,
                    notObject: .headerNotObject
                )
                guard let keyID = try JOSEHeader(members).keyID else {
                    return false
                }
                return !self.keys.hasKey(named: keyID)
            } catch {
                return false
            }
        }
    }

    private func verifySignature(
        _ signature: UnsafeRawBufferPointer,
        over signingInput: UnsafeRawBufferPointer,
        header: JOSEHeader
    ) throws(VerificationError) {
        let algorithm = header.algorithm
        let keys = self.keys.keys
        if let keyID = header.keyID {
            var hasNamedKey = false
            for key in keys where key.hasKeyID(keyID) && self.mayUse(key) {
                hasNamedKey = true
                if key.canVerify(algorithm) {
                    // The token chose this key: try it alone, never falling back to others.
                    guard key.isValidSignature(signature, for: signingInput, algorithm: algorithm) else {
                        throw .badSignature
                    }
                    return
                }
            }
            guard !hasNamedKey else {
                throw .keyIDAlgorithmMismatch
            }
        }
        // No kid, or a kid no key has: only keys without a kid (such as PEM keys) remain candidates.
        var hasCandidate = false
        for key in keys
        where key.canVerify(algorithm) && (header.keyID == nil || key.keyID == nil) && self.mayUse(key) {
            hasCandidate = true
            if key.isValidSignature(signature, for: signingInput, algorithm: algorithm) {
                return
            }
        }
        if hasCandidate {
            throw .badSignature
        }
        throw header.keyID == nil ? .noKeyForAlgorithm : .unknownKeyID
    }

    /// Whether the key may take part in this verification (its role).
    private func mayUse(_ key: VerificationKey) -> Bool {
        self.includesUnmarkedKeys || !key.isUnmarked
    }

    /// Validates `document` as strict JSON whose value is an object, showing `visitor` its members.
    static func validateObject<Visitor: JSONMemberVisitor>(
        _ document: UnsafeRawBufferPointer,
        memberNames: UnsafeMutableBufferPointer<MemberName>,
        visitor: inout Visitor,
        malformed: (JSONError) -> VerificationError,
        notObject: VerificationError
    ) throws(VerificationError) {
        let value: JSONSpan
        do {
            value = try JSONScanner.validate(document, memberNameStorage: memberNames, visitingMembers: &visitor)
        } catch {
            throw malformed(error)
        }
        guard value.kind == .object else {
            throw notObject
        }
    }
}

/// The three segments of a compact JWS, as slices of the token.
struct CompactSegments {
    let header: UnsafeRawBufferPointer
    let payload: UnsafeRawBufferPointer
    let signature: UnsafeRawBufferPointer
    /// `header.payload`, the bytes the signature covers.
    let signingInput: UnsafeRawBufferPointer

    init(_ token: UnsafeRawBufferPointer) throws(VerificationError) {
        guard let first = Self.dot(in: token, from: 0), let second = Self.dot(in: token, from: first + 1) else {
            throw .malformedSegments
        }
        if let third = Self.dot(in: token, from: second + 1) {
            // The JWE compact serialization has five segments.
            guard let fourth = Self.dot(in: token, from: third + 1), Self.dot(in: token, from: fourth + 1) == nil
            else {
                throw .malformedSegments
            }
            throw .encryptedToken
        }
        self.header = UnsafeRawBufferPointer(rebasing: token[..<first])
        self.payload = UnsafeRawBufferPointer(rebasing: token[(first + 1)..<second])
        self.signature = UnsafeRawBufferPointer(rebasing: token[(second + 1)...])
        self.signingInput = UnsafeRawBufferPointer(rebasing: token[..<second])
    }

    /// The offset of the first "." at or after `start`, or `nil`.
    static func dot(in token: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < token.count, let base = token.baseAddress,
            let found = memchr(base + start, Int32(UInt8(ascii: ".")), token.count - start)
        else {
            return nil
        }
        return base.distance(to: UnsafeRawPointer(found))
    }
}

/// Decodes segments one after the other into a buffer.
struct SegmentDecoder {
    let output: UnsafeMutableRawBufferPointer
    var used = 0

    mutating func decode(
        _ segment: UnsafeRawBufferPointer,
        orThrow error: VerificationError
    ) throws(VerificationError) -> UnsafeRawBufferPointer {
        let free = UnsafeMutableRawBufferPointer(rebasing: self.output[self.used...])
        guard let count = Base64URL.decode(segment, into: free) else {
            throw error
        }
        defer { self.used += count }
        return UnsafeRawBufferPointer(rebasing: free[..<count])
    }
}
