import Testing

@testable import JWTCore

/// A name set of the JSON text `object`.
func nameSet(_ object: String) throws(NameSetError) -> NameSet {
    let result = Array(object.utf8).withUnsafeBytes { text in
        Result { () throws(NameSetError) in try NameSet(object: text) }
    }
    return try result.get()
}

/// Checks `payload` against one `!in` requirement on `sub` (or `kid` in `header`) over `set`: a revocation list.
func revocation(
    _ set: NameSet,
    claim: String = "sub",
    onHeader: Bool = false,
    header: String = #"{"alg":"HS256","kid":"k1"}"#,
    payload: String
) throws -> ClaimPolicy.Outcome {
    let policy = ClaimPolicy()
    try policy.add(
        try claimPath(claim),
        onHeader: onHeader,
        ClaimRequirement(.in, negated: true),
        expected: .names(set)
    )
    var outcome = ClaimPolicy.Outcome.invalid
    _ = Array(header.utf8).withUnsafeBytes { header in
        Array(payload.utf8).withUnsafeBytes { payload in
            policy.check(header: header, payload: payload, perRequest: { _ in nil }) { _, result, _ in outcome = result
            }
        }
    }
    return outcome
}

@Suite("Name sets: the member names of a configuration file's object (revocation lists)")
struct NameSetTests {
    static let list = #"""
        {"lockedsub1":{"locked_at":"2023"},"lockedsub2":{"locked_reason":"bad user"},"caf\u00e9":1,
         "q\"uote":null,"":0,"lockedsub3":{"any_other_property":1}}
        """#

    @Test func holdsTheDecodedMemberNames() throws {
        let set = try nameSet(Self.list)
        #expect(set.count == 6)
        for name in ["lockedsub1", "lockedsub2", "lockedsub3", "café", #"q"uote"#, ""] {
            #expect(Array(name.utf8).withUnsafeBytes { set.contains($0) }, "\(name)")
        }
        for name in ["lockedsub", "lockedsub10", "LOCKEDSUB1", "locked_at", "cafe"] {
            #expect(!Array(name.utf8).withUnsafeBytes { set.contains($0) }, "\(name)")
        }
    }

    @Test(arguments: [
        ("", NameSetError.invalidJSON("syntax error")),
        ("{", .invalidJSON("syntax error")),
        (#"{"a":1,"a":2}"#, .invalidJSON("duplicate member name")),
        (#"{"a":1} x"#, .invalidJSON("data after the JSON value")),
        (#"["a"]"#, .notAnObject),
        (#""a""#, .notAnObject),
        ("1", .notAnObject),
    ])
    func refuses(_ text: String, _ error: NameSetError) {
        #expect(throws: error) { try nameSet(text) }
    }

    @Test func anEmptyObjectListsNothing() throws {
        let set = try nameSet("{}")
        #expect(set.count == 0)
        #expect(try revocation(set, payload: #"{"sub":"a"}"#) == .holds)
    }

    @Test func aRevocationListRefusesListedTokens() throws {
        let set = try nameSet(Self.list)
        #expect(try revocation(set, payload: #"{"sub":"lockedsub2"}"#) == .fails)
        // The claim is compared decoded.
        #expect(try revocation(set, payload: #"{"sub":"locked\u0073ub1"}"#) == .fails)
        #expect(try revocation(set, payload: #"{"sub":"caf\u00e9"}"#) == .fails)
        #expect(try revocation(set, payload: #"{"sub":"alice"}"#) == .holds)
        // No sub, or one that is not a string: refused, negation or not.
        #expect(try revocation(set, payload: #"{"iss":"x"}"#) == .invalid)
        #expect(try revocation(set, payload: #"{"sub":1}"#) == .invalid)
        #expect(try revocation(set, payload: #"{"sub":["lockedsub1"]}"#) == .invalid)
        // The kid list reads the header; a token without a kid is refused.
        #expect(
            try revocation(set, claim: "kid", onHeader: true, header: #"{"kid":"lockedsub3"}"#, payload: "{}") == .fails
        )
        #expect(try revocation(set, claim: "kid", onHeader: true, payload: "{}") == .holds)
        #expect(
            try revocation(set, claim: "kid", onHeader: true, header: #"{"alg":"HS256"}"#, payload: "{}") == .invalid
        )
    }

    @Test func aSetIsForInOnly() throws {
        let policy = ClaimPolicy()
        let set = try nameSet(Self.list)
        for op in [ClaimOperator.equal, .any, .match, .greaterThan] {
            #expect(throws: ClaimPolicy.InvalidExpected.self) {
                try policy.add(try claimPath("sub"), onHeader: false, ClaimRequirement(op), expected: .names(set))
            }
        }
        try policy.add(try claimPath("sub"), onHeader: false, ClaimRequirement(.in), expected: .names(set))
        #expect(policy.count == 1)
    }

    /// Far beyond the expected-value bounds (4096 bytes, 1024 members).
    @Test func aLargeListLoadsAndDecides() throws {
        let count = 100_000
        let object = "{" + (0..<count).map { #""user-\#($0)":1"# }.joined(separator: ",") + "}"
        let set = try nameSet(object)
        #expect(set.count == count)
        var refused = 0
        for index in stride(from: 0, to: 2 * count, by: 97) {
            let listed = Array("user-\(index)".utf8).withUnsafeBytes { set.contains($0) }
            #expect(listed == (index < count))
            refused += listed ? 1 : 0
        }
        #expect(refused == (count + 96) / 97)
        #expect(try revocation(set, payload: #"{"sub":"user-99999"}"#) == .fails)
        #expect(try revocation(set, payload: #"{"sub":"user-100000"}"#) == .holds)
    }
}
