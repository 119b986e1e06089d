import Testing

@testable import JWTCore

/// `match` patterns given as JSON are decoded only when they are exactly one strict JSON string, so that an invalid
/// escape fails closed instead of changing the pattern.
@Suite("Decoding one JSON string")
struct JSONStringDecodeTests {
    static func decode(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        var output = [UInt8](repeating: 0, count: bytes.count)
        let length = bytes.withUnsafeBytes { document in
            output.withUnsafeMutableBytes { JSONLookup.decodeString(document, into: $0) }
        }
        return length.map { String(decoding: output[..<$0], as: UTF8.self) }
    }

    @Test(arguments: [
        (#""@example\\.com""#, #"@example\.com"#),
        (#""plain""#, "plain"),
        (#""\u00e9\n\"""#, "é\n\""),
        (#"  "spaced"  "#, "spaced"),
        (#""""#, ""),
    ])
    func decodesOneString(json: String, expected: String) {
        #expect(Self.decode(json) == expected)
    }

    @Test(arguments: [
        #""@example\.com""#,
        #""unterminated"#,
        #""a" "b""#,
        #"["a"]"#,
        "42",
        "null",
        "",
        "plain",
        "\"\u{01}\"",
    ])
    func refusesAnythingElse(json: String) {
        #expect(Self.decode(json) == nil)
    }
}
