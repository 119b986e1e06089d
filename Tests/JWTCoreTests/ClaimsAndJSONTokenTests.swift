import Testing

@testable import JWTCore

/// Strict JSON and time claims, through whole tokens: headers are checked before the signature, payloads after.
@Suite("Verifier: strict JSON and time claims")
struct ClaimsAndJSONTokenTests {
    static func token(header: String = #"{"alg":"HS256"}"#, payload: String) -> String {
        makeToken(header: header, payload: payload, sign: TestKeys.hs256())
    }

    static func check(_ token: String, now: Int64 = earlyNow, leeway: Int64 = 0) throws(VerificationError) {
        let keys = try! makeKeySet(TestKeys.hmacJWK())
        try verify(token, with: keys, now: now, leeway: leeway)
    }

    @Test(arguments: [
        (#"{"alg":"HS256","alg":"HS256"}"#, JSONError.duplicateMemberName),
        (#"{"alg":"HS256","\u0061lg":"HS256"}"#, .duplicateMemberName),
        (#"{"alg":"HS256","x":{"a":1,"a":2}}"#, .duplicateMemberName),
        (#"{"alg":"HS256"} x"#, .trailingData),
        (#"{"alg":"HS256"}{}"#, .trailingData),
        (#"{"alg":"HS256","x":NaN}"#, .syntax),
        (#"{"alg":"HS256","x":"\#u{1}"}"#, .controlCharacter),
        (#"{"alg":"HS256","x":"\uD800"}"#, .invalidEscape),
        (#"{"alg":"HS256","x":01}"#, .invalidNumber),
        (#"{"alg":"HS256",}"#, .syntax),
    ])
    func rejectsMalformedHeader(_ header: String, _ error: JSONError) {
        #expect(throws: VerificationError.malformedHeader(error)) {
            try Self.check(Self.token(header: header, payload: "{}"))
        }
    }

    @Test func rejectsInvalidUTF8InHeader() {
        let header: [UInt8] = Array(#"{"alg":"HS256","x":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8)
        let signingInput = base64URL(header) + "." + base64URL("{}")
        let token = signingInput + "." + base64URL(TestKeys.hs256()(Array(signingInput.utf8)))
        #expect(throws: VerificationError.malformedHeader(.invalidUTF8)) { try Self.check(token) }
    }

    @Test(arguments: [
        (#"{"sub":"a","sub":"b"}"#, JSONError.duplicateMemberName),
        (#"{"s\u0075b":"a","sub":"b"}"#, .duplicateMemberName),
        (#"{"exp":Infinity}"#, .syntax),
        (#"{"exp":+1}"#, .syntax),
        (#"{"a":1}garbage"#, .trailingData),
    ])
    func rejectsMalformedPayload(_ payload: String, _ error: JSONError) {
        #expect(throws: VerificationError.malformedPayload(error)) { try Self.check(Self.token(payload: payload)) }
    }

    @Test func limitsNestingTo32Levels() throws {
        func nested(_ depth: Int) -> String {
            #"{"a":"# + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
        }
        try Self.check(Self.token(payload: nested(32)))
        #expect(throws: VerificationError.malformedPayload(.tooDeep)) {
            try Self.check(Self.token(payload: nested(33)))
        }
    }

    @Test func rejectsPayloadThatIsNotAnObject() {
        #expect(throws: VerificationError.payloadNotObject) { try Self.check(Self.token(payload: "[1]")) }
    }

    @Test(arguments: [
        (#"{"exp":"2000000000"}"#, VerificationError.expirationNotNumber),
        (#"{"exp":null}"#, .expirationNotNumber),
        (#"{"exp":true}"#, .expirationNotNumber),
        (#"{"nbf":"0"}"#, .notBeforeNotNumber),
        (#"{"exp":1e400}"#, .expirationNotFinite),
        (#"{"nbf":-1e400}"#, .notBeforeNotFinite),
    ])
    func rejectsBadTimeClaims(_ payload: String, _ error: VerificationError) {
        #expect(throws: error) { try Self.check(Self.token(payload: payload)) }
    }

    @Test(arguments: [
        (now: Int64(999), leeway: Int64(0), accepted: true),
        (now: 1000, leeway: 0, accepted: false),
        (now: 1004, leeway: 5, accepted: true),
        (now: 1005, leeway: 5, accepted: false),
    ])
    func expiresAtExpPlusLeeway(now: Int64, leeway: Int64, accepted: Bool) throws {
        let token = Self.token(payload: #"{"exp":1000}"#)
        if accepted {
            try Self.check(token, now: now, leeway: leeway)
        } else {
            #expect(throws: VerificationError.expired) { try Self.check(token, now: now, leeway: leeway) }
        }
    }

    @Test(arguments: [
        (now: Int64(1000), leeway: Int64(0), accepted: true),
        (now: 999, leeway: 0, accepted: false),
        (now: 995, leeway: 5, accepted: true),
        (now: 994, leeway: 5, accepted: false),
    ])
    func isNotValidBeforeNbfMinusLeeway(now: Int64, leeway: Int64, accepted: Bool) throws {
        let token = Self.token(payload: #"{"nbf":1000}"#)
        if accepted {
            try Self.check(token, now: now, leeway: leeway)
        } else {
            #expect(throws: VerificationError.notYetValid) { try Self.check(token, now: now, leeway: leeway) }
        }
    }

    @Test func acceptsFractionalAndExponentTimes() throws {
        try Self.check(Self.token(payload: #"{"exp":1000.5,"nbf":9.995e2}"#), now: 1000)
        #expect(throws: VerificationError.expired) {
            try Self.check(Self.token(payload: #"{"exp":1000.5}"#), now: 1001)
        }
    }

    @Test func checksClaimsOnlyAfterTheSignature() {
        let token = makeToken(header: #"{"alg":"HS256"}"#, payload: #"{"exp":"soon"}"#) { _ in
            [UInt8](repeating: 0, count: 32)
        }
        #expect(throws: VerificationError.badSignature) { try Self.check(token) }
    }
}
