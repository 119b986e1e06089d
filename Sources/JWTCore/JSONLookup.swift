/// Reading values out of a JSON document that verification accepted (a token's header or payload).
public enum JSONLookup {
    /// Finds the value at `path` (member names, outermost first) in `document`, a JSON text that verification
    /// accepted.
    ///
    /// Names are compared with the members' decoded names. With `ignoringCase`, they match ignoring ASCII case,
    /// but an exact match wins over a case-insensitive one. An empty path yields the document itself.
    ///
    /// Verification validated the whole document once; a lookup reads only as far as the value it finds (the
    /// whole object when ignoring case and no name matches exactly). Given a document verification would have
    /// refused, it never reads outside it and returns `nil` or a value inside it.
    ///
    /// - Returns: the value's kind and bytes inside `document` (for a string, its escaped contents without the
    ///   quotes), or `nil` if there is no such value.
    public static func value(
        at path: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        in document: UnsafeRawBufferPointer,
        ignoringCase: Bool
    ) -> (kind: JSONKind, bytes: UnsafeRawBufferPointer)? {
        do {
            guard !path.isEmpty else {
                var scanner = JSONScanner(document)
                return try scanner.scanDocument().parts
            }
            var value = JSONSpan(kind: .object, bytes: document)
            for (nesting, name) in path.enumerated() {
                guard value.kind == .object,
                    let member = try self.member(named: name, in: value.bytes, nesting: nesting, ignoringCase: ignoringCase)
                else {
                    return nil
                }
                value = member
            }
            return value.parts
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
        if !escaped.contains(UInt8(ascii: "\\")) {
            // Nothing to decode (the usual case): the contents are the value.
            let count = min(escaped.count, output.count)
            output.copyMemory(from: UnsafeRawBufferPointer(rebasing: escaped[..<count]))
            return count
        }
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

    /// Decodes `document` when it is exactly one strict JSON string into `output` (at least `document.count`
    /// bytes), returning the decoded length; `nil` for anything else (invalid escapes and UTF-8 included).
    public static func decodeString(
        _ document: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        guard output.count >= document.count, let value = try? JSONScanner.validate(document),
            value.kind == .string
        else {
            return nil
        }
        return self.unescape(value.bytes, into: output)
    }

    /// The value of the member `name` of the object whose JSON text is `object`, read up to that member.
    static func member(
        named name: UnsafeRawBufferPointer,
        in object: UnsafeRawBufferPointer,
        nesting: Int,
        ignoringCase: Bool
    ) throws(JSONError) -> JSONSpan? {
        var scanner = JSONScanner(object)
        guard let contentNesting = try scanner.enterObject(nesting: nesting) else {
            return nil
        }
        var isFirst = true
        var finder = MemberFinder(name: name, ignoringCase: ignoringCase)
        while let member = try scanner.scanMember(isFirst: &isFirst, nesting: contentNesting) {
            finder.visit(member.name, member.value)
            if finder.exactMatch != nil {
                break
            }
        }
        return finder.found
    }

    /// The element at `index` (from 0) of the array whose JSON text is `array`, read up to that element.
    static func element(at index: Int, in array: UnsafeRawBufferPointer, nesting: Int) throws(JSONError) -> JSONSpan? {
        guard index >= 0, array.first == UInt8(ascii: "[") else {
            return nil
        }
        var scanner = JSONScanner(array)
        let contentNesting = try scanner.enterContainer(nesting: nesting)
        var isFirst = true
        var position = 0
        while let element = try scanner.scanElement(isFirst: &isFirst, nesting: contentNesting) {
            if position == index {
                return element
            }
            position += 1
        }
        return nil
    }
}

/// Looks for one member among an object's: the member of that exact name, or else, when ignoring case, the first
/// whose name matches ignoring ASCII case.
private struct MemberFinder: JSONMemberVisitor {
    let name: UnsafeRawBufferPointer
    let ignoringCase: Bool
    private(set) var exactMatch: JSONSpan?
    private var caseInsensitiveMatch: JSONSpan?

    init(name: UnsafeRawBufferPointer, ignoringCase: Bool) {
        self.name = name
        self.ignoringCase = ignoringCase
    }

    var found: JSONSpan? {
        self.exactMatch ?? self.caseInsensitiveMatch
    }

    mutating func visit(_ name: JSONName, _ value: JSONSpan) {
        guard self.exactMatch == nil else {
            return
        }
        if name.equals(self.name) {
            self.exactMatch = value
        } else if self.ignoringCase, self.caseInsensitiveMatch == nil, name.equalsIgnoringCase(self.name) {
            self.caseInsensitiveMatch = value
        }
    }
}

extension JSONSpan {
    fileprivate var parts: (kind: JSONKind, bytes: UnsafeRawBufferPointer) {
        (self.kind, self.bytes)
    }
}
