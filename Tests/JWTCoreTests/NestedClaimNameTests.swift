import Testing

@testable import JWTCore

/// Splits `text` as `auth_jwt_allow_nested delimiter=<delimiter> quote=<quote>` does.
func nestedPath(_ text: String, delimiter: String = ".", quote: String = "\"") throws(ClaimPathError) -> ClaimPath {
    let result = Array(text.utf8).withUnsafeBytes { text in
        Array(delimiter.utf8).withUnsafeBytes { delimiter in
            Array(quote.utf8).withUnsafeBytes { quote in
                Result { () throws(ClaimPathError) in try ClaimPath(splitting: text, delimiter: delimiter, quote: quote)
                }
            }
        }
    }
    return try result.get()
}

/// The member names of a path of members only.
func memberNames(_ path: ClaimPath) -> [String] {
    path.steps.map { step in
        guard case .member(let range) = step else {
            return "[index]"
        }
        return String(decoding: path.names[range], as: UTF8.self)
    }
}

@Suite("Claim names under auth_jwt_allow_nested: kjdev's delimiter and quote splitting")
struct NestedClaimNameTests {
    @Test(arguments: [
        // kjdev's documented examples.
        ("grants.access", ".", "\"", ["grants", "access"]),
        (#""grants.key""#, ".", "\"", ["grants.key"]),
        (#"grants."access.roles""#, ".", "\"", ["grants", "access.roles"]),
        (#"grants."access.service".roles"#, ".", "\"", ["grants", "access.service", "roles"]),
        ("grants<>service<>roles", "<>", "\"", ["grants", "service", "roles"]),
        ("'access.roles'", ".", "'", ["access.roles"]),
        ("grants:access", ":", "\"", ["grants", "access"]),
        // A name without the delimiter is one member, as without nesting.
        ("sub", ".", "\"", ["sub"]),
        ("grants.access", ":", "\"", ["grants.access"]),
        // Empty segments are skipped, as kjdev skips them.
        ("a..b", ".", "\"", ["a", "b"]),
        ("a.", ".", "\"", ["a"]),
        ("::a::b::", ":", "\"", ["a", "b"]),
        // A quote that does not start a segment is an ordinary byte.
        (#"a"b.c"#, ".", "\"", [#"a"b"#, "c"]),
        (#"a.b""#, ".", "\"", ["a", #"b""#]),
        // Multi-byte quotes; a quoted key ending the name, a trailing delimiter after one.
        ("<<a.b<<.c", ".", "<<", ["a.b", "c"]),
        (#""a"."#, ".", "\"", ["a"]),
    ])
    func splits(_ text: String, _ delimiter: String, _ quote: String, _ expected: [String]) throws {
        #expect(memberNames(try nestedPath(text, delimiter: delimiter, quote: quote)) == expected)
    }

    @Test func jqPathsStayJQPaths() throws {
        let path = try nestedPath(#".groups[0]."x.y""#)
        #expect(path.steps == [.member(0..<6), .index(0), .member(6..<9)])
        #expect(throws: ClaimPathError.missingKey) { try nestedPath(".a..b") }
    }

    @Test(arguments: [
        ("", ".", "\"", ClaimPathError.empty),
        (#""a"#, ".", "\"", .unterminatedQuote),
        (#"a."b"#, ".", "\"", .unterminatedQuote),
        (#""a"b"#, ".", "\"", .textAfterQuote),
        (#"x."a"b.c"#, ".", "\"", .textAfterQuote),
        (#""""#, ".", "\"", .emptyQuotedKey),
        (#"a."".b"#, ".", "\"", .emptyQuotedKey),
        ("::", ":", "\"", .noMember),
        ("a", "", "\"", .invalidNesting),
        ("a", ".", "", .invalidNesting),
        ("a", ".", ".", .invalidNesting),
        ("a", "..", ".", .invalidNesting),
        ("a", ":", ":x", .invalidNesting),
    ])
    func refuses(_ text: String, _ delimiter: String, _ quote: String, _ error: ClaimPathError) {
        #expect(throws: error) { try nestedPath(text, delimiter: delimiter, quote: quote) }
    }

    @Test func boundedLikeJQPaths() throws {
        #expect(try nestedPath(Array(repeating: "a", count: 32).joined(separator: ".")).steps.count == 32)
        #expect(throws: ClaimPathError.tooManySteps) {
            try nestedPath(Array(repeating: "a", count: 33).joined(separator: "."))
        }
    }

    @Test func findsNestedValues() throws {
        let payload = #"{"grants":{"access":"allow","access.roles":["r"]},"grants.key":"dot"}"#
        #expect(lookUp(try nestedPath("grants.access"), in: payload)?.text == "allow")
        #expect(lookUp(try nestedPath(#""grants.key""#), in: payload)?.text == "dot")
        #expect(lookUp(try nestedPath(#"grants."access.roles""#), in: payload)?.text == #"["r"]"#)
        #expect(lookUp(try nestedPath("grants.key"), in: payload) == nil)
    }

    @Test func reasonsNameTheProblem() {
        #expect(ClaimPathError.textAfterQuote.description.contains("delimiter"))
        #expect(ClaimPathError.invalidNesting.description.contains("quote"))
    }
}
