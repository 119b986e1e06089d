/// Reading values out of a JSON document that verification accepted (a token's header or payload).
public enum JSONLookup {
    /// Finds the value at `path` (member names, outermost first) in `document`.
    ///
    /// Names are compared with the members' decoded names. With `ignoringCase`, they match ignoring ASCII case,
    /// but an exact match wins over a case-insensitive one. An empty path yields the document itself.
    ///
    /// - Returns: the value's kind and bytes inside `document` (for a string, its escaped contents without the
    ///   quotes), or `nil` if there is no such value or `document` is not valid JSON.
    public static func value<Path: Sequence<UnsafeRawBufferPointer>>(
        at path: Path,
        in document: UnsafeRawBufferPointer,
        ignoringCase: Bool
    ) -> (kind: JSONKind, bytes: UnsafeRawBufferPointer)? {
        do {
            var scanner = JSONScanner(document)
            var value = try scanner.scanDocument()
            var nesting = 0
            for name in path {
                guard value.kind == .object else {
                    return nil
                }
                guard
                    let member = try self.member(
                        named: name,
                        in: value.bytes,
                        nesting: nesting,
                        ignoringCase: ignoringCase
                    )
                else {
                    return nil
                }
                value = member
                nesting += 1
            }
            return (value.kind, value.bytes)
        } catch {
            return nil
        }
    }

    /// Decodes a JSON string's escaped contents (as `value(at:in:ignoringCase:)` returns them) into `output`.
    ///
    /// Unescaping never grows a string, so `output` needs at most `escaped.count` bytes; if it is smaller, the
    /// result is cut short.
    ///
    /// - Returns: the number of bytes (UTF-8) written.
    public static func unescape(_ escaped: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        for byte in UnescapedBytes(escaped) {
            guard written < output.count else {
                break
            }
            output[written] = byte
            written += 1
        }
        return written
    }

    /// The value of the member `name` of the object whose JSON text is `object`.
    static func member(
        named name: UnsafeRawBufferPointer,
        in object: UnsafeRawBufferPointer,
        nesting: Int,
        ignoringCase: Bool
    ) throws(JSONError) -> JSONSpan? {
        var scanner = JSONScanner(object)
        let contentNesting = try scanner.enterContainer(nesting: nesting)
        var isFirst = true
        var caseInsensitiveMatch: JSONSpan?
        while let member = try scanner.scanMember(isFirst: &isFirst, nesting: contentNesting) {
            if UnescapedBytes.decode(member.name, equals: name) {
                return member.value
            }
            if ignoringCase, caseInsensitiveMatch == nil,
                UnescapedBytes.decode(member.name, equals: name, ignoringCase: true)
            {
                caseInsensitiveMatch = member.value
            }
        }
        return caseInsensitiveMatch
    }
}
