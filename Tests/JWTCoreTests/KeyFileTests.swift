import Crypto
import CryptoExtras
import Testing

@testable import JWTCore

@Suite("Key files: JWKS, JWK and PEM")
struct KeyFileTests {
    /// Standard base64 with padding, as PEM bodies use.
    static func base64(_ bytes: some Sequence<UInt8>) -> String {
        var text = String(base64URL(bytes).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while text.utf8.count % 4 != 0 {
            text += "="
        }
        return text
    }

    static func pem(_ label: String, _ der: some Sequence<UInt8>) -> String {
        var body = Substring(base64(der))
        var lines: [Substring] = []
        while !body.isEmpty {
            lines.append(body.prefix(64))
            body = body.dropFirst(64)
        }
        return "-----BEGIN \(label)-----\n" + lines.joined(separator: "\n") + "\n-----END \(label)-----\n"
    }

    static let ed25519SPKIPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    @Test func readsAJWKSOfEveryKeyType() throws {
        let jwks = """
            {"keys":[\(TestKeys.rsaJWK(extra: #","kid":"r","use":"sig","key_ops":["verify"]"#)),
                     \(TestKeys.p256JWK(extra: #","kid":"e","alg":"ES256""#)),
                     \(TestKeys.ed25519JWK(extra: #","kid":"o","x5c":["ignored"]"#)),
                     \(TestKeys.hmacJWK(extra: #","kid":"h","alg":"HS512""#)),
                     \(TestKeys.rsaJWK(extra: #","kid":"enc","use":"enc","alg":"RSA-OAEP""#))]}
            """
        #expect(try makeKeySet(jwks).count == 4)
    }

    @Test func readsPEMBlocksOfEveryKeyType() throws {
        let file = [
            "Some text before the blocks is ignored.",
            TestKeys.rsa.publicKey.pemRepresentation,
            TestKeys.rsa.publicKey.pkcs1PEMRepresentation,
            TestKeys.p256.publicKey.pemRepresentation,
            TestKeys.p384.publicKey.pemRepresentation,
            TestKeys.p521.publicKey.pemRepresentation,
            Self.pem("PUBLIC KEY", Self.ed25519SPKIPrefix + TestKeys.ed25519.publicKey.rawRepresentation),
        ].joined(separator: "\r\n")
        let keys = try makeKeySet(file)
        #expect(keys.count == 6)
        let token = makeToken(header: #"{"alg":"EdDSA"}"#, payload: "{}", sign: TestKeys.eddsa)
        try verify(token, with: keys)
    }

    @Test func addsNothingWhenAnyKeyIsBad() throws {
        let keys = try makeKeySet(TestKeys.hmacJWK())
        let file = #"{"keys":[\#(TestKeys.p256JWK()),{"kty":"oct","k":"AAAA"}]}"#
        #expect(throws: KeyFileError.self) { _ = try Array(file.utf8).withUnsafeBytes { try keys.add(contentsOf: $0) } }
        #expect(keys.count == 1)
    }

    @Test(arguments: [
        ("", "the key file is empty"),
        (" \n", "the key file is empty"),
        ("hello", "unrecognised key file format: expected a JWKS, a JWK or PEM keys"),
        (#"{"keys":[}"#, "the key file is not valid JSON: syntax error"),
        (#"{"kty":"oct","kty":"oct"}"#, "the key file is not valid JSON: duplicate member name"),
        (#"{"keys":{}}"#, #"the JWKS member "keys" is not an array"#),
        (
            #"{"keys":[]}"#,
            #"the key file holds no key for signature verification ("use": "sig") or decryption ("use": "enc")"#
        ),
        (
            // A public key for encrypting is of no use to a recipient: skipped, so the file holds no key.
            #"{"keys":[{"kty":"EC","use":"enc","crv":"P-256","x":"AA","y":"AA"}]}"#,
            #"the key file holds no key for signature verification ("use": "sig") or decryption ("use": "enc")"#
        ),
        (
            #"{"keys":[{"kty":"oct","use":"enc","k":"AAAA"}]}"#,
            "keys[0]: the decryption secret is 3 bytes; it must be 16, 24, 32, 48 or 64 bytes"
        ),
        (#"{"keys":[7]}"#, "keys[0] is not a JSON object"),
        (#"{"keys":[{"kid":"a"}]}"#, #"keys[0] (kid "a"): "kty" is missing"#),
        (#"{"kty":"foo","kid":"x\u0001y"}"#, #"the JWK (kid "x?y"): unsupported kty "foo""#),
        (#"{"kty":"oct","kid":1,"k":"AAAA"}"#, #"the JWK: "kid" is not a string"#),
        (#"{"kty":"oct","k":"AAAA"}"#, "the JWK: the HMAC secret is 3 bytes; at least 32 are required"),
        (#"{"kty":"oct","k":"AA=="}"#, #"the JWK: "k" is not unpadded base64url"#),
        (#"{"kty":"oct","k":"#, ""),
        (#"{"kty":"EC","crv":"P-192","x":"AA","y":"AA"}"#, #"the JWK: unsupported EC curve "P-192""#),
        (
            #"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}"#,
            #"the JWK: "x" and "y" must be 32 bytes each for P-256"#
        ),
        (#"{"kty":"OKP","crv":"Ed448","x":"AAAA"}"#, #"the JWK: unsupported OKP curve "Ed448" (only Ed25519 is)"#),
        (#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#, #"the JWK: the Ed25519 public key "x" is not 32 bytes"#),
        (#"{"kty":"RSA","e":"AQAB"}"#, #"the JWK: "n" is missing"#),
        (#"{"kty":"oct","alg":"RSA-OAEP","k":"AAAA"}"#, "the JWK: alg RSA-OAEP does not fit the key type"),
        (#"{"kty":"oct","alg":"PBES2-HS256+A128KW","k":"AAAA"}"#, #"the JWK: unsupported alg "PBES2-HS256+A128KW""#),
        (#"{"kty":"oct","use":"sig","key_ops":["sign"],"k":"AAAA"}"#, #"the JWK: "key_ops" does not include "verify""#),
        (
            #"{"kty":"oct","key_ops":["sign"],"k":"AAAA"}"#,
            #"the JWK: "key_ops" includes neither "verify" nor a decryption operation"#
        ),
    ])
    func reportsBadJSONKeys(_ file: String, _ message: String) {
        if message.isEmpty {
            #expect(keyFileError(file)?.hasPrefix("the key file is not valid JSON") == true)
        } else {
            #expect(keyFileError(file) == message)
        }
    }

    /// Private key material makes a decryption key (DecryptionKeyFileTests); a JWK that only pretends to hold a
    /// private key, or a private Ed25519 key (which decrypts nothing), is refused.
    @Test func refusesIncompletePrivateKeyMaterial() {
        let cases = [
            (
                TestKeys.rsaJWK(extra: #","d":"AQAB""#),
                #"the JWK: an RSA private key needs "d", "p", "q", "dp", "dq" and "qi"; "p" is missing"#
            ),
            (TestKeys.p256JWK(extra: #","d":"AQAB""#), #"the JWK: the EC private key "d" must be 32 bytes for P-256"#),
            (
                TestKeys.ed25519JWK(extra: #","d":"AQAB""#),
                #"the JWK: an Ed25519 private key ("d"); give the public key for signature verification"#
            ),
            (
                TestKeys.rsaJWK(extra: #","use":"sig","d":"AQAB""#),
                #"the JWK: private key material ("d") in a signature verification key; give the public key only"#
            ),
        ]
        for (jwk, message) in cases {
            #expect(keyFileError(jwk) == message)
        }
    }

    @Test func refusesShortRSAKeys() throws {
        let short = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)).publicKey
        let primitives = try short.getKeyPrimitives()
        let jwk = #"{"kty":"RSA","kid":"old","n":"\#(base64URL(primitives.modulus))","e":"AQAB"}"#
        #expect(keyFileError(jwk) == #"the JWK (kid "old"): the RSA modulus is 1024 bits; at least 2048 are required"#)
        #expect(
            keyFileError(short.pemRepresentation)
                == #"PEM block 1 ("PUBLIC KEY"): the RSA modulus is 1024 bits; at least 2048 are required"#
        )
    }

    @Test func refusesPinsThatDoNotFitTheKey() {
        #expect(
            keyFileError(TestKeys.rsaJWK(extra: #","kid":"k","alg":"ES256""#))
                == #"the JWK (kid "k"): alg ES256 does not fit the key type"#
        )
        #expect(
            keyFileError(TestKeys.hmacJWK([UInt8](repeating: 7, count: 32), extra: #","alg":"HS512""#))
                == "the JWK: the secret is shorter than HS512 requires"
        )
    }

    @Test func refusesPointsOffTheCurve() {
        let x = base64URL([UInt8](repeating: 1, count: 32))
        let y = base64URL([UInt8](repeating: 2, count: 32))
        let jwk = #"{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(y)"}"#
        #expect(keyFileError(jwk) == #"the JWK: the point ("x", "y") is not on P-256"#)
    }

    @Test func neverEchoesKeyMaterial() throws {
        let secret = base64URL([UInt8](repeating: 0xAB, count: 20))
        let message = try #require(keyFileError(#"{"kty":"oct","k":"\#(secret)"}"#))
        #expect(!message.contains(secret))
    }

    @Test func reportsBadPEMBlocks() {
        let ed448 =
            [0x30, 0x43, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x71, 0x03, 0x3A, 0x00] + [UInt8](repeating: 1, count: 57)
        let cases: [(String, String)] = [
            (Self.pem("PRIVATE KEY", [1, 2, 3]), #"PEM block 1 ("PRIVATE KEY"): invalid PKCS#8 private key"#),
            (
                Self.pem("EC PRIVATE KEY", [1, 2, 3]),
                #"PEM block 1 ("EC PRIVATE KEY"): invalid EC private key (P-256, P-384 or P-521)"#
            ),
            (
                Self.pem("CERTIFICATE", [1, 2, 3]),
                #"PEM block 1 ("CERTIFICATE"): certificates are not read; "#
                    + "extract the public key (openssl x509 -pubkey)"
            ),
            (
                Self.pem("X509 CRL", [1, 2, 3]),
                #"PEM block 1 ("X509 CRL"): unsupported PEM type; expected "PUBLIC KEY", "RSA PUBLIC KEY", "#
                    + #""PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE KEY""#
            ),
            (Self.pem("PUBLIC KEY", ed448), #"PEM block 1 ("PUBLIC KEY"): Ed448 keys are not supported"#),
            (
                Self.pem("PUBLIC KEY", [0x30, 0x03, 0x02, 0x01, 0x00]),
                #"PEM block 1 ("PUBLIC KEY"): unsupported public key algorithm or curve"#
            ),
            (
                "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
                #"PEM block 1 ("PUBLIC KEY"): the body is not valid base64"#
            ),
            ("-----BEGIN PUBLIC KEY-----\nAAAA\n", #"PEM block 1 ("PUBLIC KEY") has no END line"#),
            (
                TestKeys.p256.publicKey.pemRepresentation + "\n" + Self.pem("PRIVATE KEY", [1]),
                #"PEM block 2 ("PRIVATE KEY"): invalid PKCS#8 private key"#
            ),
        ]
        for (file, message) in cases {
            #expect(keyFileError(file) == message)
        }
    }
}
