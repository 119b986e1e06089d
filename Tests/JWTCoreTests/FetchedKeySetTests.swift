import Crypto
import CryptoExtras
import Testing

@testable import JWTCore

/// What a cache of fetched keys asks of key sets: an identity that a set built anew never shares, the union of key
/// files and fetched keys, and whether a refused token names a `kid` the keys lack (worth fetching them again).
@Suite("Key sets for fetched keys")
struct FetchedKeySetTests {
    static let rsaToken = makeToken(
        header: #"{"alg":"RS256","kid":"r1"}"#,
        payload: #"{"sub":"alice"}"#,
        sign: TestKeys.rs256
    )
    static let hmacToken = makeToken(
        header: #"{"alg":"HS256","kid":"h1"}"#,
        payload: #"{"sub":"bob"}"#,
        sign: TestKeys.hs256()
    )

    static func namesUnknownKeyID(_ token: String, in keys: KeySet) -> Bool {
        Array(token.utf8).withUnsafeBytes { Verifier(keys: keys).namesUnknownKeyID($0) }
    }

    @Test func everySetHasItsOwnIdentity() throws {
        let ids = try (0..<100).map { _ in try makeKeySet(TestKeys.hmacJWK()).id }
        #expect(Set(ids).count == ids.count)
        #expect(!ids.contains(0))
    }

    @Test func aUnionVerifiesWithTheKeysOfEveryPart() throws {
        let file = try makeKeySet(TestKeys.rsaJWK(extra: #","kid":"r1""#))
        let fetched = try makeKeySet(#"{"keys":[\#(TestKeys.hmacJWK(extra: #","kid":"h1""#))]}"#)
        let union = KeySet()
        union.add(contentsOf: file)
        union.add(contentsOf: fetched)

        #expect(union.count == 2)
        #expect(try verify(Self.rsaToken, with: union).payload == #"{"sub":"alice"}"#)
        #expect(try verify(Self.hmacToken, with: union).payload == #"{"sub":"bob"}"#)
        #expect(throws: VerificationError.unknownKeyID) { try verify(Self.hmacToken, with: file) }
        #expect(union.id != file.id && union.id != fetched.id)
    }

    @Test func aKidTheKeysLackIsUnknown() throws {
        let keys = try makeKeySet(#"{"keys":[\#(TestKeys.rsaJWK(extra: #","kid":"r1""#))]}"#)
        #expect(!Self.namesUnknownKeyID(Self.rsaToken, in: keys))
        #expect(Self.namesUnknownKeyID(Self.hmacToken, in: keys))
    }

    @Test func aKidIsKnownWhateverItsAlgorithm() throws {
        // The kid names a key, though that key cannot verify the token's alg: fetching again would not help.
        let keys = try makeKeySet(#"{"keys":[\#(TestKeys.rsaJWK(extra: #","kid":"h1""#))]}"#)
        #expect(!Self.namesUnknownKeyID(Self.hmacToken, in: keys))
    }

    @Test(arguments: [
        "",
        "not a token",
        "a.b",
        "a.b.c.d.e",
        base64URL(#"{"alg":"HS256"}"#) + ".e30.sig",
        base64URL(#"{"alg":"none","kid":"x"}"#) + ".e30.",
        base64URL(#"{"alg":"HS256","kid":7}"#) + ".e30.sig",
        base64URL(#"{"alg":"HS256","kid":"x","kid":"y"}"#) + ".e30.sig",
        base64URL(#"["alg","kid"]"#) + ".e30.sig",
        "!!!." + base64URL("{}") + ".sig",
    ])
    func aTokenWithoutAReadableKidIsNeverUnknown(token: String) throws {
        let keys = try makeKeySet(TestKeys.hmacJWK(extra: #","kid":"h1""#))
        #expect(!Self.namesUnknownKeyID(token, in: keys))
    }

    @Test func anOverlongTokenIsNeverUnknown() throws {
        let keys = try makeKeySet(TestKeys.hmacJWK(extra: #","kid":"h1""#))
        let header = base64URL(#"{"alg":"HS256","kid":"zz"}"#)
        let token = header + "." + String(repeating: "A", count: Verifier.maximumTokenLength) + ".sig"
        #expect(!Self.namesUnknownKeyID(token, in: keys))
        #expect(Self.namesUnknownKeyID(header + ".e30.sig", in: keys))
    }
}
