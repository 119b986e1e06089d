import Testing

@testable import JWTCore

/// `Verifier.readTimeClaims` once and `TimeClaims.check` on every hit, the check the module's token cache runs instead
/// of a full verification: on a payload that verified, it must come to the verification's verdict at every instant
/// and leeway.
@Suite("Cached tokens: time claims checked again")
struct CachedTimeClaimsTests {
    static let payloads = [
        #"{"sub":"alice"}"#,
        #"{"sub":"alice","exp":1000}"#,
        #"{"nbf":1000,"sub":"alice"}"#,
        #"{"exp":1000.5,"nbf":9.995e2}"#,
        #"{"nbf":990,"exp":1010,"nested":{"exp":1,"nbf":5000},"list":[{"exp":1}]}"#,
        #"{"exp":-1}"#,
        #"{"exp":1e300}"#,
    ]

    @Test(arguments: Self.payloads)
    func agreesWithFullVerification(_ payload: String) throws {
        let keys = try makeKeySet(TestKeys.hmacJWK())
        let token = makeToken(header: #"{"alg":"HS256"}"#, payload: payload, sign: TestKeys.hs256())
        for now: Int64 in [0, 980, 995, 999, 1000, 1001, 1009, 1010, 1011, 5000, .max, .min] {
            for leeway: Int64 in [0, 1, 10, 60, .max] {
                let full = Result { () throws(VerificationError) in
                    try verify(token, with: keys, now: now, leeway: leeway)
                }
                let cached = Result { () throws(VerificationError) in
                    try Self.check(payload, now: now, leeway: leeway)
                }
                switch (full, cached) {
                case (.success, .success):
                    break
                case (.failure(let full), .failure(let cached)):
                    #expect(full == cached, "\(payload) now \(now) leeway \(leeway)")
                default:
                    Issue.record("\(payload) now \(now) leeway \(leeway): verify \(full), cached \(cached)")
                }
            }
        }
    }

    @Test func nestedTimeClaimsAreNotTheToken() throws {
        // Only the top-level members are the token's exp and nbf.
        try Self.check(#"{"a":{"exp":1},"b":[{"nbf":9999}]}"#, now: 1000, leeway: 0)
    }

    @Test(arguments: [
        ("", VerificationError.malformedPayload(.syntax)),
        ("[]", .payloadNotObject),
        (#"{"exp":1000"#, .malformedPayload(.syntax)),
        (#"{"exp":"1000"}"#, .expirationNotNumber),
        (#"{"nbf":null}"#, .notBeforeNotNumber),
        (#"{} x"#, .malformedPayload(.trailingData)),
    ])
    func refusesWhatVerificationWouldHaveRefused(_ payload: String, _ error: VerificationError) {
        #expect(throws: error) { try Self.check(payload, now: 0, leeway: 0) }
    }

    static func check(_ payload: String, now: Int64, leeway: Int64) throws(VerificationError) {
        let result = Array(payload.utf8).withUnsafeBytes { payload in
            Result { () throws(VerificationError) in try TimeClaims.check(Verifier.readTimeClaims(payload), now: now, leeway: leeway) }
        }
        try result.get()
    }
}
