/// The kind of a JSON value.
public enum JSONKind: Sendable, Hashable {
    case string
    case number
    case `true`
    case `false`
    case null
    case array
    case object
}

/// Why a JSON text was rejected.
enum JSONError: Error, Hashable {
    /// Not JSON: an unexpected byte, a missing separator, a truncated value, `NaN`, `Infinity`, ...
    case syntax
    /// A number outside RFC 8259's grammar (`01`, `1.`, `+1`, `.5`, `1e`).
    case invalidNumber
    /// A string holding a byte sequence that is not well-formed UTF-8.
    case invalidUTF8
    /// An unknown escape, a malformed `\u` escape, or a lone surrogate.
    case invalidEscape
    /// A raw control character (below U+0020) inside a string.
    case controlCharacter
    /// Arrays and objects nested deeper than `JSONScanner.maximumNesting`.
    case tooDeep
    /// An object with two members of the same (decoded) name.
    case duplicateMemberName
    /// Bytes after the top-level value.
    case trailingData
    /// A document too large to index (over 4 GiB), or member names beyond the storage the caller provided.
    case tooLarge
}

/// A scanned JSON value: its kind and its bytes. For a string the bytes are its escaped contents, without the
/// quotes (see `UnescapedBytes`); for anything else, the value's JSON text.
struct JSONSpan {
    let kind: JSONKind
    let bytes: UnsafeRawBufferPointer
}

/// A strict RFC 8259 scanner over raw bytes: no copies, no allocation.
///
/// Besides RFC 8259's grammar it rejects what RFC 7515 and RFC 7519 leave ambiguous or dangerous in a token:
/// duplicate member names (compared after unescaping), invalid UTF-8 (overlong forms, encoded surrogates,
/// scalars above U+10FFFF), lone surrogate escapes, and nesting deeper than `maximumNesting`.
struct JSONScanner {
    /// The deepest nesting of arrays and objects accepted (`AJWT_MAX_JSON_DEPTH`).
    static let maximumNesting = 32

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    /// Names of the members of the objects being scanned, checked for duplicates when each object closes;
    /// `nil` when scanning text that was already validated.
    private var openMemberNames: MemberNameStack?

    init(_ bytes: UnsafeRawBufferPointer, memberNames: MemberNameStack? = nil) {
        self.bytes = bytes
        self.openMemberNames = memberNames
    }

    /// Validates `document` as a complete JSON text and returns its top-level value.
    ///
    /// - Parameter memberNameStorage: room for the member names of the objects open at once; at least
    ///   `MemberNameStack.capacity(forDocumentCount: document.count)` entries guarantees it suffices.
    static func validate(
        _ document: UnsafeRawBufferPointer,
        memberNameStorage: UnsafeMutableBufferPointer<MemberName>
    ) throws(JSONError) -> JSONSpan {
        guard document.count <= Int(UInt32.max) else {
            throw .tooLarge
        }
        var scanner = JSONScanner(document, memberNames: MemberNameStack(storage: memberNameStorage))
        return try scanner.scanDocument()
    }

    /// Validates `document` with temporary storage for member names; for configuration time and tests.
    static func validate(_ document: UnsafeRawBufferPointer) throws(JSONError) -> JSONSpan {
        var storage = [MemberName](
            repeating: MemberName(start: 0, end: 0),
            count: MemberNameStack.capacity(forDocumentCount: document.count)
        )
        return try storage.withUnsafeMutableBufferPointer { (storage) throws(JSONError) -> JSONSpan in
            try validate(document, memberNameStorage: storage)
        }
    }

    /// Scans the whole input as one JSON text: a value with nothing but whitespace around it.
    mutating func scanDocument() throws(JSONError) -> JSONSpan {
        self.skipWhitespace()
        let value = try self.scanValue(nesting: 0)
        self.skipWhitespace()
        guard self.position == self.bytes.count else {
            throw .trailingData
        }
        return value
    }

    /// Scans the next member of the object whose opening brace was consumed by `enterContainer()`.
    ///
    /// - Returns: the member's escaped name and its value, or `nil` after the closing brace.
    mutating func scanMember(
        isFirst: inout Bool,
        nesting: Int
    ) throws(JSONError) -> (name: UnsafeRawBufferPointer, value: JSONSpan)? {
        guard try self.advanceToNextItem(isFirst: &isFirst, closing: UInt8(ascii: "}")) else {
            return nil
        }
        guard self.peek() == UInt8(ascii: "\"") else {
            throw .syntax
        }
        let name = try self.scanString()
        self.skipWhitespace()
        try self.consume(UInt8(ascii: ":"))
        self.skipWhitespace()
        return (name.bytes, try self.scanValue(nesting: nesting))
    }

    /// Scans the next element of the array whose opening bracket was consumed by `enterContainer()`.
    ///
    /// - Returns: the element, or `nil` after the closing bracket.
    mutating func scanElement(isFirst: inout Bool, nesting: Int) throws(JSONError) -> JSONSpan? {
        guard try self.advanceToNextItem(isFirst: &isFirst, closing: UInt8(ascii: "]")) else {
            return nil
        }
        return try self.scanValue(nesting: nesting)
    }

    /// Consumes the opening byte of an array or object and returns the nesting of its contents.
    ///
    /// Whitespace before it is skipped: a whole document (a header, a payload, a session record) may have some
    /// around its value.
    mutating func enterContainer(nesting: Int) throws(JSONError) -> Int {
        guard nesting < Self.maximumNesting else {
            throw .tooDeep
        }
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: "{") || self.peek() == UInt8(ascii: "[") else {
            throw .syntax
        }
        self.position += 1
        return nesting + 1
    }

    /// Scans one value at the current position; `nesting` is the number of containers around it.
    mutating func scanValue(nesting: Int) throws(JSONError) -> JSONSpan {
        guard let first = self.peek() else {
            throw .syntax
        }
        let start = self.position
        let kind: JSONKind
        switch first {
        case UInt8(ascii: "{"):
            try self.scanObject(nesting: nesting)
            kind = .object
        case UInt8(ascii: "["):
            try self.scanArray(nesting: nesting)
            kind = .array
        case UInt8(ascii: "\""):
            return try self.scanString()
        case UInt8(ascii: "t"):
            try self.consumeLiteral("true")
            kind = .true
        case UInt8(ascii: "f"):
            try self.consumeLiteral("false")
            kind = .false
        case UInt8(ascii: "n"):
            try self.consumeLiteral("null")
            kind = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try self.scanNumber()
            kind = .number
        default:
            throw .syntax
        }
        return JSONSpan(kind: kind, bytes: self.slice(start..<self.position))
    }

    private mutating func scanObject(nesting: Int) throws(JSONError) {
        let contentNesting = try self.enterContainer(nesting: nesting)
        let firstName = self.openMemberNames?.count ?? 0
        var isFirst = true
        while let member = try self.scanMember(isFirst: &isFirst, nesting: contentNesting) {
            try self.openMemberNames?.push(member.name, in: self.bytes)
        }
        try self.openMemberNames?.popNames(from: firstName, in: self.bytes)
    }

    private mutating func scanArray(nesting: Int) throws(JSONError) {
        let contentNesting = try self.enterContainer(nesting: nesting)
        var isFirst = true
        while try self.scanElement(isFirst: &isFirst, nesting: contentNesting) != nil {}
    }

    /// Moves past the separator before the next item of a container; `false` once its closing byte is consumed.
    private mutating func advanceToNextItem(isFirst: inout Bool, closing: UInt8) throws(JSONError) -> Bool {
        self.skipWhitespace()
        if self.peek() == closing {
            self.position += 1
            return false
        }
        if !isFirst {
            try self.consume(UInt8(ascii: ","))
            self.skipWhitespace()
        }
        isFirst = false
        return true
    }

    /// Scans a string at the current position (its opening quote) and returns its escaped contents.
    private mutating func scanString() throws(JSONError) -> JSONSpan {
        self.position += 1
        let start = self.position
        while let byte = self.peek() {
            switch byte {
            case UInt8(ascii: "\""):
                let contents = self.slice(start..<self.position)
                self.position += 1
                return JSONSpan(kind: .string, bytes: contents)
            case UInt8(ascii: "\\"):
                try self.scanEscape()
            case 0x00..<0x20:
                throw .controlCharacter
            case 0x20..<0x80:
                self.position += 1
            default:
                try self.scanMultibyteCharacter()
            }
        }
        throw .syntax
    }

    /// Scans an escape sequence at the current position (its backslash).
    private mutating func scanEscape() throws(JSONError) {
        guard self.position + 1 < self.bytes.count else {
            throw .syntax
        }
        switch self.bytes[self.position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            self.position += 2
        case UInt8(ascii: "u"):
            guard let unit = JSONEscape.hexQuad(in: self.bytes, at: self.position + 2) else {
                throw .invalidEscape
            }
            self.position += 6
            if JSONEscape.isLowSurrogate(unit) {
                throw .invalidEscape
            }
            if JSONEscape.isHighSurrogate(unit) {
                guard JSONEscape.lowSurrogate(in: self.bytes, at: self.position) != nil else {
                    throw .invalidEscape
                }
                self.position += 6
            }
        default:
            throw .invalidEscape
        }
    }

    /// Scans one well-formed UTF-8 sequence of 2 to 4 bytes (Unicode 15, table 3-7).
    private mutating func scanMultibyteCharacter() throws(JSONError) {
        let lead = self.bytes[self.position]
        let length: Int
        let secondByteRange: ClosedRange<UInt8>
        switch lead {
        case 0xC2...0xDF: (length, secondByteRange) = (2, 0x80...0xBF)
        case 0xE0: (length, secondByteRange) = (3, 0xA0...0xBF)  // no overlong forms
        case 0xE1...0xEC, 0xEE...0xEF: (length, secondByteRange) = (3, 0x80...0xBF)
        case 0xED: (length, secondByteRange) = (3, 0x80...0x9F)  // no encoded surrogates
        case 0xF0: (length, secondByteRange) = (4, 0x90...0xBF)  // no overlong forms
        case 0xF1...0xF3: (length, secondByteRange) = (4, 0x80...0xBF)
        case 0xF4: (length, secondByteRange) = (4, 0x80...0x8F)  // nothing above U+10FFFF
        default: throw .invalidUTF8
        }
        guard self.position + length <= self.bytes.count,
            secondByteRange.contains(self.bytes[self.position + 1])
        else {
            throw .invalidUTF8
        }
        for offset in 2..<length where !(0x80...0xBF).contains(self.bytes[self.position + offset]) {
            throw .invalidUTF8
        }
        self.position += length
    }

    /// Scans `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func scanNumber() throws(JSONError) {
        if self.peek() == UInt8(ascii: "-") {
            self.position += 1
        }
        if self.peek() == UInt8(ascii: "0") {
            self.position += 1
            if self.peekIsDigit() {
                throw .invalidNumber
            }
        } else {
            try self.scanDigits()
        }
        if self.peek() == UInt8(ascii: ".") {
            self.position += 1
            try self.scanDigits()
        }
        if self.peek() == UInt8(ascii: "e") || self.peek() == UInt8(ascii: "E") {
            self.position += 1
            if self.peek() == UInt8(ascii: "+") || self.peek() == UInt8(ascii: "-") {
                self.position += 1
            }
            try self.scanDigits()
        }
    }

    /// Scans one or more decimal digits.
    private mutating func scanDigits() throws(JSONError) {
        guard self.peekIsDigit() else {
            throw .invalidNumber
        }
        while self.peekIsDigit() {
            self.position += 1
        }
    }

    private mutating func consumeLiteral(_ literal: StaticString) throws(JSONError) {
        let end = self.position + literal.utf8CodeUnitCount
        guard end <= self.bytes.count,
            self.slice(self.position..<end).elementsEqual(
                UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
            )
        else {
            throw .syntax
        }
        self.position = end
    }

    private mutating func consume(_ expected: UInt8) throws(JSONError) {
        guard self.peek() == expected else {
            throw .syntax
        }
        self.position += 1
    }

    private mutating func skipWhitespace() {
        while let byte = self.peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            self.position += 1
        }
    }

    private func peek() -> UInt8? {
        self.position < self.bytes.count ? self.bytes[self.position] : nil
    }

    private func peekIsDigit() -> Bool {
        guard let byte = self.peek() else {
            return false
        }
        return (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self.bytes[range])
    }
}
