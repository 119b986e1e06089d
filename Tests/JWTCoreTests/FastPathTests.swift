import Testing

@testable import JWTCore

/// The request path's shortcuts (table base64url, eight-byte string scanning, pairwise duplicate checks, the
/// integer time path, in-place MAC comparison), each against the plain rule it must agree with, at the edges
/// where a shortcut hands over to the general case.
@Suite("Fast paths agree with the rules")
struct FastPathTests {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func validate(_ bytes: [UInt8]) throws(JSONError) -> JSONKind {
        let result = bytes.withUnsafeBytes { bytes in Result { () throws(JSONError) in try JSONScanner.validate(bytes) }
        }
        return try result.get().kind
    }

    // MARK: base64url

    @Test func decodesEveryByteAtEveryPositionOfAGroup() {
        for position in 0..<4 {
            for byte in 0...255 {
                var group = Array("AAAA".utf8)
                group[position] = UInt8(byte)
                let decoded = Base64URL.decode(group)
                if let sextet = Self.alphabet.firstIndex(of: UInt8(byte)) {
                    let bits = UInt32(sextet) << (18 - 6 * position)
                    #expect(decoded == [UInt8(bits >> 16), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)])
                } else {
                    #expect(decoded == nil, "byte \(byte) at \(position)")
                }
            }
        }
    }

    @Test func rejectsEverySetPaddingBit() {
        // "AB": 12 bits for one byte, 4 left over; "AAB": 18 bits for two, 2 left over.
        for (prefix, paddingBits) in [("A", 4), ("AA", 2)] {
            for last in Self.alphabet {
                let text = Array(prefix.utf8) + [last]
                let sextet = Self.alphabet.firstIndex(of: last)!
                let isCanonical = sextet & ((1 << paddingBits) - 1) == 0
                #expect((Base64URL.decode(text) != nil) == isCanonical, "\(String(decoding: text, as: UTF8.self))")
            }
        }
    }

    @Test(arguments: 0..<12)
    func writesNothingPastTheDecodedBytes(groups: Int) {
        for tail in ["", "AQ", "AQI"] {
            let text = Array(String(repeating: "_-8A", count: groups).utf8) + Array(tail.utf8)
            let count = Base64URL.decodedCount(ofEncodedCount: text.count)!
            var output = [UInt8](repeating: 0xEE, count: count + 8)
            let written = text.withUnsafeBytes { text in
                output.withUnsafeMutableBytes { Base64URL.decode(text, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<count])) }
            }
            #expect(written == count)
            #expect(output[count...].allSatisfy { $0 == 0xEE })
            #expect(Array(output[..<count]) == Array(repeating: [0xFF, 0xEF, 0x00], count: groups).flatMap { $0 }
                + (tail.isEmpty ? [] : tail == "AQ" ? [0x01] : [0x01, 0x02]))
        }
    }

    // MARK: Strings, eight bytes at a time

    @Test(arguments: 0..<18)
    func findsEverySpecialByteWhereverItFalls(offset: Int) throws {
        func string(_ middle: [UInt8]) -> [UInt8] {
            [UInt8(ascii: "\"")] + Array(repeating: UInt8(ascii: "a"), count: offset) + middle
                + Array(repeating: UInt8(ascii: "b"), count: 9) + [UInt8(ascii: "\"")]
        }
        #expect(try Self.validate(string([])) == .string)
        #expect(try Self.validate(string(Array(#"\""#.utf8))) == .string)
        #expect(try Self.validate(string(Array(#"\u00e9"#.utf8))) == .string)
        #expect(try Self.validate(string([0xC3, 0xA9, 0x7F])) == .string)
        #expect(throws: JSONError.controlCharacter) { try Self.validate(string([0x1F])) }
        #expect(throws: JSONError.controlCharacter) { try Self.validate(string([0x00])) }
        #expect(throws: JSONError.invalidUTF8) { try Self.validate(string([0xFF])) }
        #expect(throws: JSONError.invalidUTF8) { try Self.validate(string([0x80])) }
        #expect(throws: JSONError.invalidEscape) { try Self.validate(string(Array(#"\x"#.utf8))) }
        // A string that ends early is cut at its first quote, so the rest is trailing data.
        #expect(throws: JSONError.trailingData) { try Self.validate(string([UInt8(ascii: "\""), 0x20])) }
        // Unterminated, with the last byte anywhere in a word.
        let open = [UInt8(ascii: "\"")] + Array(repeating: UInt8(ascii: "a"), count: offset)
        #expect(throws: JSONError.syntax) { try Self.validate(open) }
    }

    // MARK: Duplicate member names

    static func object(_ names: [String]) -> [UInt8] {
        Array(("{" + names.map { #""\#($0)":0"# }.joined(separator: ",") + "}").utf8)
    }

    @Test(arguments: [MemberNameStack.pairwiseLimit - 1, MemberNameStack.pairwiseLimit, MemberNameStack.pairwiseLimit + 1])
    func findsDuplicatesOnBothSidesOfThePairwiseLimit(count: Int) throws {
        let names = (0..<count).map { "member-\($0)" }
        #expect(try Self.validate(Self.object(names)) == .object)
        for (first, second) in [(0, count - 1), (count / 2, count / 2 + 1), (count - 2, count - 1)] {
            var duplicated = names
            duplicated[second] = names[first]
            #expect(throws: JSONError.duplicateMemberName) { try Self.validate(Self.object(duplicated)) }
        }
    }

    @Test func comparesNamesBeyondTheirFirstSevenBytes() throws {
        #expect(try Self.validate(Self.object(["abcdefgX", "abcdefgY"])) == .object)
        #expect(try Self.validate(Self.object(["abcdefg", "abcdefgh"])) == .object)
        // Same first seven bytes, and lengths equal modulo 256.
        #expect(try Self.validate(Self.object(["abcdefg", "abcdefg" + String(repeating: "z", count: 256)])) == .object)
        #expect(throws: JSONError.duplicateMemberName) {
            try Self.validate(Self.object(["abcdefghijklmnop", "x", "abcdefghijklmnop"]))
        }
    }

    @Test func comparesEscapedNamesByTheirDecodedBytes() throws {
        #expect(throws: JSONError.duplicateMemberName) { try Self.validate(Self.object(["sub", #"s\u0075b"#])) }
        #expect(throws: JSONError.duplicateMemberName) { try Self.validate(Self.object([#"\u0065xp"#, "a", "exp"])) }
        #expect(throws: JSONError.duplicateMemberName) { try Self.validate(Self.object([#"\/"#, "/"])) }
        #expect(try Self.validate(Self.object([#"s\u0075b"#, "sUb", "su"])) == .object)
    }

    @Test func findsDuplicatesAmongTheLastBytesOfADocument() throws {
        // The last names start less than eight bytes from the end: their prefix words are read byte by byte.
        #expect(throws: JSONError.duplicateMemberName) { try Self.validate(Array(#"{"a":1,"a":2}"#.utf8)) }
        #expect(throws: JSONError.duplicateMemberName) { try Self.validate(Array(#"{"ab":1,"ab":{}}"#.utf8)) }
        #expect(try Self.validate(Array(#"{"ab":1,"ac":{}}"#.utf8)) == .object)
    }

    // MARK: Header parameters and time claims through whole tokens

    static func check(header: String = #"{"alg":"HS256"}"#, payload: String = "{}", now: Int64 = earlyNow)
        throws(VerificationError)
    {
        let keys = try! makeKeySet(TestKeys.hmacJWK())
        try verify(makeToken(header: header, payload: payload, sign: TestKeys.hs256()), with: keys, now: now)
    }

    @Test func readsHeaderParametersWrittenWithEscapes() throws {
        try Self.check(header: #"{"\u0061lg":"HS\u0032\u00356"}"#)
        #expect(throws: VerificationError.criticalHeader) {
            try Self.check(header: #"{"alg":"HS256","cr\u0069t":["x"],"x":1}"#)
        }
        #expect(throws: VerificationError.encryptedToken) { try Self.check(header: #"{"alg":"HS256","\u0065nc":"x"}"#) }
        #expect(throws: VerificationError.algorithmNone) { try Self.check(header: #"{"alg":"n\u006Fne"}"#) }
    }

    @Test(arguments: ["HS255", "HS2566", "HS25", "hS256", "EdDSa", "EdDSAA", "ES 256", "XS256", "PS128"])
    func matchesAlgorithmNamesExactly(_ name: String) {
        #expect(throws: VerificationError.unsupportedAlgorithm) { try Self.check(header: #"{"alg":"\#(name)"}"#) }
    }

    @Test func namesEveryAlgorithm() {
        for algorithm in SignatureAlgorithm.allCases {
            let name = Array(algorithm.rawValue.utf8)
            let parsed = name.withUnsafeBytes { SignatureAlgorithm(name: JSONName(string: $0)) }
            #expect(parsed == algorithm)
            #expect(algorithm.name.description == algorithm.rawValue)
        }
    }

    @Test(arguments: [
        (#"{"exp":999999999999999}"#, true),  // 15 digits: the integer path
        (#"{"exp":9999999999999999}"#, true),  // 16 digits: Double's parser
        (#"{"exp":1300000000}"#, false),
        (#"{"exp":1300000001}"#, true),
        (#"{"exp":-0}"#, false),
        (#"{"nbf":-5}"#, true),
        (#"{"nbf":1300000001}"#, false),
        (#"{"nbf":1300000000}"#, true),
        (#"{"exp":1.3000000005e9}"#, true),
        (#"{"exp":-999999999999999}"#, false),
    ])
    func readsTimesOnBothPaths(_ payload: String, _ accepted: Bool) {
        if accepted {
            #expect(throws: Never.self) { try Self.check(payload: payload) }
        } else {
            #expect(throws: VerificationError.self) { try Self.check(payload: payload) }
        }
    }

    // MARK: MAC comparison

    @Test func comparesMACsByEveryByte() {
        let mac = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
            lhs.withUnsafeBytes { lhs in rhs.withUnsafeBytes { ConstantTime.equal(lhs, $0) } }
        }
        #expect(equal(mac, mac))
        #expect(equal([], []))
        #expect(!equal(mac, Array(mac.prefix(31))))
        #expect(!equal(mac, mac + [0]))
        for index in mac.indices {
            for bit in 0..<8 {
                var other = mac
                other[index] ^= 1 << bit
                #expect(!equal(mac, other), "byte \(index) bit \(bit)")
            }
        }
    }
}
