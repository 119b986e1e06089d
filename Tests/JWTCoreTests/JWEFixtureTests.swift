import Foundation
import Testing

@testable import JWTCore

/// One token of Fixtures/jwe-tokens.json, minted by Perl's Crypt::JWT (make-jwe-fixtures.pl).
struct CryptJWTToken: CustomTestStringConvertible, Sendable {
    let type: String
    let algorithm: String
    let encryption: String
    let curve: String
    let namesKey: Bool
    let signer: String
    let claims: String
    let token: String

    var testDescription: String {
        "\(self.type) \(self.algorithm)\(self.curve.isEmpty ? "" : " \(self.curve)") \(self.encryption)"
            + (self.namesKey ? " kid" : "") + (self.signer.isEmpty ? "" : " in \(self.signer)")
    }

    static let all: [CryptJWTToken] = {
        let tokens = (try? Fixtures.json("jwe-tokens.json"))?["tokens"] as? [[String: Any]] ?? []
        return tokens.map {
            CryptJWTToken(
                type: $0["type"] as? String ?? "",
                algorithm: $0["alg"] as? String ?? "",
                encryption: $0["enc"] as? String ?? "",
                curve: $0["curve"] as? String ?? "",
                namesKey: $0["kid"] as? Bool ?? false,
                signer: $0["signer"] as? String ?? "",
                claims: $0["claims"] as? String ?? "",
                token: $0["token"] as? String ?? ""
            )
        }
    }()
}

@Suite("JWE: tokens from an independent implementation (Crypt::JWT)")
struct JWEFixtureTests {
    /// The recipient's decryption keys and the signer's public keys, as a location would load them.
    nonisolated(unsafe) static let keys: KeySet = {
        try! makeKeySet(try! Fixtures.text("jwe-keys.json"), try! Fixtures.text("jws-keys.json"))
    }()

    @Test func everyAlgorithmAndEncryptionIsCovered() {
        let pairs = Set(CryptJWTToken.all.map { "\($0.type) \($0.algorithm) \($0.encryption)" })
        // 13 algs by 6 encs, encrypted and nested.
        #expect(pairs.count == 13 * 6 * 2)
        #expect(CryptJWTToken.all.count == 252)
    }

    @Test(arguments: CryptJWTToken.all)
    func opensTheToken(_ fixture: CryptJWTToken) throws {
        let type: TokenType = fixture.type == "nested" ? .nested : .encrypted
        let opened = try open(fixture.token, as: type, with: Self.keys)
        #expect(opened.payload == fixture.claims)
        if type == .nested {
            #expect(opened.header.contains(#""kid":"\#(fixture.signer)""#))
            // Nested tokens are refused where encrypted ones are expected, and the other way round.
            #expect(openingError(fixture.token, as: .encrypted, with: Self.keys) == .nestedNotEncrypted)
        } else {
            #expect(opened.header.contains(#""enc":"\#(fixture.encryption)""#))
            #expect(openingError(fixture.token, as: .nested, with: Self.keys) == .notNested)
        }
        #expect(openingError(fixture.token, as: .signed, with: Self.keys) == .encryptedToken)
    }

    /// A token opens with its own key only: the same keys, regenerated, decrypt none of them.
    @Test(arguments: CryptJWTToken.all.filter { $0.type == "encrypted" && $0.namesKey })
    func opensWithNoOtherKey(_ fixture: CryptJWTToken) throws {
        #expect(openingError(fixture.token, as: .encrypted, with: try makeKeySet(Self.otherKeys)) == .decryptionFailed)
    }

    /// Keys with the fixtures' kids and types but other material.
    static let otherKeys: String = {
        let jwks = try! Fixtures.json("jwe-keys.json")
        let kids = (jwks["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }
        let replacements: [String: String] = [
            "oct-16": EncryptionTestKeys.octJWK(16, extra: #","use":"enc","kid":"oct-16""#),
            "oct-24": EncryptionTestKeys.octJWK(24, extra: #","use":"enc","kid":"oct-24""#),
            "oct-32": EncryptionTestKeys.octJWK(32, extra: #","use":"enc","kid":"oct-32""#),
            "oct-48": EncryptionTestKeys.octJWK(48, extra: #","use":"enc","kid":"oct-48""#),
            "oct-64": EncryptionTestKeys.octJWK(64, extra: #","use":"enc","kid":"oct-64""#),
            "rsa-enc": EncryptionTestKeys.rsaJWK(extra: #","kid":"rsa-enc""#),
            "p256-enc": EncryptionTestKeys.p256JWK(extra: #","kid":"p256-enc""#),
            "p384-enc": EncryptionTestKeys.p384JWK(extra: #","kid":"p384-enc""#),
            "p521-enc": EncryptionTestKeys.p521JWK(extra: #","kid":"p521-enc""#),
            "x25519-enc": EncryptionTestKeys.x25519JWK(extra: #","kid":"x25519-enc""#),
        ]
        return #"{"keys":[\#(kids.compactMap { replacements[$0] }.joined(separator: ","))]}"#
    }()
}
