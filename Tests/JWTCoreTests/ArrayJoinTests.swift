import Testing

@testable import JWTCore

/// `JSONLookup.joinElements` of `array` into a buffer as large as it, as `ajwt_json_join()` calls it.
fileprivate func join(_ array: String) -> String? {
    let bytes = Array(array.utf8)
    var output = [UInt8](repeating: 0, count: bytes.count)
    let written = bytes.withUnsafeBytes { array in
        output.withUnsafeMutableBytes { JSONLookup.joinElements(of: array, into: $0) }
    }
    return written.map { String(decoding: output[..<$0], as: UTF8.self) }
}

@Suite("Array claims joined as NGINX Plus gives them")
struct ArrayJoinTests {
    @Test(arguments: [
        ("[]", ""), ("[ ]", ""), (#"["a"]"#, "a"), (#"["a","b"]"#, "a,b"), (#"[ "a" , "b" ]"#, "a,b"),
        (#"["aud1","aud2","aud3"]"#, "aud1,aud2,aud3"), ("[1,-2.5e3,0]", "1,-2.5e3,0"),
        ("[true,false,null]", "true,false,null"), (#"["x",1,true,null]"#, "x,1,true,null"),
        // Strings unescaped; a comma inside one stays, as in Plus.
        (#"["a,b","c"]"#, "a,b,c"), (#"["caf\u00e9","\"q\"","\\","\/"]"#, #"café,"q",\,/"#),
        (#"["\uD83D\uDE00","\n"]"#, "😀,\n"), (#"["",""]"#, ","), (#"[""]"#, ""),
    ])
    func joinsScalars(_ array: String, _ joined: String) {
        #expect(join(array) == joined)
    }

    @Test(arguments: [
        "[[1]]", #"["a",[1]]"#, #"["a",{"b":1}]"#, "[{}]", "[[]]", #"[1,2,{"a":[3]}]"#,
    ])
    func nestedValuesKeepTheirJSON(_ array: String) {
        #expect(join(array) == nil)
    }

    @Test(arguments: [
        "", " ", "1", #""a""#, "{}", "null", "[", "[1,", "[1,]", "[1 2]", "[1] [2]", "[1]x", #"["a]"#, "]",
        #"["\x"]"#, String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ])
    func whatIsNotOneArrayIsRefused(_ text: String) {
        #expect(join(text) == nil)
    }

    @Test func theResultIsNeverLongerThanTheArray() {
        for array in [#"["a","b"]"#, "[1,2,3]", #"["\u00e9\u00e9"]"#, "[true]", "[null,null]", #"[""]"#] {
            let joined = join(array)
            #expect(joined != nil)
            #expect(joined!.utf8.count <= array.utf8.count)
        }
    }

    @Test func aSmallerBufferCutsTheResultShort() {
        let bytes = Array(#"["abc","def"]"#.utf8)
        var output = [UInt8](repeating: 0, count: 5)
        let written = bytes.withUnsafeBytes { array in
            output.withUnsafeMutableBytes { JSONLookup.joinElements(of: array, into: $0) }
        }
        #expect(written == 5)
        #expect(output == Array("abc,d".utf8))
    }
}
