import Crypto
import CryptoExtras
import Testing

@testable import JWTCore

/// Each test signs its own token with a key generated for the tests, so that it exercises exactly one defect.
@Suite("Verifier: algorithms, keys and token shape")
struct VerifierTests {
    static let claims = #"{"sub":"alice","exp":2000000000}"#

    @Test func acceptsEveryAlgorithmWithItsKey() throws {
        let cases: [(alg: String, key: String, sign: ([UInt8]) -> [UInt8])] = [
            ("HS256", TestKeys.hmacJWK(), TestKeys.hs256()),
            ("HS512", TestKeys.hmacJWK(), TestKeys.hs512()),
            ("RS256", TestKeys.rsaJWK(), TestKeys.rs256),
            ("PS256", TestKeys.rsaJWK(), TestKeys.ps256),
            ("ES256", TestKeys.p256JWK(), TestKeys.es256),
            ("ES384", try TestKeys.p384.publicKey.pemRepresentation, TestKeys.es384),
            ("ES512", try TestKeys.p521.publicKey.pemRepresentation, TestKeys.es512),
            ("EdDSA", TestKeys.ed25519JWK(), TestKeys.eddsa),
        ]
        for (alg, key, sign) in cases {
            let token = makeToken(header: #"{"alg":"\#(alg)"}"#, payload: Self.claims, sign: sign)
            let verified = try verify(token, with: try makeKeySet(key))
            #expect(verified.payload == Self.claims, "\(alg)")
        }
    }

    @Test(arguments: ["none", "None", "NONE", "nOnE"])
    func rejectsAlgorithmNone(_ alg: String) throws {
        let keys = try makeKeySet(TestKeys.hmacJWK())
        let signed = makeToken(header: #"{"alg":"\#(alg)"}"#, payload: Self.claims, sign: TestKeys.hs256())
        #expect(throws: VerificationError.algorithmNone) { try verify(signed, with: keys) }
        let unsigned = base64URL(#"{"alg":"\#(alg)"}"#) + "." + base64URL(Self.claims) + "."
        #expect(throws: VerificationError.algorithmNone) { try verify(unsigned, with: keys) }
    }

    @Test(arguments: ["HS1", "RS1", "ES256K", "hs256", "PS256 ", "A128KW", ""])
    func rejectsUnsupportedAlgorithm(_ alg: String) throws {
        let token = makeToken(header: #"{"alg":"\#(alg)"}"#, payload: Self.claims, sign: TestKeys.hs256())
        #expect(throws: VerificationError.unsupportedAlgorithm) {
            try verify(token, with: try makeKeySet(TestKeys.hmacJWK()))
        }
    }

    @Test func rejectsAlgorithmConfusionWithRSAPublicKeyAsHMACSecret() throws {
        let pem = TestKeys.rsa.publicKey.pemRepresentation
        let keys = try makeKeySet(pem, TestKeys.rsaJWK())
        for secret in [Array(pem.utf8), Array(TestKeys.rsa.publicKey.derRepresentation)] {
            let token = makeToken(header: #"{"alg":"HS256"}"#, payload: Self.claims, sign: TestKeys.hs256(secret))
            #expect(throws: VerificationError.noKeyForAlgorithm) { try verify(token, with: keys) }
        }
    }

    @Test func rejectsAlteredPayload() throws {
        let token = makeToken(header: #"{"alg":"HS256"}"#, payload: Self.claims, sign: TestKeys.hs256())
        let parts = token.split(separator: ".")
        let forged = "\(parts[0]).\(base64URL(#"{"sub":"admin","exp":2000000000}"#)).\(parts[2])"
        #expect(throws: VerificationError.badSignature) { try verify(forged, with: try makeKeySet(TestKeys.hmacJWK())) }
    }

    @Test func rejectsStrippedSignature() throws {
        let token = makeToken(header: #"{"alg":"HS256"}"#, payload: Self.claims, sign: TestKeys.hs256())
        let stripped = String(token[...token.lastIndex(of: ".")!])
        #expect(throws: VerificationError.missingSignature) {
            try verify(stripped, with: try makeKeySet(TestKeys.hmacJWK()))
        }
    }

    @Test func rejectsTruncatedHMAC() throws {
        let token = makeToken(header: #"{"alg":"HS256"}"#, payload: Self.claims) {
            Array(TestKeys.hs256()($0).prefix(16))
        }
        #expect(throws: VerificationError.badSignature) { try verify(token, with: try makeKeySet(TestKeys.hmacJWK())) }
    }

    @Test(arguments: [
        ("a.b", VerificationError.malformedSegments),
        ("a.b.c.d", .malformedSegments),
        ("a.b.c.d.e", .encryptedToken),
        ("a.b.c.d.e.f", .malformedSegments),
        ("", .emptyToken),
        ("...", .malformedSegments),
    ])
    func rejectsWrongSegmentCount(_ token: String, _ error: VerificationError) throws {
        #expect(throws: error) { try verify(token, with: try makeKeySet(TestKeys.hmacJWK())) }
    }

    @Test func rejectsEncryptedHeader() throws {
        let token = makeToken(header: #"{"alg":"HS256","enc":"A128GCM"}"#, payload: Self.claims, sign: TestKeys.hs256())
        #expect(throws: VerificationError.encryptedToken) {
            try verify(token, with: try makeKeySet(TestKeys.hmacJWK()))
        }
    }

    @Test func rejectsCriticalHeader() throws {
        let header = #"{"alg":"HS256","crit":["exp"],"exp":1363284000}"#
        let token = makeToken(header: header, payload: Self.claims, sign: TestKeys.hs256())
        #expect(throws: VerificationError.criticalHeader) {
            try verify(token, with: try makeKeySet(TestKeys.hmacJWK()))
        }
    }

    @Test(arguments: [
        (#"{"alg":"HS256","kid":7}"#, VerificationError.keyIDNotString),
        (#"{"alg":256}"#, .algorithmNotString),
        (#"{"typ":"JWT"}"#, .missingAlgorithm),
        (#"["HS256"]"#, .headerNotObject),
        (#""HS256""#, .headerNotObject),
    ])
    func rejectsBadHeaderParameters(_ header: String, _ error: VerificationError) throws {
        let token = makeToken(header: header, payload: Self.claims, sign: TestKeys.hs256())
        #expect(throws: error) { try verify(token, with: try makeKeySet(TestKeys.hmacJWK())) }
    }

    @Test func rejectsOversizedToken() throws {
        let token = makeToken(
            header: #"{"alg":"HS256"}"#,
            payload: #"{"pad":"\#(String(repeating: "x", count: Verifier.maximumTokenLength))"}"#,
            sign: TestKeys.hs256()
        )
        #expect(throws: VerificationError.tokenTooLong) { try verify(token, with: try makeKeySet(TestKeys.hmacJWK())) }
    }

    @Test func acceptsLargeTokenUnderTheLimit() throws {
        let payload = #"{"pad":"\#(String(repeating: "x", count: 40_000))"}"#
        let token = makeToken(header: #"{"alg":"HS256"}"#, payload: payload, sign: TestKeys.hs256())
        #expect(try verify(token, with: try makeKeySet(TestKeys.hmacJWK())).payload == payload)
    }
}

@Suite("Verifier: key selection")
struct KeySelectionTests {
    static let firstSecret = [UInt8](repeating: 1, count: 32)
    static let secondSecret = [UInt8](repeating: 2, count: 32)
    static let keys = """
        {"keys":[
          {"kty":"oct","kid":"one","k":"\(base64URL(firstSecret))"},
          {"kty":"oct","kid":"two","k":"\(base64URL(secondSecret))"},
          \(TestKeys.p256JWK(extra: #","kid":"ec""#))
        ]}
        """

    @Test func selectsKeyByKid() throws {
        let token = makeToken(
            header: #"{"alg":"HS256","kid":"two"}"#,
            payload: "{}",
            sign: TestKeys.hs256(Self.secondSecret)
        )
        try verify(token, with: try makeKeySet(Self.keys))
    }

    @Test func comparesKidAfterUnescaping() throws {
        let token = makeToken(
            header: #"{"alg":"HS256","kid":"t\u0077o"}"#,
            payload: "{}",
            sign: TestKeys.hs256(Self.secondSecret)
        )
        try verify(token, with: try makeKeySet(Self.keys))
    }

    @Test func neverRetriesOtherKeysWhenKidNamesOne() throws {
        let token = makeToken(
            header: #"{"alg":"HS256","kid":"one"}"#,
            payload: "{}",
            sign: TestKeys.hs256(Self.secondSecret)
        )
        #expect(throws: VerificationError.badSignature) { try verify(token, with: try makeKeySet(Self.keys)) }
    }

    @Test func triesEveryCompatibleKeyWithoutKid() throws {
        let token = makeToken(header: #"{"alg":"HS256"}"#, payload: "{}", sign: TestKeys.hs256(Self.secondSecret))
        try verify(token, with: try makeKeySet(Self.keys))
    }

    @Test func rejectsUnknownKid() throws {
        let token = makeToken(
            header: #"{"alg":"HS256","kid":"three"}"#,
            payload: "{}",
            sign: TestKeys.hs256(Self.secondSecret)
        )
        #expect(throws: VerificationError.unknownKeyID) { try verify(token, with: try makeKeySet(Self.keys)) }
    }

    @Test func keysWithoutKidStandInForAnUnknownKid() throws {
        let token = makeToken(header: #"{"alg":"ES256","kid":"rotated"}"#, payload: "{}", sign: TestKeys.es256)
        try verify(token, with: try makeKeySet(try TestKeys.p256.publicKey.pemRepresentation))
    }

    @Test func rejectsKidNamingKeyOfAnotherType() throws {
        let token = makeToken(
            header: #"{"alg":"HS256","kid":"ec"}"#,
            payload: "{}",
            sign: TestKeys.hs256(Self.firstSecret)
        )
        #expect(throws: VerificationError.keyIDAlgorithmMismatch) { try verify(token, with: try makeKeySet(Self.keys)) }
    }

    @Test func rejectsHMACKeyShorterThanTheHash() throws {
        let token = makeToken(header: #"{"alg":"HS512"}"#, payload: "{}", sign: TestKeys.hs512(Self.firstSecret))
        #expect(throws: VerificationError.noKeyForAlgorithm) { try verify(token, with: try makeKeySet(Self.keys)) }
    }

    @Test func respectsJWKAlgorithmPin() throws {
        let keys = try makeKeySet(TestKeys.rsaJWK(extra: #","alg":"RS256""#))
        try verify(makeToken(header: #"{"alg":"RS256"}"#, payload: "{}", sign: TestKeys.rs256), with: keys)
        let pss = makeToken(header: #"{"alg":"PS256"}"#, payload: "{}", sign: TestKeys.ps256)
        #expect(throws: VerificationError.noKeyForAlgorithm) { try verify(pss, with: keys) }
    }

    @Test func bindsECKeysToTheirCurve() throws {
        let keys = try makeKeySet(TestKeys.p256JWK())
        let token = makeToken(header: #"{"alg":"ES384"}"#, payload: "{}", sign: TestKeys.es384)
        #expect(throws: VerificationError.noKeyForAlgorithm) { try verify(token, with: keys) }
    }
}

@Suite("Verifier: signature encodings")
struct SignatureEncodingTests {
    @Test func rejectsZeroECDSASignature() throws {
        let token = makeToken(header: #"{"alg":"ES256"}"#, payload: "{}") { _ in [UInt8](repeating: 0, count: 64) }
        #expect(throws: VerificationError.badSignature) { try verify(token, with: try makeKeySet(TestKeys.p256JWK())) }
    }

    @Test func rejectsDEREncodedECDSASignature() throws {
        let token = makeToken(header: #"{"alg":"ES256"}"#, payload: "{}") {
            Array(try! TestKeys.p256.signature(for: $0).derRepresentation)
        }
        #expect(throws: VerificationError.badSignature) { try verify(token, with: try makeKeySet(TestKeys.p256JWK())) }
    }

    @Test func rejectsRSASignatureOfWrongPadding() throws {
        let token = makeToken(header: #"{"alg":"RS256"}"#, payload: "{}", sign: TestKeys.ps256)
        #expect(throws: VerificationError.badSignature) { try verify(token, with: try makeKeySet(TestKeys.rsaJWK())) }
    }

    @Test(arguments: [
        ("eyJhbGciOiJIUzI1NiJ9=", VerificationError.headerNotBase64URL),
        ("eyJhbGciOiJIUzI1NiJ9 ", .headerNotBase64URL),
        ("eyJhbGciOiJIUzI1N+J9", .headerNotBase64URL),
        ("eyJhbGciOiJIUzI1N/J9", .headerNotBase64URL),
        ("eyJhbGciOiJIUzI1NiJ", .headerNotBase64URL),  // 19 characters: cannot be a whole number of bytes
        ("eyJhbGciOiJIUzI1NiJ9\n", .headerNotBase64URL),
    ])
    func rejectsNonCanonicalHeaderEncoding(_ header: String, _ error: VerificationError) throws {
        let token = "\(header).\(base64URL("{}")).\(base64URL([UInt8](repeating: 0, count: 32)))"
        #expect(throws: error) { try verify(token, with: try makeKeySet(TestKeys.hmacJWK())) }
    }

    @Test func rejectsNonZeroTrailingBitsInSignature() throws {
        let token = makeToken(header: #"{"alg":"HS256"}"#, payload: "{}", sign: TestKeys.hs256())
        // A 32-byte MAC is 43 characters whose last carries 2 unused bits; setting one keeps the bytes the same.
        var bytes = Array(token.utf8)
        let last = bytes[bytes.count - 1]
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        bytes[bytes.count - 1] = alphabet[alphabet.firstIndex(of: last)! | 1]
        #expect(throws: VerificationError.signatureNotBase64URL) {
            try verify(String(decoding: bytes, as: UTF8.self), with: try makeKeySet(TestKeys.hmacJWK()))
        }
    }

    @Test func rejectsStandardAlphabetInPayload() throws {
        // "{}?" in base64 is "e30/" whose '/' is not base64url.
        let token = "\(base64URL(#"{"alg":"HS256"}"#)).e30/.\(base64URL([UInt8](repeating: 0, count: 32)))"
        #expect(throws: VerificationError.payloadNotBase64URL) {
            try verify(token, with: try makeKeySet(TestKeys.hmacJWK()))
        }
    }
}
