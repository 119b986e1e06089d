import Testing

@testable import JWTCore

@Suite("Base64URL: strict unpadded decoding")
struct Base64URLTests {
    static func decode(_ text: String) -> [UInt8]? {
        Base64URL.decode(Array(text.utf8))
    }

    @Test(arguments: [
        ("", [] as [UInt8]), ("Zg", Array("f".utf8)), ("Zm8", Array("fo".utf8)), ("Zm9v", Array("foo".utf8)),
        ("Zm9vYg", Array("foob".utf8)), ("-_-_", [0xFB, 0xFF, 0xBF]), ("AAEC", [0, 1, 2]),
    ])
    func decodesCanonicalInput(_ text: String, _ bytes: [UInt8]) {
        #expect(Self.decode(text) == bytes)
    }

    @Test(arguments: [
        "Zg==", "Zm8=", "+/+/", "Zm9v\n", " Zm9v", "Zm 9v", "Z", "Zm9vY", "Zh", "Zm9", "Zm\u{E9}v", "Zm.v",
    ])
    func rejectsNonCanonicalInput(_ text: String) {
        #expect(Self.decode(text) == nil)
    }

    @Test func refusesOutputThatDoesNotFit() {
        let input = Array("Zm9v".utf8)
        var output = [UInt8](repeating: 0, count: 2)
        let written = input.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { Base64URL.decode(input, into: $0) }
        }
        #expect(written == nil)
    }
}
