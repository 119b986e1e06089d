import Crypto
import CryptoExtras
import Foundation
import JWTIssuer
import Testing

@testable import JWTCore

@Suite("Key files: decryption keys, key roles, token types")
struct DecryptionKeyFileTests {
    static let claims = #"{"sub":"keys","exp":1400000000}"#

    static func encrypt(
        _ algorithm: String,
        _ encryption: String = "A128GCM",
        curve: String = "",
        kid: String? = nil
    ) -> String {
        try! JWEPair(algorithm: algorithm, encryption: encryption, curve: curve).encrypter(keyID: kid)
            .encrypt(Data(claims.utf8))
    }

    // MARK: - What loads, and as what

    @Test func readsPrivateJWKsOfEveryTypeAsDecryptionKeys() throws {
        let keys = try makeKeySet(EncryptionTestKeys.jwks)
        #expect(keys.count == 10)
        #expect(keys.decryptionKeys.count == 10)
        #expect(keys.keys.isEmpty)
        for (algorithm, curve) in [
            ("RSA-OAEP", ""), ("ECDH-ES", "P-256"), ("ECDH-ES", "P-384"), ("ECDH-ES", "P-521"), ("ECDH-ES", "X25519"),
            ("A192KW", ""),
        ] {
            #expect(try open(Self.encrypt(algorithm, curve: curve), as: .encrypted, with: keys).payload == Self.claims)
        }
    }

    @Test func readsPEMPrivateKeysAsDecryptionKeys() throws {
        let rsa = EncryptionTestKeys.rsa
        let cases: [(String, String, String)] = [
            ("PKCS#8 RSA", rsa.pkcs8PEMRepresentation, "RSA-OAEP"),
            ("PKCS#1 RSA", rsa.pemRepresentation, "RSA-OAEP-256"),
            ("PKCS#8 P-256", EncryptionTestKeys.p256.pemRepresentation, "ECDH-ES"),
            (
                "SEC 1 P-384", KeyFileTests.pem("EC PRIVATE KEY", EncryptionTestKeys.p384.derRepresentation),
                "ECDH-ES+A128KW"
            ),
            ("PKCS#8 P-521", EncryptionTestKeys.p521.pemRepresentation, "ECDH-ES+A256KW"),
            ("PKCS#8 X25519", EncryptionTestKeys.x25519.pemRepresentation, "ECDH-ES+A192KW"),
        ]
        #expect(rsa.pemRepresentation.hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        #expect(rsa.pkcs8PEMRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        for (name, pem, algorithm) in cases {
            let keys = try makeKeySet(pem)
            #expect(keys.decryptionKeys.count == 1, "\(name)")
            let curve =
                algorithm.hasPrefix("ECDH")
                ? [
                    "PKCS#8 P-256": "P-256", "SEC 1 P-384": "P-384", "PKCS#8 P-521": "P-521", "PKCS#8 X25519": "X25519",
                ][name]! : ""
            #expect(
                try open(Self.encrypt(algorithm, curve: curve), as: .encrypted, with: keys).payload == Self.claims,
                "\(name)"
            )
        }
        // Public and private PEM keys in one file: one of each role.
        let mixed = try makeKeySet(TestKeys.p256.publicKey.pemRepresentation + "\n" + rsa.pemRepresentation)
        #expect(mixed.keys.count == 1 && mixed.decryptionKeys.count == 1 && mixed.count == 2)
    }

    @Test func refusesPEMPrivateKeysThatCannotDecrypt() throws {
        let ed25519 = Curve25519.Signing.PrivateKey()
        let short = try _RSA.Encryption.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
        let cases: [(String, String)] = [
            (
                ed25519.pemRepresentation,
                #"PEM block 1 ("PRIVATE KEY"): an Ed25519 private key; give the public key for signature verification"#
            ),
            (
                short.pemRepresentation,
                #"PEM block 1 ("RSA PRIVATE KEY"): the RSA modulus is 1024 bits; at least 2048 are required"#
            ),
            (
                KeyFileTests.pem("ENCRYPTED PRIVATE KEY", [1, 2, 3]),
                #"PEM block 1 ("ENCRYPTED PRIVATE KEY"): encrypted private keys are not read; "#
                    + "decrypt it (openssl pkey)"
            ),
            (
                KeyFileTests.pem("RSA PRIVATE KEY", [1, 2, 3]),
                #"PEM block 1 ("RSA PRIVATE KEY"): invalid RSA private key"#
            ),
        ]
        for (file, message) in cases {
            #expect(keyFileError(file) == message)
        }
    }

    @Test func marksOctKeysByUseAndAlg() throws {
        let secret = base64URL(EncryptionTestKeys.secret(32))
        func roles(_ jwk: String) throws -> (verifies: Bool, decrypts: Bool, unmarked: Bool) {
            let keys = try makeKeySet(jwk)
            return (!keys.keys.isEmpty, !keys.decryptionKeys.isEmpty, keys.keys.contains { $0.isUnmarked })
        }
        #expect(try roles(#"{"kty":"oct","k":"\#(secret)"}"#) == (true, true, true))
        #expect(try roles(#"{"kty":"oct","use":"sig","k":"\#(secret)"}"#) == (true, false, false))
        #expect(try roles(#"{"kty":"oct","alg":"HS256","k":"\#(secret)"}"#) == (true, false, false))
        #expect(try roles(#"{"kty":"oct","use":"enc","k":"\#(secret)"}"#) == (false, true, false))
        #expect(try roles(#"{"kty":"oct","alg":"A256KW","k":"\#(secret)"}"#) == (false, true, false))
        #expect(try roles(#"{"kty":"oct","alg":"dir","k":"\#(secret)"}"#) == (false, true, false))
        #expect(try roles(#"{"kty":"oct","alg":"A128CBC-HS256","k":"\#(secret)"}"#) == (false, true, false))
        #expect(try roles(#"{"kty":"oct","key_ops":["verify"],"k":"\#(secret)"}"#) == (true, false, false))
        #expect(try roles(#"{"kty":"oct","key_ops":["unwrapKey"],"k":"\#(secret)"}"#) == (false, true, false))
        #expect(try roles(#"{"kty":"oct","key_ops":["verify","decrypt"],"k":"\#(secret)"}"#) == (true, true, true))
        // An unmarked key counts once.
        #expect(try makeKeySet(#"{"kty":"oct","k":"\#(secret)"}"#).count == 1)
    }

    @Test func skipsPublicKeysMeantForEncrypting() throws {
        let publicX25519 =
            #"{"kty":"OKP","crv":"X25519","x":"\#(base64URL(EncryptionTestKeys.x25519.publicKey.rawRepresentation))"}"#
        let file = """
            {"keys":[\(TestKeys.rsaJWK(extra: #","use":"enc""#)),\(TestKeys.rsaJWK(extra: #","alg":"RSA-OAEP""#)),
                     \(publicX25519),\(TestKeys.p256JWK(extra: #","alg":"ECDH-ES""#)),\(TestKeys.ed25519JWK())]}
            """
        let keys = try makeKeySet(file)
        #expect(keys.count == 1)
        #expect(keys.decryptionKeys.isEmpty)
    }

    @Test func reportsBadDecryptionKeys() throws {
        let p256 = Array(EncryptionTestKeys.p256.publicKey.rawRepresentation)
        let otherD = base64URL(P256.KeyAgreement.PrivateKey().rawRepresentation)
        let otherX25519 = base64URL(Curve25519.KeyAgreement.PrivateKey().rawRepresentation)
        let x25519X = base64URL(EncryptionTestKeys.x25519.publicKey.rawRepresentation)
        let rsaJWK = EncryptionTestKeys.rsaJWK()
        var wrongPrime = try JSONSerialization.jsonObject(with: Data(rsaJWK.utf8)) as! [String: Any]
        wrongPrime["p"] = wrongPrime["q"]
        let wrongPrimeJWK = String(decoding: try JSONSerialization.data(withJSONObject: wrongPrime), as: UTF8.self)
        let cases: [(String, String)] = [
            (
                #"{"kty":"oct","use":"enc","k":"\#(base64URL(EncryptionTestKeys.secret(20)))"}"#,
                "the JWK: the decryption secret is 20 bytes; it must be 16, 24, 32, 48 or 64 bytes"
            ),
            (
                #"{"kty":"oct","alg":"A128KW","k":"\#(base64URL(EncryptionTestKeys.secret(32)))"}"#,
                "the JWK: the secret is 32 bytes; alg A128KW needs 16"
            ),
            (
                #"{"kty":"oct","alg":"A256GCM","k":"\#(base64URL(EncryptionTestKeys.secret(16)))"}"#,
                "the JWK: the secret is 16 bytes; alg A256GCM needs 32"
            ),
            (
                #"{"kty":"oct","use":"sig","alg":"A128KW","k":"AAAA"}"#,
                #"the JWK: alg A128KW does not fit "use": "sig""#
            ),
            (#"{"kty":"oct","use":"enc","alg":"HS256","k":"AAAA"}"#, #"the JWK: alg HS256 does not fit "use": "enc""#),
            (
                EncryptionTestKeys.rsaJWK(extra: #","alg":"RS256""#),
                #"the JWK: private key material ("d") in a signature verification key; give the public key only"#
            ),
            (EncryptionTestKeys.rsaJWK(extra: #","alg":"ECDH-ES""#), "the JWK: alg ECDH-ES does not fit the key type"),
            (
                EncryptionTestKeys.p256JWK(extra: #","alg":"RSA-OAEP""#),
                "the JWK: alg RSA-OAEP does not fit the key type"
            ),
            (EncryptionTestKeys.p256JWK(extra: #","alg":"A128GCM""#), "the JWK: alg A128GCM does not fit the key type"),
            (
                EncryptionTestKeys.p256JWK(extra: #","key_ops":["sign"]"#),
                #"the JWK: "key_ops" includes none of "decrypt", "unwrapKey", "deriveKey", "deriveBits""#
            ),
            (
                EncryptionTestKeys.ecJWK(
                    crv: "P-256",
                    publicKey: Data(p256),
                    privateKey: Data(Base64URL.decode(otherD.utf8)!)
                ),
                #"the JWK: the EC private key "d" does not match its public key ("x", "y")"#
            ),
            (
                #"{"kty":"OKP","crv":"X25519","x":"\#(x25519X)","d":"\#(otherX25519)"}"#,
                #"the JWK: the X25519 private key "d" does not match its public key "x""#
            ),
            (
                #"{"kty":"OKP","crv":"X448","x":"AAAA","d":"AAAA"}"#,
                #"the JWK: unsupported OKP curve "X448" for decryption"#
            ),
            (wrongPrimeJWK, "the JWK: the RSA private key is invalid (its members do not make one key)"),
        ]
        for (jwk, message) in cases {
            let error = keyFileError(jwk)
            #expect(error == message)
            // Never the private material.
            for secret in [otherD, otherX25519, base64URL(EncryptionTestKeys.secret(32))] {
                #expect(error?.contains(secret) != true)
            }
        }
    }

    // MARK: - Roles: a key serves one

    @Test func decryptionKeysNeverVerify() throws {
        // The same RSA and P-256 keys, private: they decrypt, and verify nothing they sign.
        let rsa = try _RSA.Signing.PrivateKey(derRepresentation: EncryptionTestKeys.rsa.derRepresentation)
        let keys = try makeKeySet(
            EncryptionTestKeys.rsaJWK(),
            EncryptionTestKeys.p256JWK(),
            EncryptionTestKeys.octJWK(32)
        )
        let rs256 = makeToken(header: #"{"alg":"RS256"}"#, payload: Self.claims) {
            Array(try! rsa.signature(for: SHA256.hash(data: $0), padding: .insecurePKCS1v1_5).rawRepresentation)
        }
        let signer = try P256.Signing.PrivateKey(rawRepresentation: EncryptionTestKeys.p256.rawRepresentation)
        let es256 = makeToken(header: #"{"alg":"ES256"}"#, payload: Self.claims) {
            Array(try! signer.signature(for: $0).rawRepresentation)
        }
        let hs256 = makeToken(
            header: #"{"alg":"HS256"}"#,
            payload: Self.claims,
            sign: TestKeys.hs256(EncryptionTestKeys.secret(32))
        )
        for token in [rs256, es256, hs256] {
            #expect(throws: VerificationError.noKeyForAlgorithm) { try verify(token, with: keys) }
            #expect(openingError(token, as: .signed, with: keys) == .noKeyForAlgorithm)
        }
        #expect(try open(Self.encrypt("RSA-OAEP"), as: .encrypted, with: keys).payload == Self.claims)
    }

    @Test func signingKeysNeverDecrypt() throws {
        let secret = base64URL(EncryptionTestKeys.secret(32))
        let keys = try makeKeySet(
            #"{"keys":[{"kty":"oct","use":"sig","k":"\#(secret)"},{"kty":"oct","alg":"HS256","k":"\#(secret)"},"#
                + #"\#(TestKeys.rsaJWK()),\#(TestKeys.p256JWK())]}"#
        )
        for token in [Self.encrypt("A256KW"), Self.encrypt("dir", "A256GCM"), Self.encrypt("A256GCMKW")] {
            #expect(openingError(token, as: .encrypted, with: keys) == .noKeyForEncryption)
        }
        // RSA-OAEP to the signing key's public half: the set holds no private key to decrypt it.
        let toSigningKey = try TokenEncrypter(
            .rsa(try _RSA.Encryption.PublicKey(derRepresentation: TestKeys.rsa.publicKey.derRepresentation)),
            algorithm: "RSA-OAEP",
            encryption: "A128GCM"
        ).encrypt(Data(Self.claims.utf8))
        #expect(openingError(toSigningKey, as: .encrypted, with: keys) == .noKeyForEncryption)
        let jws = makeToken(
            header: #"{"alg":"HS256"}"#,
            payload: Self.claims,
            sign: TestKeys.hs256(EncryptionTestKeys.secret(32))
        )
        #expect(try verify(jws, with: keys).payload == Self.claims)
    }

    /// An unmarked oct key verifies signed tokens and decrypts encrypted ones, and serves no part of a nested token.
    @Test func unmarkedKeysServeSignedAndEncryptedTokensButNoNestedOne() throws {
        let secret = EncryptionTestKeys.secret(32)
        let keys = try makeKeySet(#"{"kty":"oct","k":"\#(base64URL(secret))"}"#)
        let jws = makeToken(header: #"{"alg":"HS256"}"#, payload: Self.claims, sign: TestKeys.hs256(secret))
        #expect(try open(jws, as: .signed, with: keys).payload == Self.claims)
        let jwe = Self.encrypt("A256KW")
        #expect(try open(jwe, as: .encrypted, with: keys).payload == Self.claims)
        let nested = try JWEPair(algorithm: "A256KW", encryption: "A128GCM", curve: "").encrypter().nest(jws)
        #expect(openingError(nested, as: .nested, with: keys) == .noKeyForEncryption)
        // With a marked decryption key beside it, the inner JWS still finds no key.
        let withDecryption = try makeKeySet(
            #"{"kty":"oct","k":"\#(base64URL(secret))"}"#,
            EncryptionTestKeys.octJWK(32, extra: #","use":"enc""#)
        )
        #expect(openingError(nested, as: .nested, with: withDecryption) == .noKeyForAlgorithm)
    }

    @Test func pinsRestrictDecryptionKeys() throws {
        let sixteen = base64URL(EncryptionTestKeys.secret(16))
        let keyWrap = try makeKeySet(#"{"kty":"oct","alg":"A128KW","k":"\#(sixteen)"}"#)
        #expect(try open(Self.encrypt("A128KW"), as: .encrypted, with: keyWrap).payload == Self.claims)
        #expect(openingError(Self.encrypt("A128GCMKW"), as: .encrypted, with: keyWrap) == .noKeyForEncryption)
        #expect(openingError(Self.encrypt("dir"), as: .encrypted, with: keyWrap) == .noKeyForEncryption)

        let direct = try makeKeySet(#"{"kty":"oct","alg":"A128GCM","k":"\#(sixteen)"}"#)
        #expect(try open(Self.encrypt("dir"), as: .encrypted, with: direct).payload == Self.claims)
        #expect(openingError(Self.encrypt("A128KW"), as: .encrypted, with: direct) == .noKeyForEncryption)

        let oaep = try makeKeySet(EncryptionTestKeys.rsaJWK(extra: #","alg":"RSA-OAEP","kid":"r""#))
        #expect(try open(Self.encrypt("RSA-OAEP"), as: .encrypted, with: oaep).payload == Self.claims)
        #expect(openingError(Self.encrypt("RSA-OAEP-256"), as: .encrypted, with: oaep) == .noKeyForEncryption)
        #expect(
            openingError(Self.encrypt("RSA-OAEP-256", kid: "r"), as: .encrypted, with: oaep) == .keyIDEncryptionMismatch
        )

        let agreement = try makeKeySet(EncryptionTestKeys.p256JWK(extra: #","alg":"ECDH-ES+A128KW""#))
        #expect(
            try open(Self.encrypt("ECDH-ES+A128KW", curve: "P-256"), as: .encrypted, with: agreement).payload
                == Self.claims
        )
        #expect(
            openingError(Self.encrypt("ECDH-ES", curve: "P-256"), as: .encrypted, with: agreement)
                == .noKeyForEncryption
        )
    }

    @Test func selectsKeysByKid() throws {
        let keys = try makeKeySet(
            EncryptionTestKeys.octJWK(16, extra: #","use":"enc","kid":"a""#),
            #"{"kty":"oct","use":"enc","kid":"b","k":"\#(base64URL([UInt8](repeating: 0xB, count: 16)))"}"#
        )
        // Named: that key alone is tried.
        #expect(try open(Self.encrypt("A128KW", kid: "a"), as: .encrypted, with: keys).payload == Self.claims)
        let forB = try TokenEncrypter(
            .symmetric(Data(repeating: 0xB, count: 16)),
            algorithm: "A128KW",
            encryption: "A128GCM",
            keyID: "a"
        )
        .encrypt(Data(Self.claims.utf8))
        #expect(openingError(forB, as: .encrypted, with: keys) == .decryptionFailed)
        // Unnamed: every key that fits is tried.
        let unnamed = try TokenEncrypter(
            .symmetric(Data(repeating: 0xB, count: 16)),
            algorithm: "A128KW",
            encryption: "A128GCM"
        )
        .encrypt(Data(Self.claims.utf8))
        #expect(try open(unnamed, as: .encrypted, with: keys).payload == Self.claims)
        #expect(openingError(Self.encrypt("A128KW", kid: "c"), as: .encrypted, with: keys) == .unknownKeyID)
    }

    @Test func combinedSetsShareDecryptionKeys() throws {
        let signing = try makeKeySet(TestKeys.rsaJWK())
        let decrypting = try makeKeySet(EncryptionTestKeys.octJWK(16))
        signing.add(contentsOf: decrypting)
        #expect(signing.count == 2)
        #expect(try open(Self.encrypt("A128KW"), as: .encrypted, with: signing).payload == Self.claims)
    }

    @Test func namesUnknownKeyIDsOfEncryptedTokens() throws {
        let keys = try makeKeySet(
            EncryptionTestKeys.octJWK(16, extra: #","use":"enc","kid":"a""#),
            TestKeys.rsaJWK(extra: #","kid":"s""#)
        )
        let opener = TokenOpener(keys: keys)
        func lacks(_ token: String) -> Bool {
            Array(token.utf8).withUnsafeBytes { opener.namesUnknownKeyID($0) }
        }
        #expect(!lacks(Self.encrypt("A128KW", kid: "a")))
        #expect(lacks(Self.encrypt("A128KW", kid: "b")))
        // A JWE's kid is looked for among decryption keys only.
        #expect(lacks(Self.encrypt("A128KW", kid: "s")))
        #expect(!lacks(Self.encrypt("A128KW")))
        #expect(!lacks("a.b.c.d.e"))
        let jws = makeToken(header: #"{"alg":"RS256","kid":"a"}"#, payload: Self.claims, sign: TestKeys.rs256)
        #expect(lacks(jws))
    }

    // MARK: - Whether a set can serve a token type (nginx -t)

    @Test func saysWhichTypesASetCanServe() throws {
        let signing = try makeKeySet(TestKeys.rsaJWK())
        let decrypting = try makeKeySet(EncryptionTestKeys.rsaJWK())
        let both = try makeKeySet(TestKeys.rsaJWK(), EncryptionTestKeys.rsaJWK())
        let unmarked = try makeKeySet(TestKeys.hmacJWK())
        let unmarkedBeside = try makeKeySet(TestKeys.rsaJWK(), EncryptionTestKeys.rsaJWK(), TestKeys.hmacJWK())
        let marked = try makeKeySet(
            TestKeys.hmacJWK(extra: #","use":"sig""#),
            EncryptionTestKeys.octJWK(32, extra: #","use":"enc""#)
        )
        let empty = KeySet()

        let noSigning = #"no key for signature verification (a public key, or a JWK with "use": "sig")"#
        let noDecryption = #"no key for decryption (a private key, or an oct JWK with "use": "enc")"#
        let unmarkedMessage =
            #"oct keys without "use" serve both signatures and decryption, which nested tokens keep apart: "#
            + #"mark each oct key with "use": "sig" or "use": "enc""#
        let cases: [(KeySet, TokenType, String?)] = [
            (signing, .signed, nil), (signing, .encrypted, noDecryption),
            (signing, .nested, #"no key to decrypt the nested token (a private key, or an oct JWK with "use": "enc")"#),
            (decrypting, .signed, noSigning), (decrypting, .encrypted, nil),
            (
                decrypting, .nested,
                #"no key for the nested token's signature (a public key, or a JWK with "use": "sig")"#
            ),
            (both, .signed, nil), (both, .encrypted, nil), (both, .nested, nil),
            (unmarked, .signed, nil), (unmarked, .encrypted, nil), (unmarked, .nested, unmarkedMessage),
            (unmarkedBeside, .nested, unmarkedMessage),
            (marked, .signed, nil), (marked, .encrypted, nil), (marked, .nested, nil),
            (empty, .signed, noSigning), (empty, .encrypted, noDecryption),
        ]
        for (keys, type, problem) in cases {
            #expect(keys.problem(serving: type) == problem, "\(type)")
        }
    }
}
