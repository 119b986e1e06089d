import Testing

@testable import JWTCore

/// Parses `text` as a claim path.
func claimPath(_ text: String) throws(ClaimPathError) -> ClaimPath {
    let bytes = Array(text.utf8)
    let result = bytes.withUnsafeBytes { text in Result { () throws(ClaimPathError) in try ClaimPath(parsing: text) } }
    return try result.get()
}

/// The JSON text of the value at `path` in `document`, or `nil` (for a string, its escaped contents).
func lookUp(_ path: ClaimPath, in document: String) -> (kind: JSONKind, text: String)? {
    Array(document.utf8).withUnsafeBytes { document in
        JSONLookup.value(at: path, in: document).map { ($0.kind, String(decoding: $0.bytes, as: UTF8.self)) }
    }
}

@Suite("Claim paths: kjdev's JQ-like syntax")
struct ClaimPathTests {
    static let payload = #"""
        {"sub":"u1","address":{"city":"Tokyo","zip":"100"},"dotted.key":"some_value","roles":["admin","user"],
         "groups":[{"name":"engineering"},{"name":"ops"}],"matrix":[[1,2],[3,4]],"realm_access.roles":"flat",
         "realm_access":{"roles":["r1"]},"meta":{"version":"2.0"},"caf\u00e9":1,"a-b_c":true,"k\"q":"quoted",
         "empty":[],"n":null,"e":{"x.y":{"z":[0,[5]]}}}
        """#

    @Test(arguments: [
        ("sub", JSONKind.string, "u1"),
        (".sub", .string, "u1"),
        (".address.city", .string, "Tokyo"),
        (#"."dotted.key""#, .string, "some_value"),
        (".roles[0]", .string, "admin"),
        (".roles[1]", .string, "user"),
        (".roles", .array, #"["admin","user"]"#),
        (".groups[0].name", .string, "engineering"),
        (".groups[1].name", .string, "ops"),
        (".matrix[0][1]", .number, "2"),
        (".matrix[1]", .array, "[3,4]"),
        (".meta.version", .string, "2.0"),
        // Without a leading dot, a dotted name is one member's, as kjdev reads it without auth_jwt_allow_nested.
        ("realm_access.roles", .string, "flat"),
        (".realm_access.roles[0]", .string, "r1"),
        // Member names match after unescaping.
        (#"."café""#, .number, "1"),
        ("café", .number, "1"),
        (".a-b_c", .true, "true"),
        (".n", .null, "null"),
        (".empty", .array, "[]"),
        (#".e."x.y".z[1][0]"#, .number, "5"),
        (#"k"q"#, .string, "quoted"),
    ])
    func findsValues(_ path: String, _ kind: JSONKind, _ text: String) throws {
        let found = try #require(lookUp(try claimPath(path), in: Self.payload))
        #expect(found.kind == kind)
        #expect(found.text == text)
    }

    @Test(arguments: [
        ".missing", ".address.country", ".roles[2]", ".roles[1000000]", ".matrix[0][2]", ".empty[0]",
        // A step into a value of another kind finds nothing.
        ".sub.x", ".sub[0]", ".roles.admin", ".address[0]", "[0]", ".n.x",
        // Exact names: no case folding.
        ".SUB", "Sub", ".address.City",
        // A quoted key is the bytes between the quotes, no escapes.
        #"."dotted\u002ekey""#,
    ])
    func findsNothing(_ path: String) throws {
        #expect(lookUp(try claimPath(path), in: Self.payload) == nil)
    }

    @Test(arguments: [
        ("", ClaimPathError.empty),
        (".", .missingKey), ("..a", .missingKey), (".a.", .missingKey), (".1a", .missingKey), (".-a", .missingKey),
        (".é", .missingKey), (". a", .missingKey),
        (#"."abc"#, .unterminatedQuote), (#"."#, .missingKey), (#".""#, .unterminatedQuote),
        (#".."#, .missingKey), (#"."""#, .emptyQuotedKey),
        ("[", .invalidIndex), ("[]", .invalidIndex), ("[a]", .invalidIndex), ("[-1]", .invalidIndex),
        ("[*]", .invalidIndex), ("[01]", .invalidIndex), ("[1", .invalidIndex), ("[1 ]", .invalidIndex),
        (".a[1", .invalidIndex), ("[99999999999999999999]", .invalidIndex), ("[+1]", .invalidIndex),
        (".a b", .unexpectedCharacter), (".a]", .unexpectedCharacter), (".a[0]x", .unexpectedCharacter),
        (#".a"b""#, .unexpectedCharacter), (".a\n", .unexpectedCharacter),
    ])
    func refusesInvalidPaths(_ path: String, _ error: ClaimPathError) {
        #expect(throws: error) { try claimPath(path) }
    }

    @Test func reasonsNameTheProblem() {
        #expect(ClaimPathError.tooManySteps.description == "invalid path: more than 32 steps")
        #expect(ClaimPathError.empty.description == "empty claim name")
    }

    @Test func nonPathNamesAreTakenAsTheyAre() throws {
        for name in ["a b", "x[0]", "a.b.c", "\"q\"", "-", "\u{0}"] {
            let path = try claimPath(name)
            #expect(path.steps.count == 1)
            #expect(path.names == Array(name.utf8))
        }
    }

    @Test func stepsAreParsed() throws {
        let path = try claimPath(#".a."b.c"[10][0].d_e-f"#)
        #expect(path.names == Array("ab.cd_e-f".utf8))
        #expect(path.steps == [.member(0..<1), .member(1..<4), .index(10), .index(0), .member(4..<9)])
        #expect(try claimPath("[0]").steps == [.index(0)])
    }

    @Test(arguments: [1, 2, 31, 32])
    func pathsUpToTheDepthLimitWork(_ depth: Int) throws {
        // A document nested `depth` objects deep, read by a path of as many steps.
        let document = String(repeating: #"{"a":"#, count: depth) + "7" + String(repeating: "}", count: depth)
        let path = try claimPath(String(repeating: ".a", count: depth))
        #expect(lookUp(path, in: document)?.text == "7")
        let indices = try claimPath(".a" + String(repeating: "[0]", count: depth - 1))
        let arrays =
            #"{"a":"# + String(repeating: "[", count: depth - 1) + "7"
            + String(repeating: "]", count: depth - 1) + "}"
        #expect(lookUp(indices, in: arrays)?.text == "7")
    }

    @Test(arguments: [33, 34, 1000])
    func pathsBeyondTheDepthLimitAreRefused(_ depth: Int) {
        #expect(throws: ClaimPathError.tooManySteps) { try claimPath(String(repeating: ".a", count: depth)) }
        #expect(throws: ClaimPathError.tooManySteps) { try claimPath(String(repeating: "[0]", count: depth)) }
    }

    @Test func hostileDocumentsFindNothingRatherThanTrap() throws {
        let path = try claimPath(".a[3].b")
        for document in [
            "", "{", #"{"a":"#, #"{"a":[1,2"#, #"{"a":[1,2,3,{"b""#, #"{"a":[1,2,3,{"b":}]}"#, "[", "\u{0}",
            String(repeating: #"{"a":["#, count: 40),
        ] {
            #expect(lookUp(path, in: document) == nil)
        }
        // Values before the one looked for are read only as far as needed, but must still be JSON.
        #expect(lookUp(path, in: #"{"a":[x,2,3,{"b":1}]}"#) == nil)
        #expect(lookUp(path, in: #"{"a":[1,2,3,{"b":1}]}"#)?.text == "1")
    }
}
