import Testing

@testable import JWTCore

/// Inputs the fuzz targets (Fuzz/) found mishandled, replayed through the functions the C API calls, one test per
/// finding. The crashing inputs themselves are in Fuzz/Regressions/, which `make fuzz-smoke` replays.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    // FuzzSignedToken and FuzzSession: JSON whitespace before a document's value (RFC 8259 §2 allows it) made the
    // header, the time claims and the session fields read the whitespace as the object's opening brace, so valid
    // documents that the validator had accepted were refused as "not a JSON object".

    static let whitespace = [" ", "\t", "\r\n", " \n\t "]

    @Test(arguments: whitespace)
    func headerWithLeadingWhitespace(_ space: String) throws {
        let keys = try makeKeySet(TestKeys.hmacJWK())
        let token = makeToken(header: space + #"{"alg":"HS256"}"#, payload: #"{"sub":"a"}"#, sign: TestKeys.hs256())
        let verified = try verify(token, with: keys)
        #expect(verified.header == space + #"{"alg":"HS256"}"#)
    }

    @Test(arguments: whitespace)
    func payloadWithLeadingWhitespaceKeepsTimeClaims(_ space: String) throws {
        let keys = try makeKeySet(TestKeys.hmacJWK())
        let live = makeToken(
            header: #"{"alg":"HS256"}"#,
            payload: space + #"{"exp":1300000100}"#,
            sign: TestKeys.hs256()
        )
        try verify(live, with: keys, now: 1_300_000_000)
        #expect(throws: VerificationError.expired) { try verify(live, with: keys, now: 1_300_000_100) }
    }

    @Test(arguments: whitespace)
    func sessionRecordWithLeadingWhitespace(_ space: String) {
        let record = space + #"{"last_access_time":1800000000,"session_idle_timeout":60}"#
        #expect(
            decide(record, now: 1_800_000_030)
                == .accepted(
                    updated: space + #"{"last_access_time":1800000030,"session_idle_timeout":60}"#,
                    expiresAt: nil
                )
        )
        #expect(decide(record, now: 1_800_000_061) == .refused(.idle))
    }

    @Test func enteringAContainerSkipsWhitespaceButNeedsAnOpener() throws {
        func enter(_ text: String) throws -> Int {
            try Array(text.utf8).withUnsafeBytes { (bytes) throws(JSONError) -> Int in
                var scanner = JSONScanner(bytes)
                return try scanner.enterContainer(nesting: 0)
            }
        }
        #expect(try enter(" \n{}") == 1)
        #expect(try enter("\t[1]") == 1)
        #expect(throws: JSONError.syntax) { try enter(#"  "a""#) }
        #expect(throws: JSONError.syntax) { try enter("   ") }
    }
}

@Suite("Fuzz regressions: key files")
struct FuzzKeyFileRegressionTests {
    // FuzzKeyFile: a file with "-----BEGIN " somewhere but no BEGIN line of a block was read as PEM holding no
    // key, and ajwt_keyset_add returned 0, which its contract rules out (at least 1 key, or -1 and a reason): nginx
    // took such a file as a valid, empty key file.
    @Test(arguments: [
        "-----BEGIN -----\n",
        "see -----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n",
        "--------\nMCowBQYD KEY-----\nM-----BEGIN PUBLIC KEY----CowBQYDKEY---\nMCow-_YDK2VwAyEA\n"
            + "-----END PUBLIC- KEY------\n-\n",
    ])
    func pemBoundaryWithoutBlockIsRefused(_ file: String) throws {
        let keys = KeySet()
        #expect(throws: KeyFileError.self) {
            _ = try Array(file.utf8).withUnsafeBytes { try keys.add(contentsOf: $0) }
        }
        #expect(keys.count == 0)
        #expect(keyFileError(file)?.contains("no PEM block") == true)
    }
}
