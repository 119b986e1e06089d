import Testing

@testable import JWTCore

/// A compiled policy's own behaviour: several requirements in order, the one pass over each document, deep and
/// index paths, the JOSE header, member names with escapes, `match` left to the caller, and documents no verifier
/// would accept. (`ClaimRequirementTests` checks every operator of a one-requirement policy against
/// `ClaimRequirement`.)
@Suite struct ClaimPolicyTests {
    typealias Rule = (path: String, header: Bool, op: ClaimOperator, negated: Bool, expected: String?, json: Bool)

    /// Builds a policy of `rules` (`expected` nil: given per request as `given`) and checks it.
    func run(
        _ rules: [Rule],
        header: String = #"{"alg":"HS256","kid":"k1","meta":{"ver":3}}"#,
        payload: String,
        given: String = #""alice""#
    ) throws -> (first: Int, outcomes: [ClaimPolicy.Outcome], deferred: [String?]) {
        let policy = ClaimPolicy()
        for rule in rules {
            let path = try claimPath(rule.path)
            let requirement = ClaimRequirement(rule.op, negated: rule.negated)
            if let expected = rule.expected {
                try Array(expected.utf8).withUnsafeBytes {
                    try policy.add(path, onHeader: rule.header, requirement, expected: .literal($0, isJSON: rule.json))
                }
            } else {
                try policy.add(path, onHeader: rule.header, requirement, expected: .perRequest(isJSON: rule.json))
            }
        }
        var outcomes: [ClaimPolicy.Outcome] = []
        var deferred: [String?] = []
        let first = Array(header.utf8).withUnsafeBytes { header in
            Array(payload.utf8).withUnsafeBytes { payload in
                Array(given.utf8).withUnsafeBytes { given in
                    policy.check(header: header, payload: payload, perRequest: { _ in given }) { position, outcome, value in
                        #expect(position == outcomes.count, "reported in order")
                        outcomes.append(outcome)
                        deferred.append(value.map { String(decoding: $0, as: UTF8.self) })
                    }
                }
            }
        }
        return (first, outcomes, deferred)
    }

    static let payload = #"""
        {"iss":"https://a.example","sub":"alice","aud":["web","api"],"roles":["reader","editor"],
         "realm_access":{"roles":["ops"]},"n":5,"matrix":[[1,2],[3,4]],"email":"a\u0040example.com"}
        """#

    @Test func allHoldIsCount() throws {
        let result = try run(
            [
                ("iss", false, .in, false, #"["https://a.example","https://b.example"]"#, true),
                ("aud", false, .any, false, #"["api"]"#, true),
                ("roles", false, .any, false, #"["editor","ops"]"#, true),
                ("sub", false, .equal, false, "alice", false),
            ],
            payload: Self.payload
        )
        #expect(result.first == 4)
        #expect(result.outcomes == [.holds, .holds, .holds, .holds])
    }

    @Test func firstNotHoldingIsReportedAndTheRestStillChecked() throws {
        let result = try run(
            [
                ("sub", false, .equal, false, "alice", false),
                ("aud", false, .any, false, #"["mobile"]"#, true),
                ("n", false, .greaterThan, false, #""x""#, true),
                ("absent", false, .equal, true, "x", false),
                ("roles", false, .any, true, #"["admin"]"#, true),
            ],
            payload: Self.payload
        )
        #expect(result.first == 1)
        #expect(result.outcomes == [.holds, .fails, .invalid, .invalid, .holds])
    }

    @Test func deepAndIndexPathsAndSharedFirstMembers() throws {
        let result = try run(
            [
                (".realm_access.roles", false, .any, false, #"["ops"]"#, true),
                (".realm_access.missing", false, .equal, false, "x", false),
                (".matrix[1][0]", false, .equal, false, "3", true),
                (".matrix[2]", false, .equal, false, "3", true),
                ("[0]", false, .equal, false, "3", true),
                ("realm_access.roles", false, .equal, false, "x", false),
            ],
            payload: Self.payload
        )
        #expect(result.outcomes == [.holds, .invalid, .holds, .invalid, .invalid, .invalid])
    }

    @Test func headerAndPayloadAreSeparateDocuments() throws {
        let result = try run(
            [
                ("alg", true, .equal, false, "HS256", false),
                ("alg", false, .equal, false, "HS256", false),
                ("sub", true, .equal, false, "alice", false),
                (".meta.ver", true, .greaterThanOrEqual, false, "2", true),
            ],
            payload: Self.payload
        )
        #expect(result.outcomes == [.holds, .invalid, .invalid, .holds])
    }

    @Test func escapedMemberNamesAndValuesCompareDecoded() throws {
        let payload = #"{"\u0073ub":"al\u0069ce","r\u006fles":["\u0065ditor"],"e\\sc":"q\"uote"}"#
        let result = try run(
            [
                ("sub", false, .equal, false, "alice", false),
                ("roles", false, .any, false, #"["editor"]"#, true),
                ("roles", false, .in, false, #"[["editor"]]"#, true),
                (#"e\sc"#, false, .equal, false, #"q"uote"#, false),
            ],
            payload: payload
        )
        #expect(result.outcomes == [.holds, .holds, .holds, .holds])
    }

    @Test func matchIsDeferredWithTheEscapedString() throws {
        let result = try run(
            [
                ("email", false, .match, false, "anything", false),
                ("n", false, .match, false, "5", false),
                ("absent", false, .match, false, "x", false),
            ],
            payload: Self.payload
        )
        #expect(result.first == 0)
        #expect(result.outcomes == [.deferred, .invalid, .invalid])
        #expect(result.deferred == [#"a\u0040example.com"#, nil, nil])
    }

    @Test func perRequestValuesAreReadOnEachCheck() throws {
        let rule: Rule = ("sub", false, .equal, false, nil, true)
        #expect(try run([rule], payload: Self.payload, given: #""alice""#).outcomes == [.holds])
        #expect(try run([rule], payload: Self.payload, given: #""bob""#).outcomes == [.fails])
        #expect(try run([rule], payload: Self.payload, given: "alice").outcomes == [.invalid])
        #expect(try run([rule], payload: Self.payload, given: "").outcomes == [.invalid])
    }

    @Test func invalidLiteralsAreRefusedWhenAdded() throws {
        for text in [#"["a","a"#, #"{"a":1,"a":2}"#, "", "\u{0}", String(repeating: "1", count: 5000)] {
            #expect(throws: ClaimPolicy.InvalidExpected.self) {
                try run([("sub", false, .equal, false, text, true)], payload: Self.payload)
            }
        }
    }

    @Test func largeClaimArraysAreLeftToTheBounds() throws {
        let many = "[" + (0..<1100).map { "\"r\($0)\"" }.joined(separator: ",") + "]"
        let result = try run(
            [("roles", false, .any, false, #"["r1"]"#, true), ("roles", false, .any, true, #"["zz"]"#, true)],
            payload: #"{"roles":"# + many + "}"
        )
        #expect(result.outcomes == [.invalid, .invalid])
    }

    /// Documents no verifier would accept: the pass stays inside them and decides something, never traps.
    @Test(arguments: [
        "", "{", "[", "{\"sub\"", "{\"sub\":", "{\"sub\":\"al", "{\"sub\":[[[", "{\"sub\":tru", "{\"a\\",
        "{\"sub\":\"alice\"", "{,,,\"sub\":\"alice\"}", "{\"sub\" \"alice\"}", "\"sub\"", "nul", "{\"roles\":[\"a\",",
    ])
    func truncatedDocumentsNeverTrap(_ payload: String) throws {
        let result = try run(
            [("sub", false, .equal, false, "alice", false), ("roles", false, .any, false, #"["a"]"#, true)],
            payload: payload
        )
        #expect(result.outcomes.count == 2)
    }

    @Test func randomBytesNeverTrap() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]",:\ a1"#.utf8)
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<40, using: &generator)
            let bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            let result = try run(
                [("a", false, .equal, false, "1", true), (".a.b", false, .any, false, #"["x"]"#, true)],
                payload: String(decoding: bytes, as: UTF8.self)
            )
            #expect(result.outcomes.count == 2)
        }
    }
}
