import Crypto
import CryptoExtras
import Foundation
import JWTIssuer
import Testing

@testable import JWTCore

/// One alg/enc pair (and curve, for ECDH-ES) the encrypter and the decrypter both support.
struct JWEPair: CustomTestStringConvertible, Sendable {
    let algorithm: String
    let encryption: String
    /// For ECDH-ES: "P-256", "P-384", "P-521" or "X25519".
    let curve: String

    var testDescription: String { "\(self.algorithm)\(self.curve.isEmpty ? "" : " \(self.curve)") \(self.encryption)" }

    static let encryptions = ["A128GCM", "A192GCM", "A256GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512"]

    static let all: [JWEPair] = {
        let plain = [
            "dir", "A128KW", "A192KW", "A256KW", "A128GCMKW", "A192GCMKW", "A256GCMKW", "RSA-OAEP", "RSA-OAEP-256",
        ]
        let agreements = ["ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"]
        var pairs: [JWEPair] = []
        for encryption in encryptions {
            pairs += plain.map { JWEPair(algorithm: $0, encryption: encryption, curve: "") }
            for curve in ["P-256", "P-384", "P-521", "X25519"] {
                pairs += agreements.map { JWEPair(algorithm: $0, encryption: encryption, curve: curve) }
            }
        }
        return pairs
    }()

    /// The recipient's key as the encrypter takes it, read from the same private JWK the module loads.
    func encryptionKey() throws -> EncryptionKey {
        let jwk: String
        switch self.curve {
        case "P-256": jwk = EncryptionTestKeys.p256JWK()
        case "P-384": jwk = EncryptionTestKeys.p384JWK()
        case "P-521": jwk = EncryptionTestKeys.p521JWK()
        case "X25519": jwk = EncryptionTestKeys.x25519JWK()
        default: return EncryptionTestKeys.encryptionKey(for: self.algorithm, encryption: self.encryption)
        }
        let object = try JSONSerialization.jsonObject(with: Data(jwk.utf8)) as? [String: Any] ?? [:]
        return try EncryptionKey(jwk: object)
    }

    func encrypter(keyID: String? = nil) throws -> TokenEncrypter {
        try TokenEncrypter(
            try self.encryptionKey(),
            algorithm: self.algorithm,
            encryption: self.encryption,
            keyID: keyID
        )
    }
}

@Suite("JWE: the encrypter and the decrypter agree on every pair")
struct JWERoundTripTests {
    static let claims = #"{"sub":"round-trip","exp":1400000000,"scope":["a","b"]}"#

    /// The decryption keys (every type and secret length) and the signing keys of nested tokens.
    nonisolated(unsafe) static let keys: KeySet = try! makeKeySet(
        EncryptionTestKeys.jwks,
        #"{"keys":[\#(TestKeys.rsaJWK(extra: #","use":"sig""#)),\#(TestKeys.p256JWK(extra: #","use":"sig""#))]}"#
    )

    @Test func coversEveryPair() {
        #expect(JWEPair.all.count == 6 * (9 + 4 * 4))
    }

    @Test(arguments: JWEPair.all)
    func encryptedClaimsOpen(_ pair: JWEPair) throws {
        let token = try pair.encrypter().encrypt(Data(Self.claims.utf8))
        let opened = try open(token, as: .encrypted, with: Self.keys)
        #expect(opened.payload == Self.claims)
        #expect(opened.header.contains(#""alg":"\#(pair.algorithm)""#))
    }

    @Test(arguments: JWEPair.all)
    func nestedTokensOpen(_ pair: JWEPair) throws {
        let sign = pair.encryption.hasSuffix("GCM") ? TestKeys.rs256 : TestKeys.es256
        let algorithm = pair.encryption.hasSuffix("GCM") ? "RS256" : "ES256"
        let jws = makeToken(header: #"{"alg":"\#(algorithm)","typ":"JWT"}"#, payload: Self.claims, sign: sign)
        let token = try pair.encrypter().nest(jws)
        let opened = try open(token, as: .nested, with: Self.keys)
        #expect(opened.header == #"{"alg":"\#(algorithm)","typ":"JWT"}"#)
        #expect(opened.payload == Self.claims)
    }

    /// apu and apv (RFC 7518 §4.6.1.2) enter the Concat KDF decoded (the Crypt::JWT fixtures check the same against
    /// an independent KDF), here with a KDF of two rounds.
    @Test(arguments: JWEPair.all.filter { $0.algorithm.hasPrefix("ECDH-ES") && $0.encryption == "A256CBC-HS512" })
    func partyInfoIsBound(_ pair: JWEPair) throws {
        let token = try pair.encrypter().encrypt(
            Data(Self.claims.utf8),
            partyUInfo: Data("Alice".utf8),
            partyVInfo: Data([0, 1, 2, 255])
        )
        #expect(try open(token, as: .encrypted, with: Self.keys).payload == Self.claims)
    }

    @Test func keysLoadFromPEMToo() throws {
        let rsa = try EncryptionKey(pem: PEMBlock.all(in: EncryptionTestKeys.rsa.pemRepresentation)[0])
        let p384 = try EncryptionKey(pem: PEMBlock.all(in: EncryptionTestKeys.p384.publicKey.pemRepresentation)[0])
        let x25519 = try EncryptionKey(pem: PEMBlock.all(in: EncryptionTestKeys.x25519.publicKey.pemRepresentation)[0])
        for (key, algorithm) in [(rsa, "RSA-OAEP-256"), (p384, "ECDH-ES+A192KW"), (x25519, "ECDH-ES")] {
            let token = try TokenEncrypter(key, algorithm: algorithm, encryption: "A128GCM").encrypt(
                Data(Self.claims.utf8)
            )
            #expect(try open(token, as: .encrypted, with: Self.keys).payload == Self.claims)
        }
    }

    /// The encrypter reads the recipient's key (its public part) from a JWKS file, by kid.
    @Test func loadsTheRecipientsKeyFromAFile() throws {
        let path = Fixtures.directory.appendingPathComponent("jwe-keys.json").path
        for kid in ["p384-enc", "rsa-enc", "oct-24", "x25519-enc"] {
            let loaded = try LoadedEncryptionKey(file: path, kid: kid)
            #expect(loaded.kid == kid)
            let algorithm = try #require(loaded.key.algorithms.last)
            let token = try TokenEncrypter(loaded.key, algorithm: algorithm, encryption: "A256GCM", keyID: loaded.kid)
                .encrypt(Data(Self.claims.utf8))
            #expect(try open(token, as: .encrypted, with: JWEFixtureTests.keys).payload == Self.claims)
        }
        #expect(throws: SigningKeyError.self) { try LoadedEncryptionKey(file: path, kid: "nobody") }
    }

    @Test func theEncrypterRefusesPairsItsKeyCannotServe() throws {
        #expect(throws: SigningKeyError.self) {
            try TokenEncrypter(.symmetric(Data(count: 16)), algorithm: "A256KW", encryption: "A128GCM")
        }
        #expect(throws: SigningKeyError.self) {
            try TokenEncrypter(.symmetric(Data(count: 16)), algorithm: "dir", encryption: "A256GCM")
        }
        #expect(throws: SigningKeyError.self) {
            try TokenEncrypter(.rsa(EncryptionTestKeys.rsa.publicKey), algorithm: "ECDH-ES", encryption: "A128GCM")
        }
        #expect(throws: SigningKeyError.self) {
            try TokenEncrypter(.rsa(EncryptionTestKeys.rsa.publicKey), algorithm: "RSA1_5", encryption: "A128GCM")
        }
        #expect(throws: SigningKeyError.self) {
            try TokenEncrypter(.symmetric(Data(count: 16)), algorithm: "A128KW", encryption: "A128CTR")
        }
    }
}
