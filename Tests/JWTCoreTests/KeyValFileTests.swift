import Crypto
import CryptoExtras
import Testing

@testable import JWTCore

/// A key set of a keyval file.
func makeKeyValSet(_ file: String) throws -> KeySet {
    let keys = KeySet()
    _ = try Array(file.utf8).withUnsafeBytes { try keys.add(keyValContentsOf: $0) }
    return keys
}

/// The error loading a keyval file throws, or `nil`.
func keyValError(_ file: String) -> String? {
    do {
        _ = try makeKeyValSet(file)
        return nil
    } catch {
        return (error as? KeyFileError)?.description ?? "\(error)"
    }
}

/// A JSON string holding `text`.
func jsonString(_ text: String) -> String {
    "\"" + text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n") + "\""
}

/// The reason a keyval member that is not a PEM public key is refused.
let notPEM = #"not a PEM public key (keyval holds PEM public keys only; give an HMAC secret as a JWKS "oct" key)"#

@Suite("Key files in kjdev's keyval format: key IDs and PEM public keys")
struct KeyValFileTests {
    static let rsaPEM = TestKeys.rsa.publicKey.pemRepresentation
    static let p256PEM = TestKeys.p256.publicKey.pemRepresentation

    @Test func eachKeyGetsItsMemberNameAsItsKeyID() throws {
        let file = #"{"r1":\#(jsonString(Self.rsaPEM)),"e\u0031":\#(jsonString(Self.p256PEM))}"#
        let keys = try makeKeyValSet(file)
        #expect(keys.count == 2)
        #expect(keys.keys.map { $0.keyID.map { String(decoding: $0, as: UTF8.self) } } == ["r1", "e1"])
        #expect(keys.keys.allSatisfy { $0.pinnedAlgorithm == nil })

        let es256 = makeToken(header: #"{"alg":"ES256","kid":"e1"}"#, payload: "{}", sign: TestKeys.es256)
        try verify(es256, with: keys)
        let rs256 = makeToken(header: #"{"alg":"RS256","kid":"r1"}"#, payload: "{}", sign: TestKeys.rs256)
        try verify(rs256, with: keys)
        // kid selects the key: the RSA key under the EC key's name does not verify.
        let misnamed = makeToken(header: #"{"alg":"RS256","kid":"e1"}"#, payload: "{}", sign: TestKeys.rs256)
        #expect(throws: VerificationError.self) { try verify(misnamed, with: keys) }
    }

    @Test func pkcs1AndEd25519KeysAreRead() throws {
        let ed25519 = KeyFileTests.pem(
            "PUBLIC KEY",
            KeyFileTests.ed25519SPKIPrefix + TestKeys.ed25519.publicKey.rawRepresentation
        )
        let file = #"{"a":\#(jsonString(TestKeys.rsa.publicKey.pkcs1PEMRepresentation)),"b":\#(jsonString(ed25519))}"#
        #expect(try makeKeyValSet(file).count == 2)
    }

    @Test(arguments: [
        ("", "the keyval file is not valid JSON: syntax error"),
        ("[]", "the keyval file is not a JSON object of key IDs and PEM public keys"),
        ("{}", "the keyval file holds no key"),
        (#"{"a":1,"a":2}"#, "the keyval file is not valid JSON: duplicate member name"),
        // kjdev: values are restricted to PEM public keys; HMAC secrets go in a JWKS "oct" key.
        (#"{"h":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}"#, #"key "h": "# + notPEM),
        (#"{"n":42}"#, #"key "n": "# + notPEM),
    ])
    func refuses(_ file: String, _ message: String) {
        #expect(keyValError(file) == message)
    }

    @Test func refusesPrivateKeysSeveralBlocksAndBadKeys() throws {
        let privateKey = jsonString(TestKeys.p256.pemRepresentation)
        #expect(keyValError(#"{"p":\#(privateKey)}"#)?.hasPrefix(#"key "p": PEM block 1"#) == true)
        #expect(keyValError(#"{"p":\#(privateKey)}"#)?.contains("private key") == true)
        let two = jsonString(Self.rsaPEM + "\n" + Self.p256PEM)
        #expect(keyValError(#"{"two":\#(two)}"#) == #"key "two": 2 PEM blocks; one public key per key ID"#)
        let broken = jsonString("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        #expect(keyValError(#"{"x":\#(broken)}"#)?.hasPrefix(#"key "x": "#) == true)
        // Nothing is added when a key is bad.
        let keys = try makeKeyValSet(#"{"r":\#(jsonString(Self.rsaPEM))}"#)
        let file = #"{"e":\#(jsonString(Self.p256PEM)),"x":\#(broken)}"#
        #expect(throws: KeyFileError.self) {
            _ = try Array(file.utf8).withUnsafeBytes { try keys.add(keyValContentsOf: $0) }
        }
        #expect(keys.count == 1)
    }

    @Test func aJWKSIsNotAKeyValFile() {
        #expect(
            keyValError(#"{"keys":[\#(TestKeys.hmacJWK())]}"#)?.hasPrefix(#"key "keys": not a PEM public key"#) == true
        )
    }
}
