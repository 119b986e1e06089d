import Crypto

/// A token that decrypted: its decoded protected header (a JSON object) and its plaintext, both inside the caller's
/// buffers.
struct DecryptedToken {
    let header: UnsafeRawBufferPointer
    let plaintext: UnsafeRawBufferPointer
}

/// Decrypts compact JWE (RFC 7516 §7.1, §5.2) with the decryption keys of a key set: the request path.
///
/// Everything that can be refused without a key is refused first, each with its own reason. Once a key is chosen,
/// every failure has the one reason `VerificationError.decryptionFailed`, and a key management failure goes on to
/// the content decryption with a random CEK, so that neither the reason nor the work tells which step failed.
struct Decrypter {
    /// The longest JWE Encrypted Key read: an RSA-OAEP key of 8192 bits.
    static let maximumEncryptedKeyByteCount = 1024

    /// What the plaintext must be, as the token's `cty` says.
    enum Content {
        /// A JWT claims set: `cty`, when present, must not name a JWT.
        case claims
        /// A nested JWT: `cty` must be "JWT".
        case nestedToken
    }

    let keys: KeySet
    /// Whether `oct` keys marked neither for signatures nor for encryption decrypt (not inside a nested token).
    let includesUnmarkedKeys: Bool

    /// Decrypts the token of `segments`.
    ///
    /// Key selection, as for signatures: when the token names a `kid`, the first key with that `kid` that can
    /// decrypt the token's `alg` and `enc` is tried, and only it; keys without a `kid` stand in when no key has that
    /// `kid`. Without a `kid`, every key that can decrypt the `alg` and `enc` is tried in order (the set is small).
    ///
    /// - Parameters:
    ///   - decodedSegments: at least the token's length, for the decoded segments; the header is returned in it.
    ///   - plaintextOutput: at least the token's length, for the plaintext.
    ///   - memberNames: room for the header's member names (`MemberNameStack.capacity(forDocumentCount:)`).
    func decrypt(
        _ segments: EncryptedSegments,
        content: Content,
        decodedSegments output: UnsafeMutableRawBufferPointer,
        plaintextOutput: UnsafeMutableRawBufferPointer,
        memberNames: UnsafeMutableBufferPointer<MemberName>
    ) throws(VerificationError) -> DecryptedToken {
        var decoder = SegmentDecoder(output: output)
        let header = try decoder.decode(segments.header, orThrow: .headerNotBase64URL)
        var members = JWEHeader.Members()
        try Verifier.validateObject(
            header,
            memberNames: memberNames,
            visitor: &members,
            malformed: VerificationError.malformedHeader,
            notObject: .headerNotObject
        )
        let parameters = try JWEHeader(members)
        switch content {
        case .claims:
            guard !parameters.isNested else {
                throw .nestedNotEncrypted
            }
        case .nestedToken:
            guard parameters.isNested else {
                throw .notNested
            }
        }

        let encryptedKey = try decoder.decode(segments.encryptedKey, orThrow: .encryptedKeyNotBase64URL)
        let iv = try decoder.decode(segments.iv, orThrow: .ivNotBase64URL)
        let ciphertext = try decoder.decode(segments.ciphertext, orThrow: .ciphertextNotBase64URL)
        let tag = try decoder.decode(segments.tag, orThrow: .tagNotBase64URL)
        try Self.checkShape(parameters, encryptedKey: encryptedKey, iv: iv, ciphertext: ciphertext, tag: tag)

        let input = ContentDecryption.Input(additionalData: segments.header, iv: iv, ciphertext: ciphertext, tag: tag)
        let attempt = { (key: DecryptionKey) -> Int? in
            // A failed unwrap carries on with a random CEK: the tag then fails as it would for a wrong key.
            let cek =
                KeyManagement.contentEncryptionKey(for: parameters, encryptedKey: encryptedKey, with: key)
                ?? SymmetricKey(size: SymmetricKeySize(bitCount: parameters.encryption.keyByteCount * 8))
            return ContentDecryption.decrypt(input, encryption: parameters.encryption, cek: cek, into: plaintextOutput)
        }
        let count = try self.withCandidates(for: parameters, attempt)
        return DecryptedToken(header: header, plaintext: UnsafeRawBufferPointer(rebasing: plaintextOutput[..<count]))
    }

    /// Whether the JWE header of `segments` names a `kid` that no decryption key in the set has. A header that cannot
    /// be read is `false`.
    func namesUnknownKeyID(_ segments: EncryptedSegments) -> Bool {
        let size = Verifier.scratchSize(forTokenLength: segments.header.count)
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
            var members = JWEHeader.Members()
            do {
                let header = try decoder.decode(segments.header, orThrow: .headerNotBase64URL)
                try Verifier.validateObject(
                    header,
                    memberNames: memberNames,
                    visitor: &members,
                    malformed: VerificationError.malformedHeader,
                    notObject: .headerNotObject
                )
                guard let keyID = try JWEHeader(members).keyID else {
                    return false
                }
                return !self.keys.decryptionKeys.contains { $0.hasKeyID(keyID) }
            } catch {
                return false
            }
        }
    }

    /// Refuses segments whose lengths cannot be right for the header's `alg` and `enc`: lengths are public, so this
    /// tells an attacker nothing a key would.
    private static func checkShape(
        _ header: JWEHeader,
        encryptedKey: UnsafeRawBufferPointer,
        iv: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        tag: UnsafeRawBufferPointer
    ) throws(VerificationError) {
        if header.algorithm.hasEmptyEncryptedKey {
            guard encryptedKey.isEmpty else {
                throw .encryptedKeyNotEmpty
            }
        } else {
            guard !encryptedKey.isEmpty else {
                throw .missingEncryptedKey
            }
            guard encryptedKey.count <= Self.maximumEncryptedKeyByteCount else {
                throw .encryptedKeyTooLong
            }
        }
        guard iv.count == header.encryption.ivByteCount else {
            throw .ivLength
        }
        guard tag.count == header.encryption.tagByteCount else {
            throw .tagLength
        }
        if !header.encryption.isGCM {
            // PKCS#7 padding always adds at least one byte: CBC ciphertext is one or more whole blocks.
            guard !ciphertext.isEmpty, ciphertext.count % 16 == 0 else {
                throw .ciphertextLength
            }
        }
    }

    /// Runs `attempt` with the keys `header` selects until one returns a result.
    private func withCandidates(
        for header: JWEHeader,
        _ attempt: (DecryptionKey) -> Int?
    ) throws(VerificationError) -> Int {
        let keys = self.keys.decryptionKeys
        if let keyID = header.keyID {
            var hasNamedKey = false
            for key in keys where key.hasKeyID(keyID) && self.mayUse(key) {
                hasNamedKey = true
                if key.canDecrypt(header) {
                    // The token chose this key: try it alone, never falling back to others.
                    guard let result = attempt(key) else {
                        throw .decryptionFailed
                    }
                    return result
                }
            }
            guard !hasNamedKey else {
                throw .keyIDEncryptionMismatch
            }
        }
        // No kid, or a kid no key has: only keys without a kid (such as PEM keys) remain candidates.
        var hasCandidate = false
        for key in keys where key.canDecrypt(header) && (header.keyID == nil || key.keyID == nil) && self.mayUse(key) {
            hasCandidate = true
            if let result = attempt(key) {
                return result
            }
        }
        if hasCandidate {
            throw .decryptionFailed
        }
        throw header.keyID == nil ? .noKeyForEncryption : .unknownKeyID
    }

    private func mayUse(_ key: DecryptionKey) -> Bool {
        self.includesUnmarkedKeys || !key.isUnmarked
    }
}

/// The five segments of a compact JWE, as slices of the token.
struct EncryptedSegments {
    let header: UnsafeRawBufferPointer
    let encryptedKey: UnsafeRawBufferPointer
    let iv: UnsafeRawBufferPointer
    let ciphertext: UnsafeRawBufferPointer
    let tag: UnsafeRawBufferPointer

    init(_ token: UnsafeRawBufferPointer) throws(VerificationError) {
        var dots = (0, 0, 0, 0)
        var count = 0
        var next = 0
        while let dot = CompactSegments.dot(in: token, from: next) {
            count += 1
            switch count {
            case 1: dots.0 = dot
            case 2: dots.1 = dot
            case 3: dots.2 = dot
            case 4: dots.3 = dot
            default: throw .malformedEncryptedSegments
            }
            next = dot + 1
        }
        guard count == 4 else {
            // Three segments: a JWS.
            throw count == 2 ? .signedTokenNotEncrypted : .malformedEncryptedSegments
        }
        self.header = UnsafeRawBufferPointer(rebasing: token[..<dots.0])
        self.encryptedKey = UnsafeRawBufferPointer(rebasing: token[(dots.0 + 1)..<dots.1])
        self.iv = UnsafeRawBufferPointer(rebasing: token[(dots.1 + 1)..<dots.2])
        self.ciphertext = UnsafeRawBufferPointer(rebasing: token[(dots.2 + 1)..<dots.3])
        self.tag = UnsafeRawBufferPointer(rebasing: token[(dots.3 + 1)...])
    }
}
