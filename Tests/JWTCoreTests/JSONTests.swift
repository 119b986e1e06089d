import Testing

@testable import JWTCore

@Suite("JSON: strict validation")
struct JSONValidationTests {
    static func validate(_ bytes: [UInt8]) throws(JSONError) -> JSONKind {
        let result = bytes.withUnsafeBytes { bytes in Result { () throws(JSONError) in try JSONScanner.validate(bytes) }
        }
        return try result.get().kind
    }

    static func validate(_ text: String) throws(JSONError) -> JSONKind {
        try validate(Array(text.utf8))
    }

    @Test(arguments: [
        (#"{}"#, JSONKind.object),
        (#" [1, -0, 0.5, 1e3, 1E-3, -12.5e+2] "#, .array),
        (#""\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00""#, .string),
        (#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#, .object),
        ("\"caf\u{E9} \u{1F600} \u{10FFFF}\"", .string),
        ("true", .true), ("false", .false), ("null", .null), ("-7", .number),
    ])
    func acceptsValidJSON(_ text: String, _ kind: JSONKind) throws {
        #expect(try Self.validate(text) == kind)
    }

    @Test(arguments: [
        ("", JSONError.syntax), ("{", .syntax), (#"{"a"}"#, .syntax), (#"{"a":1,}"#, .syntax), ("[1,]", .syntax),
        ("[1 2]", .syntax), ("NaN", .syntax), ("Infinity", .syntax), ("-Infinity", .invalidNumber), ("+1", .syntax),
        ("01", .invalidNumber), ("1.", .invalidNumber), (".5", .syntax), ("1e", .invalidNumber), ("-", .invalidNumber),
        ("tru", .syntax), ("nul", .syntax), (#""abc"#, .syntax), (#"{'a':1}"#, .syntax),
        (#""\x""#, .invalidEscape), (#""\u12""#, .invalidEscape), (#""\uDC00""#, .invalidEscape),
        (#""\uD800\u0041""#, .invalidEscape), (#""\uD800""#, .invalidEscape),
        ("\"a\tb\"", .controlCharacter), ("\"\n\"", .controlCharacter),
        ("{} {}", .trailingData), ("1 2", .trailingData),
        (#"{"a":1,"a":1}"#, .duplicateMemberName), (#"{"a":1,"\u0061":1}"#, .duplicateMemberName),
        (#"{"\uD83D\uDE00":1,"😀":2}"#, .duplicateMemberName), (#"{"x":[{"b":1,"b":2}]}"#, .duplicateMemberName),
    ])
    func rejectsInvalidJSON(_ text: String, _ error: JSONError) {
        #expect(throws: error) { try Self.validate(text) }
    }

    @Test(
        arguments: [
            [0xC0, 0xAF],  // overlong '/'
            [0xE0, 0x80, 0xAF],  // overlong
            [0xED, 0xA0, 0x80],  // UTF-8-encoded surrogate U+D800
            [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            [0xF5, 0x80, 0x80, 0x80],
            [0x80],  // lone continuation byte
            [0xE2, 0x82],  // truncated
            [0xFF],
        ] as [[UInt8]]
    )
    func rejectsInvalidUTF8(_ sequence: [UInt8]) {
        #expect(throws: JSONError.invalidUTF8) {
            try Self.validate([UInt8(ascii: "\"")] + sequence + [UInt8(ascii: "\"")])
        }
    }

    @Test func distinguishesNamesThatDifferOnlyInCase() throws {
        #expect(try Self.validate(#"{"a":1,"A":2}"#) == .object)
    }

    @Test func limitsNesting() throws {
        #expect(try Self.validate(String(repeating: "[", count: 32) + String(repeating: "]", count: 32)) == .array)
        #expect(throws: JSONError.tooDeep) {
            try Self.validate(String(repeating: "[", count: 33) + String(repeating: "]", count: 33))
        }
        #expect(throws: JSONError.tooDeep) { try Self.validate(String(repeating: "[", count: 100_000)) }
    }

    @Test func findsDuplicatesAmongManyMembers() throws {
        let members = (0..<20_000).map { #""k\#($0)":0"# }
        #expect(try Self.validate("{" + members.joined(separator: ",") + "}") == .object)
        #expect(throws: JSONError.duplicateMemberName) {
            try Self.validate("{" + members.joined(separator: ",") + #","k17":1}"#)
        }
    }
}

@Suite("JSON: lookup and unescaping (ajwt_json_get, ajwt_json_unescape)")
struct JSONLookupTests {
    static let document = #"""
        {"sub":"alice","tokenId":"t-1","TokenID":"other","Role":"admin","n":{"deep":{"x":[1,2]},"v":12.5},
         "flag":true,"off":false,"none":null,"esc":"a\"b\\c\/d\u00e9\uD83D\uDE00\u0000e","k\u0065y":"v"}
        """#

    static func lookup(_ path: [String], ignoringCase: Bool = false) -> (kind: JSONKind, text: String)? {
        let names = path.map { Array($0.utf8) }
        return Array(document.utf8).withUnsafeBytes { document in
            withNames(names[...]) { buffers in
                buffers.withUnsafeBufferPointer { JSONLookup.value(at: $0, in: document, ignoringCase: ignoringCase) }
                    .map { ($0.kind, String(decoding: $0.bytes, as: UTF8.self)) }
            }
        }
    }

    /// Exposes `names` as raw buffers for the duration of `body`.
    static func withNames<R>(
        _ names: ArraySlice<[UInt8]>,
        _ buffers: [UnsafeRawBufferPointer] = [],
        _ body: ([UnsafeRawBufferPointer]) -> R
    ) -> R {
        guard let first = names.first else {
            return body(buffers)
        }
        return first.withUnsafeBytes { withNames(names.dropFirst(), buffers + [$0], body) }
    }

    static func unescape(_ escaped: String) -> [UInt8] {
        let input = Array(escaped.utf8)
        var output = [UInt8](repeating: 0xEE, count: input.count)
        let count = input.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { JSONLookup.unescape(input, into: $0) }
        }
        return Array(output[..<count])
    }

    @Test func findsTopLevelMembers() throws {
        #expect(try #require(Self.lookup(["sub"])) == (.string, "alice"))
        #expect(try #require(Self.lookup(["flag"])).kind == .true)
        #expect(try #require(Self.lookup(["off"])).kind == .false)
        #expect(try #require(Self.lookup(["none"])) == (.null, "null"))
        #expect(try #require(Self.lookup(["n"])).kind == .object)
        #expect(Self.lookup(["missing"]) == nil)
    }

    @Test func followsNestedPaths() throws {
        #expect(try #require(Self.lookup(["n", "deep", "x"])) == (.array, "[1,2]"))
        #expect(try #require(Self.lookup(["n", "v"])) == (.number, "12.5"))
        #expect(Self.lookup(["sub", "x"]) == nil)
        #expect(Self.lookup(["n", "deep", "y"]) == nil)
    }

    @Test func matchesNamesAfterUnescaping() throws {
        #expect(try #require(Self.lookup(["key"])) == (.string, "v"))
    }

    @Test func matchesCaseInsensitivelyPreferringExactNames() throws {
        #expect(Self.lookup(["role"]) == nil)
        #expect(try #require(Self.lookup(["role"], ignoringCase: true)).text == "admin")
        #expect(try #require(Self.lookup(["tokenid"], ignoringCase: true)).text == "t-1")
        #expect(try #require(Self.lookup(["TokenID"], ignoringCase: true)).text == "other")
        #expect(try #require(Self.lookup(["tokenId"], ignoringCase: true)).text == "t-1")
    }

    @Test func returnsTheWholeDocumentForAnEmptyPath() throws {
        #expect(try #require(Self.lookup([])).kind == .object)
    }

    @Test func unescapesStrings() throws {
        let escaped = try #require(Self.lookup(["esc"])).text
        #expect(Self.unescape(escaped) == Array("a\"b\\c/d\u{E9}\u{1F600}".utf8) + [0] + Array("e".utf8))
        #expect(Self.unescape(#"\uD83D\uDE00"#) == [0xF0, 0x9F, 0x98, 0x80])
        #expect(Self.unescape(#"\u0000"#) == [0])
        #expect(Self.unescape(#"\b\f\n\r\t"#) == [8, 12, 10, 13, 9])
    }

    @Test(arguments: [#"\"#, #"\u"#, #"\u12"#, #"\uD800"#, #"\uDC00x"#, #"\uD800\u0041"#, #"\q"#])
    func unescapesMalformedInputWithoutGrowing(_ escaped: String) {
        #expect(Self.unescape(escaped).count <= escaped.utf8.count)
    }

    /// A lookup trusts verification's validation and reads only up to the value it finds; on a document that
    /// verification would refuse it finds nothing, or a value inside the document, and never reads past it.
    @Test func staysInsideDocumentsVerificationWouldRefuse() throws {
        func lookup(_ document: String, _ path: [String]) -> (kind: JSONKind, bytes: UnsafeRawBufferPointer)? {
            let names = path.map { Array($0.utf8) }
            let bytes = Array(document.utf8)
            return bytes.withUnsafeBytes { document in
                Self.withNames(names[...]) { buffers in
                    buffers.withUnsafeBufferPointer { JSONLookup.value(at: $0, in: document, ignoringCase: true) }
                }.map { found in
                    // Inside the document: the offsets, since the buffer is gone once this returns.
                    let start = document.baseAddress!.distance(to: found.bytes.baseAddress!)
                    #expect(start >= 0 && start + found.bytes.count <= document.count, "\(document)")
                    return found
                }
            }
        }
        for document in ["", " ", "[1]", #""a""#, "{", #"{"a""#, #"{"a":"#, #"{"b":1"#, #"{"b":"\"#, "{\u{0}}",
            #"{"b":[1,{"a":2}"#, #"{"a":{"b""#, #"{"a":{"b":"#]
        {
            for path in [["a"], ["a", "b"], ["b"]] {
                _ = lookup(document, path)
            }
        }
        #expect(lookup("", ["a"]) == nil)
        #expect(lookup("[1]", ["a"]) == nil)
        #expect(lookup(#"{"b":1,"#, ["a"]) == nil)
        #expect(lookup(#"{"a":{"b"#, ["a", "b"]) == nil)
        // What follows the value found is not read again.
        #expect(try #require(lookup(#"{"a":7, garbage"#, ["a"])).kind == .number)
    }
}
