import Crypto
import CryptoExtras
import Foundation
import JWTIssuer
import Testing

@testable import JWTCore

/// Tokens every JWE refusal is made of.
enum RefusalFixtures {
    static let claims = #"{"sub":"refused","exp":1400000000}"#

    /// The decryption keys of every type, one signing key per family for nested tokens.
    nonisolated(unsafe) static let keys: KeySet = try! makeKeySet(
        EncryptionTestKeys.jwks,
        #"{"keys":[\#(TestKeys.rsaJWK(extra: #","use":"sig""#)),\#(TestKeys.p256JWK(extra: #","use":"sig""#))]}"#
    )

    static func encrypt(
        _ plaintext: String = claims,
        algorithm: String = "A128KW",
        encryption: String = "A128GCM",
        header: [String: Any] = [:]
    ) -> String {
        let encrypter = try! JWEPair(algorithm: algorithm, encryption: encryption, curve: "").encrypter()
        return try! encrypter.encrypt(Data(plaintext.utf8), header: header)
    }

    static func agree(
        _ algorithm: String = "ECDH-ES",
        curve: String = "P-256",
        encryption: String = "A128GCM"
    ) -> String {
        try! JWEPair(algorithm: algorithm, encryption: encryption, curve: curve).encrypter().encrypt(Data(claims.utf8))
    }

    /// A token whose header is `header` (JSON text) and whose other segments are well-formed for A128KW A128GCM:
    /// for refusals decided by the header alone.
    static func withHeader(_ header: String) -> String {
        compactJWE(
            header: header,
            encryptedKey: [UInt8](repeating: 7, count: 24),
            iv: [UInt8](repeating: 1, count: 12),
            ciphertext: [UInt8](repeating: 2, count: 40),
            tag: [UInt8](repeating: 3, count: 16)
        )
    }

    /// AES-GCM content encryption of `plaintext` under `cek` (any AES key length), with the header's base64url as
    /// AAD: for tokens an encrypter would not make.
    static func sealGCM(header: String, cek: [UInt8], encryptedKey: [UInt8], plaintext: String = claims) -> String {
        let protected = base64URL(header)
        let nonce = AES.GCM.Nonce()
        let box = try! AES.GCM.seal(
            Data(plaintext.utf8),
            using: SymmetricKey(data: cek),
            nonce: nonce,
            authenticating: Data(protected.utf8)
        )
        return [protected, base64URL(encryptedKey), base64URL(nonce), base64URL(box.ciphertext), base64URL(box.tag)]
            .joined(separator: ".")
    }
}

@Suite("JWE: refusals")
struct JWERefusalTests {
    let keys = RefusalFixtures.keys

    // MARK: - Algorithms and header members refused before any key is used

    @Test(arguments: [
        (#"{"alg":"RSA1_5","enc":"A128CBC-HS256"}"#, VerificationError.rsaPKCS1Refused),
        (#"{"alg":"PBES2-HS256+A128KW","enc":"A128GCM","p2s":"c2FsdHNhbHQ","p2c":100000000}"#, .passwordBasedRefused),
        (#"{"alg":"PBES2-HS512+A256KW","enc":"A128GCM"}"#, .passwordBasedRefused),
        (#"{"alg":"RSA-OAEP-384","enc":"A128GCM"}"#, .rsaOAEPDigestUnsupported),
        (#"{"alg":"RSA-OAEP-512","enc":"A128GCM"}"#, .rsaOAEPDigestUnsupported),
        (#"{"alg":"none","enc":"A128GCM"}"#, .algorithmNone),
        (#"{"alg":"nOnE","enc":"A128GCM"}"#, .algorithmNone),
        (#"{"alg":"HS256","enc":"A128GCM"}"#, .unsupportedKeyManagement),
        (#"{"alg":"A512KW","enc":"A128GCM"}"#, .unsupportedKeyManagement),
        (#"{"alg":"C20PKW","enc":"A128GCM"}"#, .unsupportedKeyManagement),
        (#"{"alg":7,"enc":"A128GCM"}"#, .algorithmNotString),
        (#"{"enc":"A128GCM"}"#, .missingAlgorithm),
        (#"{"alg":"A128KW"}"#, .missingEncryption),
        (#"{"alg":"A128KW","enc":["A128GCM"]}"#, .encryptionNotString),
        (#"{"alg":"A128KW","enc":"none"}"#, .unsupportedEncryption),
        (#"{"alg":"A128KW","enc":"A128CTR"}"#, .unsupportedEncryption),
        (#"{"alg":"A128KW","enc":"XC20P"}"#, .unsupportedEncryption),
        (#"{"alg":"A128KW","enc":"A128GCM","zip":"DEF"}"#, .compressionRefused),
        (#"{"alg":"A128KW","enc":"A128GCM","crit":["exp"],"exp":1}"#, .criticalHeader),
        (#"{"alg":"A128KW","enc":"A128GCM","crit":[]}"#, .criticalHeader),
        (#"{"alg":"A128KW","enc":"A128GCM","kid":1}"#, .keyIDNotString),
        (#"{"alg":"A128KW","enc":"A128GCM","cty":{}}"#, .contentTypeNotString),
        (#"["A128KW","A128GCM"]"#, .headerNotObject),
        (#""A128KW""#, .headerNotObject),
        (#"{"alg":"A128KW","enc":"A128GCM""#, .malformedHeader(.syntax)),
        (#"{"alg":"A128KW","enc":"A128GCM","alg":"A128KW"}"#, .malformedHeader(.duplicateMemberName)),
        (#"{"alg":"A128KW","enc":"A128GCM","\u0061lg":"dir"}"#, .malformedHeader(.duplicateMemberName)),
        (#"{"alg":"A128KW","enc":"A128GCM","x":"\uD800"}"#, .malformedHeader(.invalidEscape)),
        ("", .malformedHeader(.syntax)),
    ])
    func refusesTheHeader(_ header: String, _ error: VerificationError) {
        let token = RefusalFixtures.withHeader(header)
        #expect(openingError(token, as: .encrypted, with: self.keys) == error)
        #expect(openingError(token, as: .nested, with: self.keys) == error)
    }

    /// The same refusals on a token that would otherwise decrypt: the header is read first.
    @Test func refusesZipAndCritOnTokensThatWouldDecrypt() {
        let zipped = RefusalFixtures.encrypt(header: ["zip": "DEF"])
        #expect(openingError(zipped, as: .encrypted, with: self.keys) == .compressionRefused)
        let critical = RefusalFixtures.encrypt(header: ["crit": ["b64"], "b64": false])
        #expect(openingError(critical, as: .encrypted, with: self.keys) == .criticalHeader)
    }

    // MARK: - Segments

    @Test(arguments: [
        ("a.b.c.d", VerificationError.malformedEncryptedSegments),
        ("a.b.c.d.e.f", .malformedEncryptedSegments),
        ("....", .malformedHeader(.syntax)),
        ("", .emptyToken),
    ])
    func refusesTheSegmentCount(_ token: String, _ error: VerificationError) {
        #expect(openingError(token, as: .encrypted, with: self.keys) == error)
    }

    @Test func refusesSegmentsThatAreNotCanonicalBase64URL() {
        let token = RefusalFixtures.encrypt()
        let cases: [(Int, VerificationError)] = [
            (0, .headerNotBase64URL), (1, .encryptedKeyNotBase64URL), (2, .ivNotBase64URL),
            (3, .ciphertextNotBase64URL), (4, .tagNotBase64URL),
        ]
        for (index, error) in cases {
            let segment = String(token.split(separator: ".", omittingEmptySubsequences: false)[index])
            for bad in [segment + "=", "+" + segment.dropFirst(), segment.dropLast() + "*", "!"] {
                #expect(
                    openingError(replacingSegment(index, of: token, with: bad), as: .encrypted, with: self.keys)
                        == error
                )
            }
        }
    }

    @Test func refusesSegmentsOfTheWrongLength() {
        let token = RefusalFixtures.encrypt()
        let cases: [(Int, [UInt8], VerificationError)] = [
            (1, [], .missingEncryptedKey),
            (1, [UInt8](repeating: 1, count: 1025), .encryptedKeyTooLong),
            (2, [], .ivLength),
            (2, [UInt8](repeating: 1, count: 16), .ivLength),
            (4, [], .tagLength),
            (4, [UInt8](repeating: 1, count: 12), .tagLength),
        ]
        for (index, bytes, error) in cases {
            #expect(
                openingError(
                    replacingSegment(index, of: token, with: base64URL(bytes)),
                    as: .encrypted,
                    with: self.keys
                ) == error
            )
        }
        // CBC: a 16-byte IV, a tag of half the HMAC, whole blocks of ciphertext.
        let cbc = RefusalFixtures.encrypt(encryption: "A192CBC-HS384")
        #expect(
            openingError(
                replacingSegment(4, of: cbc, with: base64URL([UInt8](repeating: 1, count: 16))),
                as: .encrypted,
                with: self.keys
            ) == .tagLength
        )
        #expect(
            openingError(
                replacingSegment(3, of: cbc, with: base64URL([UInt8](repeating: 1, count: 17))),
                as: .encrypted,
                with: self.keys
            ) == .ciphertextLength
        )
        #expect(
            openingError(replacingSegment(3, of: cbc, with: ""), as: .encrypted, with: self.keys) == .ciphertextLength
        )
        // dir and ECDH-ES carry no encrypted key.
        for direct in [RefusalFixtures.encrypt(algorithm: "dir"), RefusalFixtures.agree()] {
            let withKey = replacingSegment(1, of: direct, with: base64URL([UInt8](repeating: 1, count: 24)))
            #expect(openingError(withKey, as: .encrypted, with: self.keys) == .encryptedKeyNotEmpty)
        }
    }

    @Test func refusesTokensOutOfBounds() throws {
        let long = String(repeating: "A", count: Verifier.maximumTokenLength - 4) + "....."
        #expect(openingError(long, as: .encrypted, with: self.keys) == .tokenTooLong)
        // A scratch buffer smaller than ajwt_scratch_size() says.
        let token = Array(RefusalFixtures.encrypt().utf8)
        var scratch = [UInt8](repeating: 0, count: TokenOpener.scratchSize(forTokenLength: token.count) - 1)
        let error = token.withUnsafeBytes { token in
            scratch.withUnsafeMutableBytes { scratch in
                Result { () throws(VerificationError) in
                    try TokenOpener(keys: self.keys).open(
                        token,
                        type: .encrypted,
                        scratch: scratch,
                        now: earlyNow,
                        leeway: 0
                    )
                }
            }
        }
        #expect(throws: VerificationError.scratchTooSmall) { try error.get() }
    }

    // MARK: - Key management parameters

    @Test func refusesMalformedKeyWrapParameters() {
        let token = RefusalFixtures.encrypt(algorithm: "A256GCMKW")
        let header = String(decoding: segmentBytes(0, of: token), as: UTF8.self)
        let cases: [(String, VerificationError)] = [
            (#"{"alg":"A256GCMKW","enc":"A128GCM","tag":"AAAAAAAAAAAAAAAAAAAAAA"}"#, .keyWrapIV),
            (#"{"alg":"A256GCMKW","enc":"A128GCM","iv":"AAAAAAAAAAAA","tag":"AAAAAAAAAAAAAAAAAAAAAA"}"#, .keyWrapIV),
            (#"{"alg":"A256GCMKW","enc":"A128GCM","iv":7,"tag":"AAAAAAAAAAAAAAAAAAAAAA"}"#, .keyWrapIV),
            (#"{"alg":"A256GCMKW","enc":"A128GCM","iv":"AAAAAAAAAAAAAAAA"}"#, .keyWrapTag),
            (
                #"{"alg":"A256GCMKW","enc":"A128GCM","iv":"AAAAAAAAAAAAAAAA","tag":"AAAAAAAAAAAAAAAAAAAAAAAA"}"#,
                .keyWrapTag
            ),
            (
                #"{"alg":"A256GCMKW","enc":"A128GCM","iv":"AAAAAAAAAAAAAAA=","tag":"AAAAAAAAAAAAAAAAAAAAAA"}"#,
                .keyWrapIV
            ),
        ]
        #expect(header.contains(#""iv":"#))
        for (header, error) in cases {
            let bad = replacingSegment(0, of: token, with: base64URL(header))
            #expect(openingError(bad, as: .encrypted, with: self.keys) == error)
        }
    }

    @Test func refusesMalformedEphemeralKeys() throws {
        let p256 = Array(EncryptionTestKeys.p256.publicKey.rawRepresentation)
        let x = base64URL(p256[..<32])
        let y = base64URL(p256[32...])
        let offCurve = base64URL([UInt8](repeating: 1, count: 32))
        let cases: [(String, VerificationError)] = [
            (#"{"alg":"ECDH-ES","enc":"A128GCM"}"#, .missingEphemeralKey),
            (#"{"alg":"ECDH-ES","enc":"A128GCM","epk":"{}"}"#, .missingEphemeralKey),
            // A point off the curve (an invalid-curve attack's first step).
            (
                #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(offCurve)"}}"#,
                .invalidEphemeralKey
            ),
            (
                #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"EC","crv":"P-256","#
                    + #""x":"\#(offCurve)","y":"\#(offCurve)"}}"#,
                .invalidEphemeralKey
            ),
            // Coordinates of another curve's length, or missing.
            (
                #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"EC","crv":"P-384","x":"\#(x)","y":"\#(y)"}}"#,
                .invalidEphemeralKey
            ),
            (#"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"EC","crv":"P-256","x":"\#(x)"}}"#, .invalidEphemeralKey),
            (
                #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"EC","crv":"secp256k1","x":"\#(x)","y":"\#(y)"}}"#,
                .invalidEphemeralKey
            ),
            (#"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"OKP","crv":"X448","x":"\#(x)"}}"#, .invalidEphemeralKey),
            (
                #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"OKP","crv":"X25519","x":"\#(x)","y":"\#(y)"}}"#,
                .invalidEphemeralKey
            ),
            (
                #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"RSA","crv":"P-256","x":"\#(x)","y":"\#(y)"}}"#,
                .invalidEphemeralKey
            ),
            (
                #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"EC","crv":"P-256","x":"\#(x)=","y":"\#(y)"}}"#,
                .invalidEphemeralKey
            ),
            (
                #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(y)"},"apu":1}"#,
                .partyInfoNotBase64URL
            ),
            (
                #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(y)"},"#
                    + #""apv":"a+b"}"#,
                .partyInfoNotBase64URL
            ),
        ]
        for (header, error) in cases {
            let token = compactJWE(
                header: header,
                iv: [UInt8](repeating: 1, count: 12),
                ciphertext: [1, 2, 3],
                tag: [UInt8](repeating: 3, count: 16)
            )
            #expect(openingError(token, as: .encrypted, with: self.keys) == error, "\(header)")
        }
    }

    /// An epk on another curve than every key's: no key can agree with it; with a kid, the named key cannot.
    @Test func refusesAnEphemeralKeyOnAnotherCurveThanTheKey() throws {
        let p256Only = try makeKeySet(EncryptionTestKeys.p256JWK(extra: #","kid":"e""#))
        let onP384 = RefusalFixtures.agree(curve: "P-384")
        #expect(openingError(onP384, as: .encrypted, with: p256Only) == .noKeyForEncryption)
        let named = try JWEPair(algorithm: "ECDH-ES", encryption: "A128GCM", curve: "X25519").encrypter(keyID: "e")
            .encrypt(Data(RefusalFixtures.claims.utf8))
        #expect(openingError(named, as: .encrypted, with: p256Only) == .keyIDEncryptionMismatch)
    }

    /// A low-order X25519 point makes the agreed secret zero whatever the key (RFC 7748 §6.1): refused as any
    /// decryption failure.
    @Test func refusesAnAllZeroX25519Agreement() {
        let zero = base64URL([UInt8](repeating: 0, count: 32))
        let header = #"{"alg":"ECDH-ES","enc":"A128GCM","epk":{"kty":"OKP","crv":"X25519","x":"\#(zero)"}}"#
        let token = compactJWE(
            header: header,
            iv: [UInt8](repeating: 1, count: 12),
            ciphertext: [1],
            tag: [UInt8](repeating: 3, count: 16)
        )
        #expect(openingError(token, as: .encrypted, with: self.keys) == .decryptionFailed)
    }

    // MARK: - Content encryption keys of the wrong length

    /// A CEK that unwraps but is not the enc's length is a decryption failure, like any other.
    @Test func refusesContentEncryptionKeysOfTheWrongLength() throws {
        let shortCEK = [UInt8](repeating: 9, count: 16)
        // A128KW wrapping 16 bytes for A256GCM (which needs 32).
        let wrapped = try AES.KeyWrap.wrap(
            SymmetricKey(data: shortCEK),
            using: SymmetricKey(data: EncryptionTestKeys.secret(16))
        )
        let keyWrap = RefusalFixtures.sealGCM(
            header: #"{"alg":"A128KW","enc":"A256GCM"}"#,
            cek: shortCEK,
            encryptedKey: Array(wrapped)
        )
        #expect(openingError(keyWrap, as: .encrypted, with: self.keys) == .decryptionFailed)
        // RSA-OAEP carrying 16 bytes for A256GCM.
        let oaep = try EncryptionTestKeys.rsa.publicKey.encrypt(shortCEK, padding: .PKCS1_OAEP)
        let rsa = RefusalFixtures.sealGCM(
            header: #"{"alg":"RSA-OAEP","enc":"A256GCM"}"#,
            cek: shortCEK,
            encryptedKey: Array(oaep)
        )
        #expect(openingError(rsa, as: .encrypted, with: self.keys) == .decryptionFailed)
        // The same tokens with a CEK of the right length open: the construction is right.
        let rightCEK = [UInt8](repeating: 9, count: 32)
        let rightWrap = try AES.KeyWrap.wrap(
            SymmetricKey(data: rightCEK),
            using: SymmetricKey(data: EncryptionTestKeys.secret(16))
        )
        let good = RefusalFixtures.sealGCM(
            header: #"{"alg":"A128KW","enc":"A256GCM"}"#,
            cek: rightCEK,
            encryptedKey: Array(rightWrap)
        )
        #expect(try open(good, as: .encrypted, with: self.keys).payload == RefusalFixtures.claims)
    }

    /// dir: the key is the CEK, so a key of another length than the enc's cannot serve it.
    @Test func refusesDirectKeysOfTheWrongLength() throws {
        let keys = try makeKeySet(EncryptionTestKeys.octJWK(16, extra: #","use":"enc","kid":"d""#))
        let a256 = RefusalFixtures.sealGCM(
            header: #"{"alg":"dir","enc":"A256GCM"}"#,
            cek: EncryptionTestKeys.secret(16),
            encryptedKey: []
        )
        #expect(openingError(a256, as: .encrypted, with: keys) == .noKeyForEncryption)
        let named = RefusalFixtures.sealGCM(
            header: #"{"alg":"dir","enc":"A256GCM","kid":"d"}"#,
            cek: EncryptionTestKeys.secret(16),
            encryptedKey: []
        )
        #expect(openingError(named, as: .encrypted, with: keys) == .keyIDEncryptionMismatch)
        let a128 = RefusalFixtures.sealGCM(
            header: #"{"alg":"dir","enc":"A128GCM"}"#,
            cek: EncryptionTestKeys.secret(16),
            encryptedKey: []
        )
        #expect(try open(a128, as: .encrypted, with: keys).payload == RefusalFixtures.claims)
    }

    // MARK: - Tampering: one reason for every cryptographic failure

    static let tamperedPairs: [JWEPair] = [
        JWEPair(algorithm: "A128KW", encryption: "A128GCM", curve: ""),
        JWEPair(algorithm: "A192GCMKW", encryption: "A128CBC-HS256", curve: ""),
        JWEPair(algorithm: "dir", encryption: "A256CBC-HS512", curve: ""),
        JWEPair(algorithm: "RSA-OAEP-256", encryption: "A256GCM", curve: ""),
        JWEPair(algorithm: "ECDH-ES+A256KW", encryption: "A192CBC-HS384", curve: "P-521"),
        JWEPair(algorithm: "ECDH-ES", encryption: "A192GCM", curve: "X25519"),
    ]

    @Test(arguments: Self.tamperedPairs)
    func everyTamperingHasTheOneReason(_ pair: JWEPair) throws {
        let token = try pair.encrypter().encrypt(Data(RefusalFixtures.claims.utf8))
        #expect(try open(token, as: .encrypted, with: self.keys).payload == RefusalFixtures.claims)
        var tampered: [String] = []
        // Each bit of a few bytes of each segment that carries bytes, flipped.
        for index in 1...4 {
            var bytes = segmentBytes(index, of: token)
            guard !bytes.isEmpty else {
                continue
            }
            for position in [0, bytes.count / 2, bytes.count - 1] {
                bytes[position] ^= 0x01
                tampered.append(replacingSegment(index, of: token, with: base64URL(bytes)))
                bytes[position] ^= 0x01
            }
        }
        // The protected header, still valid and naming the same alg and enc: it is the AAD.
        var header = String(decoding: segmentBytes(0, of: token), as: UTF8.self)
        header.insert(contentsOf: #""x":1,"#, at: header.index(after: header.startIndex))
        tampered.append(replacingSegment(0, of: token, with: base64URL(header)))
        var reasons: Set<String> = []
        for token in tampered {
            let error = openingError(token, as: .encrypted, with: self.keys)
            #expect(error == .decryptionFailed)
            reasons.insert(error.map { "\($0.reason)" } ?? "opened")
        }
        #expect(reasons == ["the token could not be decrypted"])
    }

    /// AES-CBC-HMAC: a ciphertext whose MAC is right but whose padding is not is refused as any other failure.
    @Test func badPaddingHasTheOneReason() throws {
        let key = EncryptionTestKeys.secret(32)
        let header = base64URL(#"{"alg":"dir","enc":"A128CBC-HS256"}"#)
        let iv = [UInt8](repeating: 4, count: 16)
        // One block ending in 0x00: never valid PKCS#7 padding.
        let block = [UInt8](repeating: 0x41, count: 15) + [0]
        let ciphertext = Array(
            try AES._CBC.encrypt(
                block,
                using: SymmetricKey(data: key.suffix(16)),
                iv: AES._CBC.IV(ivBytes: iv),
                noPadding: true
            )
        )
        var macInput = Array(header.utf8) + iv + ciphertext
        withUnsafeBytes(of: UInt64(header.utf8.count * 8).bigEndian) { macInput += $0 }
        let mac = Array(HMAC<SHA256>.authenticationCode(for: macInput, using: SymmetricKey(data: key.prefix(16))))
        let token = [header, "", base64URL(iv), base64URL(ciphertext), base64URL(mac.prefix(16))].joined(separator: ".")
        #expect(openingError(token, as: .encrypted, with: self.keys) == .decryptionFailed)
        // With valid padding, the same construction opens (and is refused only as not JSON).
        let padded = Array(
            try AES._CBC.encrypt(
                Array("AAAAAAAAAAAAAAAAA".utf8),
                using: SymmetricKey(data: key.suffix(16)),
                iv: AES._CBC.IV(ivBytes: iv)
            )
        )
        var paddedInput = Array(header.utf8) + iv + padded
        withUnsafeBytes(of: UInt64(header.utf8.count * 8).bigEndian) { paddedInput += $0 }
        let paddedMAC = Array(
            HMAC<SHA256>.authenticationCode(for: paddedInput, using: SymmetricKey(data: key.prefix(16)))
        )
        let good = [header, "", base64URL(iv), base64URL(padded), base64URL(paddedMAC.prefix(16))].joined(
            separator: "."
        )
        #expect(openingError(good, as: .encrypted, with: self.keys) == .malformedPayload(.syntax))
    }

    @Test func refusesTheWrongKey() throws {
        let token = RefusalFixtures.encrypt(algorithm: "A256KW", encryption: "A256GCM")
        let other = try makeKeySet(
            #"{"kty":"oct","use":"enc","k":"\#(base64URL([UInt8](repeating: 0xEE, count: 32)))"}"#
        )
        #expect(openingError(token, as: .encrypted, with: other) == .decryptionFailed)
        // Named by kid, a key that exists but is not the one: the same reason.
        let named = try JWEPair(algorithm: "RSA-OAEP", encryption: "A128GCM", curve: "").encrypter(keyID: "r")
            .encrypt(Data(RefusalFixtures.claims.utf8))
        let otherRSA = try _RSA.Encryption.PrivateKey(keySize: .bits2048)
        let members = RSAPrivateKeyDER.members(Array(otherRSA.derRepresentation))
        let names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"]
        let jwk =
            #"{"kty":"RSA","kid":"r","#
                + zip(names, members).map { #""\#($0)":"\#(base64URL($1))""# }.joined(separator: ",") + "}"
        #expect(openingError(named, as: .encrypted, with: try makeKeySet(jwk)) == .decryptionFailed)
        // A kid no key has, and no key without a kid: no key.
        #expect(
            openingError(
                named,
                as: .encrypted,
                with: try makeKeySet(EncryptionTestKeys.octJWK(16, extra: #","use":"enc","kid":"o""#))
            ) == .unknownKeyID
        )
        // An unmarked secret of the right length is tried, and fails; one of another length, or a public key, is no
        // candidate.
        let unmarked = TestKeys.hmacJWK([UInt8](repeating: 0x11, count: 32))
        #expect(openingError(token, as: .encrypted, with: try makeKeySet(unmarked)) == .decryptionFailed)
        #expect(openingError(token, as: .encrypted, with: try makeKeySet(TestKeys.hmacJWK())) == .noKeyForEncryption)
        #expect(openingError(token, as: .encrypted, with: try makeKeySet(TestKeys.rsaJWK())) == .noKeyForEncryption)
    }

    // MARK: - Token types

    @Test func refusesTheWrongType() throws {
        let jws = makeToken(header: #"{"alg":"RS256"}"#, payload: RefusalFixtures.claims, sign: TestKeys.rs256)
        #expect(try verify(jws, with: self.keys).payload == RefusalFixtures.claims)
        #expect(openingError(jws, as: .signed, with: self.keys) == nil)
        #expect(openingError(jws, as: .encrypted, with: self.keys) == .signedTokenNotEncrypted)
        #expect(openingError(jws, as: .nested, with: self.keys) == .signedTokenNotEncrypted)

        let jwe = RefusalFixtures.encrypt()
        #expect(openingError(jwe, as: .signed, with: self.keys) == .encryptedToken)
        #expect(throws: VerificationError.encryptedToken) { try verify(jwe, with: self.keys) }
        #expect(openingError(jwe, as: .nested, with: self.keys) == .notNested)

        // cty JWT, in any case or as its media type, marks a nested token.
        for contentType in ["JWT", "jwt", "application/JWT", "Application/jwt"] {
            let nested = try JWEPair(algorithm: "A128KW", encryption: "A128GCM", curve: "").encrypter()
                .encrypt(Data(jws.utf8), header: ["cty": contentType])
            #expect(try open(nested, as: .nested, with: self.keys).payload == RefusalFixtures.claims)
            #expect(openingError(nested, as: .encrypted, with: self.keys) == .nestedNotEncrypted)
        }
        // Another cty is no nested token, but an encrypted one may have it.
        let other = RefusalFixtures.encrypt(header: ["cty": "application/json"])
        #expect(openingError(other, as: .nested, with: self.keys) == .notNested)
        #expect(try open(other, as: .encrypted, with: self.keys).payload == RefusalFixtures.claims)
    }

    @Test func refusesNestedTokensWhoseInnerTokenFails() throws {
        let encrypter = try JWEPair(algorithm: "ECDH-ES+A128KW", encryption: "A128CBC-HS256", curve: "P-256")
            .encrypter()
        func nested(_ inner: String) throws -> String {
            try encrypter.nest(inner)
        }
        let claims = RefusalFixtures.claims
        // alg none inside.
        let unsecured = base64URL(#"{"alg":"none"}"#) + "." + base64URL(claims) + "."
        #expect(openingError(try nested(unsecured), as: .nested, with: self.keys) == .algorithmNone)
        // A signature that does not verify.
        var forged = makeToken(header: #"{"alg":"ES256"}"#, payload: claims, sign: TestKeys.es256)
        forged = replacingSegment(1, of: forged, with: base64URL(#"{"sub":"admin","exp":1400000000}"#))
        #expect(openingError(try nested(forged), as: .nested, with: self.keys) == .badSignature)
        // Signed by a key the set does not have.
        let unknown = makeToken(header: #"{"alg":"ES384"}"#, payload: claims, sign: TestKeys.es384)
        #expect(openingError(try nested(unknown), as: .nested, with: self.keys) == .noKeyForAlgorithm)
        // A JWE inside a JWE.
        #expect(openingError(try nested(RefusalFixtures.encrypt()), as: .nested, with: self.keys) == .encryptedToken)
        // Not a token at all.
        #expect(openingError(try nested(claims), as: .nested, with: self.keys) == .malformedSegments)
        // Expired, and not yet valid, by the inner claims.
        let expired = makeToken(header: #"{"alg":"RS256"}"#, payload: #"{"exp":1000}"#, sign: TestKeys.rs256)
        #expect(openingError(try nested(expired), as: .nested, with: self.keys) == .expired)
        let early = makeToken(header: #"{"alg":"RS256"}"#, payload: #"{"nbf":1999999999}"#, sign: TestKeys.rs256)
        #expect(openingError(try nested(early), as: .nested, with: self.keys) == .notYetValid)
    }

    @Test(arguments: [
        ("You can trust us", VerificationError.malformedPayload(.syntax)),
        ("[1,2]", .payloadNotObject),
        (#"{"a":1,"a":2}"#, .malformedPayload(.duplicateMemberName)),
        (#"{"a":"\#u{7}"}"#, .malformedPayload(.controlCharacter)),
        (#"{"exp":"soon"}"#, .expirationNotNumber),
        (#"{"exp":1000}"#, .expired),
        (#"{"nbf":1999999999}"#, .notYetValid),
        ("", .malformedPayload(.syntax)),
    ])
    func refusesEncryptedPlaintextThatIsNoClaimsSet(_ plaintext: String, _ error: VerificationError) {
        let token = RefusalFixtures.encrypt(plaintext, algorithm: "dir", encryption: "A128GCM")
        #expect(openingError(token, as: .encrypted, with: self.keys) == error)
    }

    @Test func expiryIsTheTokenExpiredStatus() {
        let token = RefusalFixtures.encrypt(#"{"exp":1000}"#)
        #expect(openingError(token, as: .encrypted, with: self.keys)?.status == .tokenExpired)
        #expect(openingError(token, as: .encrypted, with: self.keys, now: 999) == nil)
    }

    /// No reason, whatever the refusal, holds bytes of the token: they are static strings.
    @Test func reasonsNeverHoldTokenBytes() throws {
        let token = RefusalFixtures.encrypt()
        let segments = token.split(separator: ".").map(String.init)
        for index in 0..<5 {
            var bytes = segmentBytes(index, of: token)
            bytes[bytes.count / 2] ^= 0x80
            let error = try #require(
                openingError(
                    replacingSegment(index, of: token, with: base64URL(bytes)),
                    as: .encrypted,
                    with: self.keys
                )
            )
            for segment in segments where segment.count > 8 {
                #expect(!error.description.contains(segment.prefix(8)))
            }
        }
    }
}
