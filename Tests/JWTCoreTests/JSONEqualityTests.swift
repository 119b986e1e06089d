import Testing

@testable import JWTCore

/// Whether two JSON texts are equal by kjdev's rules (`nil`: incomparable). Both must be valid JSON.
fileprivate func jsonEqual(_ lhs: String, _ rhs: String) throws -> Bool? {
    try withValidatedSpan(lhs) { left in
        try withValidatedSpan(rhs) { right in
            try? JSONEquality.equal(left, right)
        }
    }
}

/// Passes the value of the JSON text `text`, validated, to `body`.
func withValidatedSpan<Result>(_ text: String, _ body: (JSONSpan) throws -> Result) throws -> Result {
    try Array(text.utf8).withUnsafeBytes { bytes in
        try body(try JSONScanner.validate(bytes))
    }
}

/// `JSONNumber.compare` of two literals: -1, 0 or 1, or `nil` if either cannot be read.
fileprivate func compareNumbers(_ lhs: String, _ rhs: String) -> Int? {
    Array(lhs.utf8).withUnsafeBytes { left in
        Array(rhs.utf8).withUnsafeBytes { right in
            guard let left = try? JSONNumber(left), let right = try? JSONNumber(right) else {
                return nil
            }
            return JSONNumber.compare(left, right).signum()
        }
    }
}

@Suite("JSON equality: kjdev's comparison rules")
struct JSONEqualityTests {
    @Test(arguments: [
        // Rule 1: integers and reals, equal by value, but an integer never equals a real.
        ("1", "1", true), ("1", "2", false), ("-0", "0", true), ("-1", "1", false),
        ("1", "1.0", false), ("1.0", "1", false), ("100", "1e2", false), ("1E2", "100", false),
        ("1.0", "1.00", true), ("1.0", "1e0", true), ("1.5e3", "1500.0", true), ("1.5e3", "15e2", true),
        ("0.1", "0.10", true), ("-0.0", "0.0", true), ("0.0", "0e5", true), ("1e-3", "0.001", true),
        ("123456789012345678901234567890", "123456789012345678901234567890", true),
        ("123456789012345678901234567890", "123456789012345678901234567891", false),
        // Beyond a Double's precision, still exact.
        ("9007199254740993", "9007199254740992", false), ("0.1", "0.10000000000000001", false),
        // Rule 2: strings byte-equal after unescaping.
        (#""é""#, #""\u00e9""#, true), (#""\u00E9""#, #""\u00e9""#, true), (#""a\/b""#, #""a/b""#, true),
        (#""\uD83D\uDE00""#, #""😀""#, true), (#""\n""#, #""\u000a""#, true), (#""a""#, #""A""#, false),
        (#""ab""#, #""a""#, false), (#""""#, #""""#, true), (#""e\u0301""#, #""é""#, false),
        // Rule 3: arrays element-wise, in order.
        ("[1,2]", "[1,2]", true), ("[1,2]", "[2,1]", false), ("[1,2]", "[1,2,3]", false), ("[1,2,3]", "[1,2]", false),
        ("[]", "[]", true), ("[]", "[[]]", false), (" [ 1 , \"a\" ] ", "[1,\"a\"]", true), ("[1]", "[1.0]", false),
        (#"[[1],{"a":"b"},null]"#, #"[[1],{"a":"b"},null]"#, true), (#"["a"]"#, #"["\u0061"]"#, true),
        // Rule 4: objects with the same names and equal values, in any order.
        (#"{"a":1,"b":2}"#, #"{"b":2,"a":1}"#, true), (#"{"a":1}"#, #"{"a":1,"b":2}"#, false),
        (#"{"a":1,"b":2}"#, #"{"a":1}"#, false), (#"{"a":1,"b":2}"#, #"{"a":1,"c":2}"#, false),
        (#"{"a":1}"#, #"{"a":1.0}"#, false), (#"{"\u0061":1}"#, #"{"a":1}"#, true), ("{}", "{}", true),
        (#"{"a":{"x":[1,{"y":null,"z":true}]},"b":"c"}"#, #"{"b":"c","a":{"x":[1,{"z":true,"y":null}]}}"#, true),
        (#"{"a":{"x":[1,{"y":null}]}}"#, #"{"a":{"x":[{"y":null},1]}}"#, false), (#"{"a":"1"}"#, #"{"a":1}"#, false),
        // Literals equal only themselves; kinds never equal one another.
        ("null", "null", true), ("true", "true", true), ("false", "false", true), ("true", "false", false),
        ("null", "false", false), ("0", "false", false), (#""1""#, "1", false), (#""true""#, "true", false),
        (#""null""#, "null", false), ("[]", "{}", false), (#"["a"]"#, #""a""#, false), (#"{"a":1}"#, "[1]", false),
    ])
    func equality(_ lhs: String, _ rhs: String, _ equal: Bool) throws {
        #expect(try jsonEqual(lhs, rhs) == equal)
        // Symmetric.
        #expect(try jsonEqual(rhs, lhs) == equal)
    }

    @Test(arguments: [
        ("1", "2", -1), ("2.5", "2", 1), ("1.0", "1", 0), ("-1", "-2", 1), ("-0", "0", 0), ("0", "-0.0", 0),
        ("0.1", "0.09", 1), ("1e3", "999", 1), ("1e-3", "0.001", 0), ("9007199254740993", "9007199254740992", 1),
        ("-5", "3", -1), ("3", "-5", 1), ("1516239022.1234", "1516239022", 1), ("1516239022", "1516239023", -1),
        ("12", "12.0001", -1), ("100", "1e2", 0), ("1E+2", "100", 0), ("0.000", "0", 0), ("10", "9", 1),
        ("123", "1230e-1", 0), ("0.5", "5e-1", 0), ("-0.5", "-0.25", -1), ("-100", "-1e2", 0), ("1e999999999", "1", 1),
        ("1e-999999999", "0", 1), ("-1e-999999999", "0", -1), ("99999999999999999999", "1e20", -1),
        ("100000000000000000000", "1e20", 0), ("1.10", "1.1", 0), ("1.01", "1.1", -1), ("0.000", "-0", 0),
        ("1e0009", "1000000000", 0),
    ])
    func numbersCompareExactly(_ lhs: String, _ rhs: String, _ order: Int) {
        #expect(compareNumbers(lhs, rhs) == order)
        #expect(compareNumbers(rhs, lhs) == -order)
    }

    @Test(arguments: [
        // Exponents beyond nine digits cannot be compared; nor can text outside the grammar (never in a token).
        "1e1234567890", "1e-1234567890", "", "-", "1.", ".5", "1e", "1e+", "01x", "1 ", "+1", "0x10", "1.5.5",
    ])
    func unreadableNumbersAreIncomparable(_ literal: String) {
        #expect(compareNumbers(literal, "1") == nil)
    }

    @Test func incomparableNumbersMakeEqualityThrow() throws {
        #expect(try jsonEqual("1e1234567890", "1e1234567890") == nil)
        #expect(try jsonEqual("[1e1234567890]", "[1e1234567890]") == nil)
        // Kinds are compared first: a string never reaches the number reader.
        #expect(try jsonEqual(#""x""#, "1e1234567890") == false)
    }
}
