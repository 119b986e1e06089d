/// A parsed JSON document, for configuration-time input such as key files; tokens are read in place instead.
enum JSONValue: Hashable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// Parses `document` strictly, with the same rules as tokens (no duplicate names, valid UTF-8, ...).
    init(parsing document: UnsafeRawBufferPointer) throws(JSONError) {
        self = try JSONValue(try JSONScanner.validate(document), nesting: 0)
    }

    /// Builds the value of a span that was already validated.
    private init(_ span: JSONSpan, nesting: Int) throws(JSONError) {
        switch span.kind {
        case .object:
            var scanner = JSONScanner(span.bytes)
            let contentNesting = try scanner.enterContainer(nesting: nesting)
            var members: [String: JSONValue] = [:]
            var isFirst = true
            while let member = try scanner.scanMember(isFirst: &isFirst, nesting: contentNesting) {
                members[JSONValue.decodedString(member.name.escaped)] = try JSONValue(member.value, nesting: contentNesting)
            }
            self = .object(members)
        case .array:
            var scanner = JSONScanner(span.bytes)
            let contentNesting = try scanner.enterContainer(nesting: nesting)
            var elements: [JSONValue] = []
            var isFirst = true
            while let element = try scanner.scanElement(isFirst: &isFirst, nesting: contentNesting) {
                elements.append(try JSONValue(element, nesting: contentNesting))
            }
            self = .array(elements)
        case .string:
            self = .string(JSONValue.decodedString(span.bytes))
        case .number:
            self = .number(String(decoding: span.bytes, as: UTF8.self))
        case .true:
            self = .bool(true)
        case .false:
            self = .bool(false)
        case .null:
            self = .null
        }
    }

    private static func decodedString(_ escaped: UnsafeRawBufferPointer) -> String {
        String(decoding: Array(UnescapedBytes(escaped)), as: UTF8.self)
    }

    /// The member `name` of an object, or `nil` (also when this is not an object).
    subscript(name: String) -> JSONValue? {
        guard case .object(let members) = self else {
            return nil
        }
        return members[name]
    }
}
