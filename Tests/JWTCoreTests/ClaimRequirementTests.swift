import Testing

@testable import JWTCore

/// Checks `requirement` on the claim `v` of a payload whose value is `claim` (`nil`: the payload has no `v`).
fileprivate func check(
    _ claim: String?,
    _ requirement: ClaimRequirement,
    _ expected: [UInt8],
    json: Bool = true
) throws -> RequirementOutcome {
    let payload = claim.map { #"{"iss":"x","v":"# + $0 + "}" } ?? #"{"iss":"x"}"#
    // The payload stands for one verification accepted.
    _ = try withValidatedSpan(payload) { $0 }
    let path = try claimPath(".v")
    return Array(payload.utf8).withUnsafeBytes { document in
        expected.withUnsafeBytes { expected in
            let outcome = requirement.check(path, in: document, against: expected, expectedIsJSON: json)
            // A literal validated once at configuration time must decide exactly as one scanned per request.
            if json && ClaimRequirement.isValidExpected(expected) {
                let validated = requirement.check(
                    path,
                    in: document,
                    against: expected,
                    expectedIsJSON: true,
                    expectedIsValidated: true
                )
                #expect(validated == outcome, "validated once: \(validated), scanned: \(outcome)")
            }
            // A compiled policy (a literal, and the same value per request) decides exactly as the requirement.
            if requirement.operator != .match {
                #expect(policyOutcome(path, requirement, document, expected, json: json, perRequest: true) == outcome)
                if let literal = policyOutcome(path, requirement, document, expected, json: json, perRequest: false) {
                    #expect(literal == outcome, "compiled literal: \(literal), requirement: \(outcome)")
                }
            }
            return outcome
        }
    }
}

/// The outcome of `requirement` as the only one of a `ClaimPolicy`, its expected value a literal or given per
/// request; `nil` when the policy refuses the literal.
fileprivate func policyOutcome(
    _ path: ClaimPath,
    _ requirement: ClaimRequirement,
    _ document: UnsafeRawBufferPointer,
    _ expected: UnsafeRawBufferPointer,
    json: Bool,
    perRequest: Bool
) -> RequirementOutcome? {
    let policy = ClaimPolicy()
    do {
        try policy.add(
            path,
            onHeader: false,
            requirement,
            expected: perRequest ? .perRequest(isJSON: json) : .literal(expected, isJSON: json)
        )
    } catch {
        return nil
    }
    var result: ClaimPolicy.Outcome?
    let first = policy.check(header: UnsafeRawBufferPointer(start: nil, count: 0), payload: document,
        perRequest: { _ in expected }, report: { _, outcome, _ in result = outcome })
    #expect((first == 0) == (result != .holds))
    switch result {
    case .holds: return .holds
    case .fails: return .fails
    default: return .invalid
    }
}

fileprivate func check(
    _ claim: String?,
    _ op: ClaimOperator,
    negated: Bool = false,
    _ expected: String,
    json: Bool = true
) throws -> RequirementOutcome {
    try check(claim, ClaimRequirement(op, negated: negated), Array(expected.utf8), json: json)
}

/// One JSON value of each kind the rules tell apart.
struct Sample: CustomTestStringConvertible, Sendable {
    let kind: String
    let json: String

    var testDescription: String { "\(self.kind) \(self.json)" }

    var isNumber: Bool { self.kind == "integer" || self.kind == "real" }

    static let all = [
        Sample(kind: "string", json: #""admin""#), Sample(kind: "integer", json: "5"),
        Sample(kind: "real", json: "5.5"), Sample(kind: "true", json: "true"), Sample(kind: "false", json: "false"),
        Sample(kind: "null", json: "null"), Sample(kind: "array", json: #"["admin","user"]"#),
        Sample(kind: "object", json: #"{"admin":1}"#),
    ]

    static let pairs = all.flatMap { claim in all.map { (claim, $0) } }
}

/// The operators `ClaimRequirement` runs (`match` is the caller's).
let comparingOperators: [ClaimOperator] = [
    .equal, .greaterThan, .greaterThanOrEqual, .lessThan, .lessThanOrEqual, .in, .any,
]

extension RequirementOutcome {
    var negated: RequirementOutcome {
        switch self {
        case .holds: return .fails
        case .fails: return .holds
        case .invalid: return .invalid
        }
    }
}

@Suite("Claim requirements: operator x kind x negation")
struct ClaimRequirementMatrixTests {
    @Test(arguments: comparingOperators, Sample.pairs)
    func negationFlipsOnlyAnAnswer(_ op: ClaimOperator, _ pair: (Sample, Sample)) throws {
        let plain = try check(pair.0.json, op, pair.1.json)
        let negated = try check(pair.0.json, op, negated: true, pair.1.json)
        #expect(negated == plain.negated)
    }

    @Test(arguments: Sample.all, Sample.all)
    func equalityIsTotalAndKindsNeverEqualEachOther(_ claim: Sample, _ expected: Sample) throws {
        let equal = claim.kind == expected.kind
        #expect(try check(claim.json, .equal, expected.json) == (equal ? .holds : .fails))
        #expect(try check(claim.json, .equal, negated: true, expected.json) == (equal ? .fails : .holds))
    }

    @Test(arguments: [ClaimOperator.greaterThan, .greaterThanOrEqual, .lessThan, .lessThanOrEqual], Sample.pairs)
    func orderingNeedsTwoNumbers(_ op: ClaimOperator, _ pair: (Sample, Sample)) throws {
        let outcome = try check(pair.0.json, op, pair.1.json)
        if pair.0.isNumber && pair.1.isNumber {
            #expect(outcome != .invalid)
        } else {
            #expect(outcome == .invalid)
            #expect(try check(pair.0.json, op, negated: true, pair.1.json) == .invalid)
        }
    }

    @Test(arguments: Sample.pairs)
    func inNeedsAnArrayOrAnObjectNamedByAString(_ pair: (Sample, Sample)) throws {
        let (claim, expected) = pair
        let outcome = try check(claim.json, .in, expected.json)
        switch expected.kind {
        case "array":
            #expect(outcome == (claim.json == #""admin""# ? .holds : .fails))
        case "object":
            #expect(outcome == (claim.kind == "string" ? .holds : .invalid))
        default:
            #expect(outcome == .invalid)
        }
    }

    @Test(arguments: Sample.pairs)
    func anyNeedsAnArray(_ pair: (Sample, Sample)) throws {
        let (claim, expected) = pair
        let outcome = try check(claim.json, .any, expected.json)
        if expected.kind == "array" {
            // ["admin","user"] shares "admin" with itself; the string "admin" is one of its elements.
            #expect(outcome == (claim.kind == "array" || claim.kind == "string" ? .holds : .fails))
        } else {
            #expect(outcome == .invalid)
        }
    }

    @Test(arguments: comparingOperators + [.match], [false, true])
    func anAbsentClaimIsInvalid(_ op: ClaimOperator, _ negated: Bool) throws {
        #expect(try check(nil, op, negated: negated, "1") == .invalid)
        #expect(try check(nil, op, negated: negated, "x", json: false) == .invalid)
    }

    @Test(arguments: Sample.all, [false, true])
    func matchIsTheCallers(_ claim: Sample, _ negated: Bool) throws {
        #expect(try check(claim.json, .match, negated: negated, #""admin""#) == .invalid)
        #expect(try check(claim.json, .match, negated: negated, "admin", json: false) == .invalid)
    }
}

@Suite("Claim requirements: kjdev's operators and examples")
struct ClaimRequirementTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let claim: String
        let op: ClaimOperator
        let expected: String
        let json: Bool
        let outcome: RequirementOutcome

        init(
            _ claim: String,
            _ op: ClaimOperator,
            _ expected: String,
            json: Bool = true,
            _ outcome: RequirementOutcome
        ) {
            self.claim = claim
            self.op = op
            self.expected = expected
            self.json = json
            self.outcome = outcome
        }

        var testDescription: String { "\(self.claim) \(self.op) \(self.expected)\(self.json ? "" : " (plain)")" }
    }

    @Test(arguments: [
        // kjdev t/auth_jwt_require_claim_eq.t: variables hold JSON.
        Case(#""John Doe""#, .equal, #""John Doe""#, .holds),
        Case(#""1234567890""#, .equal, #""1234567890""#, .holds),
        Case("1516239022", .equal, "1516239022", .holds),
        Case(#"["admin","service"]"#, .equal, #"  ["admin",   "service"]  "#, .holds),
        Case(#""John Doe""#, .equal, #""Not John Doe""#, .fails),
        Case("1516239022", .equal, "111", .fails),
        Case(#"["admin","service"]"#, .equal, #"["user"]"#, .fails),
        Case(#"["admin","service"]"#, .equal, #"["service","admin"]"#, .fails),
        // A plain string is a JSON string of those bytes.
        Case(#""test2.identifier""#, .equal, "test2.identifier", json: false, .holds),
        Case(#""caf\u00e9""#, .equal, "café", json: false, .holds),
        Case(#""a\"b""#, .equal, #"a"b"#, json: false, .holds),
        Case("3949117906", .equal, "3949117906", json: false, .fails),
        Case(#""1""#, .equal, "1", json: false, .holds),
        Case("null", .equal, "null", json: false, .fails),
        Case(#"["a"]"#, .equal, #"["a"]"#, json: false, .fails),
        // Numbers: an integer never equals a real (rule 1).
        Case("1", .equal, "1.0", .fails), Case("1.0", .equal, "1.00", .holds), Case("-0", .equal, "0", .holds),
        // Objects in any member order (rule 4); strings after unescaping (rule 2).
        Case(#"{"a":1,"b":[1,2]}"#, .equal, #"{"b":[1,2],"a":1}"#, .holds),
        Case(#""\u00e9""#, .equal, #""é""#, .holds),
        // kjdev t/auth_jwt_require_claim_gt.t (iat 1516239022, then the real 1516239022.1234).
        Case("1516239022", .greaterThan, "1", .holds),
        Case("1516239022", .greaterThan, #""1""#, .invalid),
        Case("1516239022", .greaterThan, "9516239022", .fails),
        Case("1516239022", .greaterThan, "1516239022", .fails),
        Case("1516239022.1234", .greaterThan, "1", .holds),
        Case("1516239022.1234", .greaterThan, "1", json: false, .invalid),
        Case("1516239022.1234", .greaterThan, "9516239022", .fails),
        Case("1516239022.1234", .greaterThan, "1516239022", .holds),
        Case("1516239022.1234", .greaterThan, "1516239023", .fails),
        // ge, lt, le, across integers and reals by exact value.
        Case("5", .greaterThanOrEqual, "5", .holds), Case("5", .greaterThanOrEqual, "5.0", .holds),
        Case("5", .greaterThanOrEqual, "5.01", .fails), Case("5", .lessThan, "5", .fails),
        Case("-1", .lessThan, "0", .holds), Case("5", .lessThanOrEqual, "4.99", .fails),
        Case("5", .lessThanOrEqual, "5e0", .holds), Case("9007199254740993", .greaterThan, "9007199254740992", .holds),
        Case("1697461110", .lessThan, "1697461112", .holds),
        // Strings, booleans, null are not ordered.
        Case(#""b""#, .greaterThan, #""a""#, .invalid), Case("true", .greaterThan, "false", .invalid),
        Case("null", .lessThan, "1", .invalid), Case("1", .lessThan, "null", .invalid),
        Case("[1]", .lessThan, "[2]", .invalid),
        // kjdev t/auth_jwt_require_claim_in.t.
        Case(#""John Doe""#, .in, #"["John Doe","John Doe2"]"#, .holds),
        Case(#""John Doe""#, .in, #"["John Doe5", "John Doe2" , "John Doe3"]"#, .fails),
        Case(#""John Doe""#, .in, #""just string""#, .invalid),
        Case(#""admin""#, .in, #"{"admin":{"x":1},"root":null}"#, .holds),
        Case(#""nobody""#, .in, #"{"admin":{"x":1},"root":null}"#, .fails),
        Case(#""\u0061dmin""#, .in, #"{"\u0061dmin":1}"#, .holds),
        Case("5", .in, #"{"5":1}"#, .invalid), Case("5", .in, "[1,5]", .holds), Case("5", .in, "[5.0]", .fails),
        Case(#"["a"]"#, .in, #"[["a"],"b"]"#, .holds), Case("null", .in, "[null]", .holds),
        Case(#""a""#, .in, "[]", .fails), Case(#""a""#, .in, "{}", .fails),
        Case(#""a""#, .in, "a", json: false, .invalid),
        // any (intersect): kjdev's roles example and scalars.
        Case(#"["SERVICE","USER"]"#, .any, #"["SERVICE", "ADMINISTRATORS"]"#, .holds),
        Case(#"["USER"]"#, .any, #"["SERVICE", "ADMINISTRATORS"]"#, .fails),
        Case(#""admin""#, .any, #"["user","admin"]"#, .holds), Case("[]", .any, #"["a"]"#, .fails),
        Case(#"["a"]"#, .any, "[]", .fails), Case(#"["a"]"#, .any, #""a""#, .invalid),
        Case(#"["a"]"#, .any, #"{"a":1}"#, .invalid), Case(#"{"a":1}"#, .any, #"[{"a":1}]"#, .holds),
        Case("[1]", .any, "[1.0]", .fails), Case("[[1],2]", .any, "[[1]]", .holds),
        Case(
            #"["https://test1.issuer.example.com"]"#,
            .any,
            #"["https://test1.issuer.example.com","https://test2.issuer.example.com"]"#,
            .holds
        ),
        Case(
            #""https://test3.issuer.example.com""#,
            .any,
            #"["https://test1.issuer.example.com","https://test2.issuer.example.com"]"#,
            .fails
        ),
        // null is a value: present, equal only to null.
        Case("null", .equal, "null", .holds), Case("null", .equal, #""null""#, .fails),
        Case("null", .equal, "false", .fails),
    ])
    func outcomes(_ test: Case) throws {
        #expect(try check(test.claim, test.op, test.expected, json: test.json) == test.outcome)
        #expect(try check(test.claim, test.op, negated: true, test.expected, json: test.json) == test.outcome.negated)
    }

    @Test(arguments: [
        ("eq", ClaimOperator.equal, false), ("!eq", .equal, true), ("ne", .equal, true), ("!ne", .equal, false),
        ("gt", .greaterThan, false), ("!gt", .greaterThan, true), ("ge", .greaterThanOrEqual, false),
        ("!ge", .greaterThanOrEqual, true), ("lt", .lessThan, false), ("!lt", .lessThan, true),
        ("le", .lessThanOrEqual, false), ("!le", .lessThanOrEqual, true), ("in", .in, false), ("!in", .in, true),
        ("nin", .in, true), ("!nin", .in, false), ("any", .any, false), ("!any", .any, true),
        ("intersect", .any, false), ("!intersect", .any, true), ("nintersect", .any, true),
        ("!nintersect", .any, false), ("match", .match, false), ("!match", .match, true),
    ])
    func operatorsParse(_ text: String, _ op: ClaimOperator, _ negated: Bool) throws {
        let parsed = try #require(Array(text.utf8).withUnsafeBytes { ClaimOperator.parse($0) })
        #expect(parsed.operator == op)
        #expect(parsed.negated == negated)
    }

    @Test(arguments: [
        "", "!", "!!eq", "EQ", "Eq", "eq ", " eq", "equal", "neq", "=", "==", "e", "eqq", "!\0eq", "regex",
    ])
    func unknownOperatorsAreRefused(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { ClaimOperator.parse($0) } == nil)
    }
}

@Suite("Claim requirements: hostile and malformed values")
struct ClaimRequirementBoundsTests {
    static let limit = ClaimRequirement.maximumElements

    static func array(_ count: Int, _ element: String = "0") -> String {
        "[" + Array(repeating: element, count: count).joined(separator: ",") + "]"
    }

    @Test func limitsAreThoseOfTheHeader() {
        #expect(ClaimRequirement.maximumElements == 1024)
        #expect(ClaimRequirement.maximumExpectedLength == 4096)
    }

    @Test(arguments: [ClaimOperator.equal, .in, .any], [false, true])
    func claimArraysUpToTheLimitAreChecked(_ op: ClaimOperator, _ negated: Bool) throws {
        let atLimit = try check(Self.array(Self.limit), op, negated: negated, "[1]")
        #expect(atLimit != .invalid)
        #expect(try check(Self.array(Self.limit + 1), op, negated: negated, "[1]") == .invalid)
        // At any depth, and for objects too.
        #expect(try check(#"{"a":[1,"# + Self.array(Self.limit + 1) + "]}", op, negated: negated, "[1]") == .invalid)
        let members = (0...Self.limit).map { #""m\#($0)":0"# }.joined(separator: ",")
        #expect(try check("{" + members + "}", op, negated: negated, "[1]") == .invalid)
    }

    @Test(arguments: [ClaimOperator.equal, .in, .any], [false, true])
    func expectedArraysUpToTheLimitAreChecked(_ op: ClaimOperator, _ negated: Bool) throws {
        #expect(try check("1", op, negated: negated, Self.array(Self.limit)) != .invalid)
        #expect(try check("1", op, negated: negated, Self.array(Self.limit + 1)) == .invalid)
        #expect(try check("1", op, negated: negated, "[" + Self.array(Self.limit + 1) + "]") == .invalid)
    }

    @Test func theLargestIntersectionIsBounded() throws {
        // 1024 x 1024 distinct strings: every pair compared, and none shared.
        let claim = "[" + (0..<Self.limit).map { #""c\#($0)""# }.joined(separator: ",") + "]"
        let expected = Self.array(Self.limit, "1")
        #expect(try check(claim, .any, expected) == .fails)
        #expect(try check(claim, .any, negated: true, expected) == .holds)
    }

    @Test(arguments: [false, true])
    func expectedLengthIsBounded(_ negated: Bool) throws {
        let longest = "\"" + String(repeating: "a", count: ClaimRequirement.maximumExpectedLength - 2) + "\""
        #expect(try check(longest, .equal, negated: negated, longest) == (negated ? .fails : .holds))
        let plain = String(repeating: "a", count: ClaimRequirement.maximumExpectedLength)
        let plainOutcome = try check("\"" + plain + "\"", .equal, negated: negated, plain, json: false)
        #expect(plainOutcome == (negated ? .fails : .holds))
        #expect(try check(longest, .equal, negated: negated, longest + " ") == .invalid)
        #expect(try check("\"" + plain + "a\"", .equal, negated: negated, plain + "a", json: false) == .invalid)
    }

    @Test(arguments: [false, true])
    func deepExpectedValuesAreInvalid(_ negated: Bool) throws {
        let deepest = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(try check("1", .in, negated: negated, deepest) == (negated ? .holds : .fails))
        let tooDeep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(try check("1", .in, negated: negated, tooDeep) == .invalid)
        #expect(try check("1", .equal, negated: negated, tooDeep) == .invalid)
    }

    @Test(
        arguments: [
            [0xFF], [0xC3], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xE2, 0x82], [0x80], [0x61, 0xF8, 0x88, 0x80, 0x80, 0x80], [0x61, 0xFE],
        ] as [[UInt8]]
    )
    func invalidUTF8InExpectedIsInvalid(_ bytes: [UInt8]) throws {
        for negated in [false, true] {
            let requirement = ClaimRequirement(.equal, negated: negated)
            #expect(try check(#""a""#, requirement, bytes, json: false) == .invalid)
            // The same bytes inside a JSON string.
            #expect(try check(#""a""#, requirement, [0x22] + bytes + [0x22]) == .invalid)
            #expect(
                try check(#""a""#, ClaimRequirement(.in, negated: negated), [0x5B, 0x22] + bytes + [0x22, 0x5D])
                    == .invalid
            )
        }
    }

    @Test func validUTF8InExpectedIsCompared() throws {
        for text in ["é", "😀", "\u{10FFFF}", "\u{FFFD}", "a\tb", "\u{0}"] {
            let claim = "\"" + text.unicodeScalars.map { String(jsonEscaping: $0) }.joined() + "\""
            #expect(try check(claim, .equal, text, json: false) == .holds)
        }
    }

    @Test(arguments: [
        "'1'", "[1,", "[1,]", "1 2", "NaN", "Infinity", "01", "\"\\x\"", "\"\\uD800\"", "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"\\u0061\":2}", "[{\"b\":1,\"b\":1}]", "tru", "\"a\tb\"", "{a:1}", "[1]x", "\u{0}",
    ])
    func invalidJSONExpectedIsInvalid(_ expected: String) throws {
        for op in comparingOperators {
            #expect(try check(#""a""#, op, expected) == .invalid)
            #expect(try check(#""a""#, op, negated: true, expected) == .invalid)
        }
    }

    @Test(arguments: comparingOperators, [false, true])
    func emptyExpectedIsInvalid(_ op: ClaimOperator, _ negated: Bool) throws {
        #expect(try check(#""""#, op, negated: negated, "") == .invalid)
        #expect(try check(#""""#, op, negated: negated, "", json: false) == .invalid)
        // Whitespace alone is not JSON either.
        #expect(try check(#""""#, op, negated: negated, "  ") == .invalid)
    }

    @Test func hugeExponentsAreInvalid() throws {
        #expect(try check("1", .greaterThan, "1e1234567890") == .invalid)
        #expect(try check("1e1234567890", .lessThan, "1") == .invalid)
        #expect(try check("1e1234567890", .equal, negated: true, "1e1234567890") == .invalid)
        #expect(try check("1e999999999", .greaterThan, "1") == .holds)
    }

    @Test func expectedObjectsAreReadWithoutTheirText() throws {
        // A brace only inside a string needs no room for names; a large object needs more than the stack's usual
        // share, and still works.
        #expect(try check(#""{""#, .equal, #""{""#) == .holds)
        let members = (0..<300).map { #""k\#($0)":\#($0)"# }
        let object = "{" + members.joined(separator: ",") + "}"
        let reordered = "{" + members.reversed().joined(separator: ",") + "}"
        #expect(object.utf8.count <= ClaimRequirement.maximumExpectedLength)
        #expect(try check(object, .equal, reordered) == .holds)
        #expect(try check(#""k299""#, .in, reordered) == .holds)
    }
}

extension String {
    /// The JSON escape of a scalar, `\uXXXX` (a surrogate pair above the BMP).
    fileprivate init(jsonEscaping scalar: Unicode.Scalar) {
        func hex(_ unit: UInt16) -> String {
            let digits = String(unit, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        }
        self = String(scalar).utf16.map(hex).joined()
    }
}

@Suite("Expected values validated at configuration time")
struct ValidatedExpectedTests {
    @Test(arguments: [#"["a","b"]"#, #" {"k": 1} "#, "\"s\"", "-1.5e3", "true", "null", "[]"])
    func acceptsOneJSONValue(text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { ClaimRequirement.isValidExpected($0) })
    }

    @Test(arguments: ["", "[1,", #"{"a":1,"a":2}"#, "\"\\.\"", "1 2", "plain", String(repeating: "[", count: 40)])
    func refusesAnythingElse(text: String) {
        #expect(!Array(text.utf8).withUnsafeBytes { ClaimRequirement.isValidExpected($0) })
    }
}
