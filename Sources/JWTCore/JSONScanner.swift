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
package enum JSONError: Error, Hashable {
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
    /// A document too large to index (2 GiB or more), or member names beyond the storage the caller provided.
    case tooLarge
}

/// A scanned JSON value: its kind and its bytes. For a string the bytes are its escaped contents, without the
/// quotes (see `UnescapedBytes`); for anything else, the value's JSON text.
package struct JSONSpan {
    package let kind: JSONKind
    package let bytes: UnsafeRawBufferPointer
}

extension JSONSpan {
    /// The value of `document`, a JSON text validated earlier, read from its first byte without scanning it again.
    init(validated document: UnsafeRawBufferPointer) {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        let start = document.firstIndex { !isSpace($0) } ?? document.endIndex
        let end = (document.lastIndex { !isSpace($0) }).map { $0 + 1 } ?? start
        let text = UnsafeRawBufferPointer(rebasing: document[start..<max(start, end)])
        switch text.first {
        case UInt8(ascii: "\""):
            // A string's span is its contents, still escaped, as the scanner gives it.
            self.init(kind: .string, bytes: UnsafeRawBufferPointer(rebasing: text.dropFirst().dropLast()))
        case UInt8(ascii: "{"): self.init(kind: .object, bytes: text)
        case UInt8(ascii: "["): self.init(kind: .array, bytes: text)
        case UInt8(ascii: "t"): self.init(kind: .true, bytes: text)
        case UInt8(ascii: "f"): self.init(kind: .false, bytes: text)
        case UInt8(ascii: "n"): self.init(kind: .null, bytes: text)
        default: self.init(kind: .number, bytes: text)
        }
    }
}

/// Receives the members of the top-level object while a document is validated, so that a caller reads what it
/// needs (a header's `alg`, a payload's `exp`) in the same pass.
protocol JSONMemberVisitor {
    /// Called for each top-level member, in document order, before the document is known to be valid: nothing
    /// may be concluded until validation returns.
    mutating func visit(_ name: JSONName, _ value: JSONSpan)
}

/// A visitor that reads nothing.
struct JSONIgnoringVisitor: JSONMemberVisitor {
    @inline(__always)
    mutating func visit(_ name: JSONName, _ value: JSONSpan) {}
}

/// A strict RFC 8259 scanner over raw bytes: no copies, no allocation.
///
/// Besides RFC 8259's grammar it rejects what RFC 7515 and RFC 7519 leave ambiguous or dangerous in a token:
/// duplicate member names (compared after unescaping), invalid UTF-8 (overlong forms, encoded surrogates,
/// scalars above U+10FFFF), lone surrogate escapes, and nesting deeper than `maximumNesting`.
///
/// It runs on every request, over every header and payload, so it reads through a pointer that it compares with
/// the end, rather than through offsets into a buffer.
package struct JSONScanner {
    /// The deepest nesting of arrays and objects accepted (`AJWT_MAX_JSON_DEPTH`).
    static var maximumNesting: Int { ABILimits.maximumJSONDepth }

    /// The longest document scanned: member names are recorded as 31-bit offsets (`MemberName`).
    static let maximumDocumentCount = Int(Int32.max)

    /// The document; never with a `nil` base, so that `cursor` and `end` always point into it.
    private let bytes: UnsafeRawBufferPointer
    private let end: UnsafePointer<UInt8>
    /// The next byte to read.
    private var cursor: UnsafePointer<UInt8>
    /// Names of the members of the objects being scanned, checked for duplicates when each object closes;
    /// `nil` when scanning text that was already validated.
    private var openMemberNames: MemberNameStack?

    package init(_ bytes: UnsafeRawBufferPointer, memberNames: MemberNameStack? = nil) {
        // An empty buffer may have no address; it scans as the empty document at a constant string's.
        let bytes = bytes.baseAddress == nil ? UnsafeRawBufferPointer(start: ("" as StaticString).utf8Start, count: 0) : bytes
        let start = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        self.bytes = bytes
        self.cursor = start
        self.end = start + bytes.count
        self.openMemberNames = memberNames
    }

    /// Validates `document` as a complete JSON text and returns its top-level value.
    ///
    /// - Parameter memberNameStorage: room for the member names of the objects open at once; at least
    ///   `MemberNameStack.capacity(forDocumentCount: document.count)` entries guarantees it suffices.
    package static func validate(
        _ document: UnsafeRawBufferPointer,
        memberNameStorage: UnsafeMutableBufferPointer<MemberName>
    ) throws(JSONError) -> JSONSpan {
        var visitor = JSONIgnoringVisitor()
        return try self.validate(document, memberNameStorage: memberNameStorage, visitingMembers: &visitor)
    }

    /// Validates `document` as `validate(_:memberNameStorage:)` does, showing `visitor` the members of the
    /// top-level value when it is an object.
    static func validate<Visitor: JSONMemberVisitor>(
        _ document: UnsafeRawBufferPointer,
        memberNameStorage: UnsafeMutableBufferPointer<MemberName>,
        visitingMembers visitor: inout Visitor
    ) throws(JSONError) -> JSONSpan {
        guard document.count <= Self.maximumDocumentCount else {
            throw .tooLarge
        }
        var scanner = JSONScanner(document, memberNames: MemberNameStack(storage: memberNameStorage))
        return try scanner.scanDocument(visitingMembers: &visitor)
    }

    /// Validates `document` with temporary storage for member names; for configuration time and tests.
    static func validate(_ document: UnsafeRawBufferPointer) throws(JSONError) -> JSONSpan {
        var storage = [MemberName](
            repeating: MemberName(start: 0, end: 0, hasEscape: false),
            count: MemberNameStack.capacity(forDocumentCount: document.count)
        )
        return try storage.withUnsafeMutableBufferPointer { (storage) throws(JSONError) -> JSONSpan in
            try validate(document, memberNameStorage: storage)
        }
    }

    /// Scans the whole input as one JSON text: a value with nothing but whitespace around it.
    mutating func scanDocument() throws(JSONError) -> JSONSpan {
        var visitor = JSONIgnoringVisitor()
        return try self.scanDocument(visitingMembers: &visitor)
    }

    /// Scans the whole input as `scanDocument()` does, showing `visitor` the members of the top-level value when
    /// it is an object.
    mutating func scanDocument<Visitor: JSONMemberVisitor>(
        visitingMembers visitor: inout Visitor
    ) throws(JSONError) -> JSONSpan {
        self.skipWhitespace()
        let value: JSONSpan
        if self.peek() == UInt8(ascii: "{") {
            let start = self.cursor
            try self.scanObject(nesting: 0, visitor: &visitor)
            value = JSONSpan(kind: .object, bytes: Self.span(start, self.cursor))
        } else {
            value = try self.scanValue(nesting: 0)
        }
        self.skipWhitespace()
        guard self.cursor == self.end else {
            throw .trailingData
        }
        return value
    }

    /// Scans the next member of the object whose opening brace was consumed by `enterContainer()`.
    ///
    /// - Returns: the member's name and its value, or `nil` after the closing brace.
    @inline(__always)
    package mutating func scanMember(
        isFirst: inout Bool,
        nesting: Int
    ) throws(JSONError) -> (name: JSONName, value: JSONSpan)? {
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
        let value = try self.scanValue(nesting: nesting)
        return (name, value)
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
    @inline(__always)
    package mutating func enterContainer(nesting: Int) throws(JSONError) -> Int {
        guard nesting < Self.maximumNesting else {
            throw .tooDeep
        }
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: "{") || self.peek() == UInt8(ascii: "[") else {
            throw .syntax
        }
        self.cursor += 1
        return nesting + 1
    }

    /// Consumes the whitespace and the opening brace of the object that starts the text, and returns the nesting of
    /// its contents; `nil` if the text does not start with an object.
    mutating func enterObject(nesting: Int) throws(JSONError) -> Int? {
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: "{") else {
            return nil
        }
        return try self.enterContainer(nesting: nesting)
    }

    /// Scans one value at the cursor; `nesting` is the number of containers around it.
    mutating func scanValue(nesting: Int) throws(JSONError) -> JSONSpan {
        guard let first = self.peek() else {
            throw .syntax
        }
        let start = self.cursor
        let kind: JSONKind
        switch first {
        case UInt8(ascii: "\""):
            return JSONSpan(kind: .string, bytes: try self.scanString().escaped)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            self.cursor = try Self.scanNumber(from: start, to: self.end)
            kind = .number
        case UInt8(ascii: "{"):
            var ignoring = JSONIgnoringVisitor()
            try self.scanObject(nesting: nesting, visitor: &ignoring)
            kind = .object
        case UInt8(ascii: "["):
            try self.scanArray(nesting: nesting)
            kind = .array
        case UInt8(ascii: "t"):
            try self.consumeLiteral("true")
            kind = .true
        case UInt8(ascii: "f"):
            try self.consumeLiteral("false")
            kind = .false
        case UInt8(ascii: "n"):
            try self.consumeLiteral("null")
            kind = .null
        default:
            throw .syntax
        }
        return JSONSpan(kind: kind, bytes: Self.span(start, self.cursor))
    }

    private mutating func scanObject<Visitor: JSONMemberVisitor>(
        nesting: Int,
        visitor: inout Visitor
    ) throws(JSONError) {
        let contentNesting = try self.enterContainer(nesting: nesting)
        let firstName = self.openMemberNames?.count ?? 0
        var isFirst = true
        while let member = try self.scanMember(isFirst: &isFirst, nesting: contentNesting) {
            try self.openMemberNames?.push(member.name, in: self.bytes)
            visitor.visit(member.name, member.value)
        }
        try self.openMemberNames?.popNames(from: firstName, in: self.bytes)
    }

    private mutating func scanArray(nesting: Int) throws(JSONError) {
        let contentNesting = try self.enterContainer(nesting: nesting)
        var isFirst = true
        while try self.scanElement(isFirst: &isFirst, nesting: contentNesting) != nil {}
    }

    /// Moves past the separator before the next item of a container; `false` once its closing byte is consumed.
    @inline(__always)
    private mutating func advanceToNextItem(isFirst: inout Bool, closing: UInt8) throws(JSONError) -> Bool {
        self.skipWhitespace()
        if self.peek() == closing {
            self.cursor += 1
            return false
        }
        if !isFirst {
            try self.consume(UInt8(ascii: ","))
            self.skipWhitespace()
        }
        isFirst = false
        return true
    }

    /// Scans a string at the cursor (its opening quote) and returns its escaped contents.
    @inline(__always)
    private mutating func scanString() throws(JSONError) -> JSONName {
        let start = self.cursor + 1
        let end = self.end
        var next = start
        var hasEscape = false
        while true {
            next = Self.skipPlainStringBytes(from: next, to: end)
            guard next < end else {
                throw .syntax
            }
            switch JSONStringByte.classes[Int(next.pointee)] {
            case JSONStringByte.quote:
                self.cursor = next + 1
                return JSONName(escaped: Self.span(start, next), hasEscape: hasEscape)
            case JSONStringByte.backslash:
                hasEscape = true
                next = try Self.scanEscape(at: next, to: end)
            case JSONStringByte.control:
                throw .controlCharacter
            default:
                next = try Self.scanMultibyteCharacter(at: next, to: end)
            }
        }
    }

    /// Where the run of plain string bytes (printable ASCII other than the quote and the backslash: nearly every
    /// byte of a token) that starts at `start` ends.
    ///
    /// Eight bytes at a time while eight remain: the usual bit tricks flag, in one word, the bytes below 0x20, at
    /// or above 0x80, or equal to `"` or `\`. A flag can spill into the bytes above a flagged one, never below,
    /// so the lowest flag is exact.
    @inline(__always)
    private static func skipPlainStringBytes(
        from start: UnsafePointer<UInt8>,
        to end: UnsafePointer<UInt8>
    ) -> UnsafePointer<UInt8> {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var next = start
        while end - next >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(next).loadUnaligned(as: UInt64.self))
            let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
            let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
            let flags =
                ((word &- ones &* 0x20) & ~word)  // below 0x20
                | word  // 0x80 and above
                | ((quotes &- ones) & ~quotes)  // zero where a quote was
                | ((backslashes &- ones) & ~backslashes)
            let special = flags & highBits
            guard special == 0 else {
                return next + special.trailingZeroBitCount / 8
            }
            next += 8
        }
        while next < end, JSONStringByte.classes[Int(next.pointee)] == JSONStringByte.plain {
            next += 1
        }
        return next
    }

    /// Scans the escape sequence at `start` (its backslash) and returns where it ends.
    private static func scanEscape(
        at start: UnsafePointer<UInt8>,
        to end: UnsafePointer<UInt8>
    ) throws(JSONError) -> UnsafePointer<UInt8> {
        guard end - start >= 2 else {
            throw .syntax
        }
        switch start[1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return start + 2
        case UInt8(ascii: "u"):
            let rest = UnsafeRawBufferPointer(start: start, count: end - start)
            guard let unit = JSONEscape.hexQuad(in: rest, at: 2) else {
                throw .invalidEscape
            }
            if JSONEscape.isLowSurrogate(unit) {
                throw .invalidEscape
            }
            if JSONEscape.isHighSurrogate(unit) {
                guard JSONEscape.lowSurrogate(in: rest, at: 6) != nil else {
                    throw .invalidEscape
                }
                return start + 12
            }
            return start + 6
        default:
            throw .invalidEscape
        }
    }

    /// Scans the well-formed UTF-8 sequence of 2 to 4 bytes (Unicode 15, table 3-7) at `start` and returns where it
    /// ends.
    private static func scanMultibyteCharacter(
        at start: UnsafePointer<UInt8>,
        to end: UnsafePointer<UInt8>
    ) throws(JSONError) -> UnsafePointer<UInt8> {
        let length: Int
        let secondByteRange: ClosedRange<UInt8>
        switch start[0] {
        case 0xC2...0xDF: (length, secondByteRange) = (2, 0x80...0xBF)
        case 0xE0: (length, secondByteRange) = (3, 0xA0...0xBF)  // no overlong forms
        case 0xE1...0xEC, 0xEE...0xEF: (length, secondByteRange) = (3, 0x80...0xBF)
        case 0xED: (length, secondByteRange) = (3, 0x80...0x9F)  // no encoded surrogates
        case 0xF0: (length, secondByteRange) = (4, 0x90...0xBF)  // no overlong forms
        case 0xF1...0xF3: (length, secondByteRange) = (4, 0x80...0xBF)
        case 0xF4: (length, secondByteRange) = (4, 0x80...0x8F)  // nothing above U+10FFFF
        default: throw .invalidUTF8
        }
        guard end - start >= length, secondByteRange.contains(start[1]) else {
            throw .invalidUTF8
        }
        for offset in 2..<length where !(0x80...0xBF).contains(start[offset]) {
            throw .invalidUTF8
        }
        return start + length
    }

    /// Scans `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` at `start` and returns where it ends.
    private static func scanNumber(
        from start: UnsafePointer<UInt8>,
        to end: UnsafePointer<UInt8>
    ) throws(JSONError) -> UnsafePointer<UInt8> {
        // Past the end reads as a NUL, which no part of a number matches.
        @inline(__always)
        func byte(at position: UnsafePointer<UInt8>) -> UInt8 {
            position < end ? position.pointee : 0
        }
        var next = start
        if byte(at: next) == UInt8(ascii: "-") {
            next += 1
        }
        if byte(at: next) == UInt8(ascii: "0") {
            next += 1
            if Self.isDigit(byte(at: next)) {
                throw .invalidNumber
            }
        } else {
            next = try Self.scanDigits(from: next, to: end)
        }
        if byte(at: next) == UInt8(ascii: ".") {
            next = try Self.scanDigits(from: next + 1, to: end)
        }
        if byte(at: next) | 0x20 == UInt8(ascii: "e") {
            next += 1
            if byte(at: next) == UInt8(ascii: "+") || byte(at: next) == UInt8(ascii: "-") {
                next += 1
            }
            next = try Self.scanDigits(from: next, to: end)
        }
        return next
    }

    /// Scans one or more decimal digits at `start` and returns where they end.
    @inline(__always)
    private static func scanDigits(
        from start: UnsafePointer<UInt8>,
        to end: UnsafePointer<UInt8>
    ) throws(JSONError) -> UnsafePointer<UInt8> {
        var next = start
        while next < end, Self.isDigit(next.pointee) {
            next += 1
        }
        guard next > start else {
            throw .invalidNumber
        }
        return next
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    private mutating func consumeLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        guard self.end - self.cursor >= count,
            UnsafeBufferPointer(start: self.cursor, count: count).elementsEqual(
                UnsafeBufferPointer(start: literal.utf8Start, count: count)
            )
        else {
            throw .syntax
        }
        self.cursor += count
    }

    @inline(__always)
    private mutating func consume(_ expected: UInt8) throws(JSONError) {
        guard self.peek() == expected else {
            throw .syntax
        }
        self.cursor += 1
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        // Anything above the space is not whitespace: one test for the usual case, a token without any.
        var next = self.cursor
        while next < self.end, next.pointee <= 0x20 {
            switch next.pointee {
            case 0x20, 0x0A, 0x0D, 0x09: next += 1
            default:
                self.cursor = next
                return
            }
        }
        self.cursor = next
    }

    @inline(__always)
    private func peek() -> UInt8? {
        self.cursor < self.end ? self.cursor.pointee : nil
    }

    @inline(__always)
    private static func span(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: start, count: end - start)
    }
}

/// How `JSONScanner` treats each byte inside a string.
enum JSONStringByte {
    /// Printable ASCII other than `"` and `\`: taken as is.
    static let plain: UInt8 = 0
    static let quote: UInt8 = 1
    static let backslash: UInt8 = 2
    /// Below U+0020: never allowed raw.
    static let control: UInt8 = 3
    /// The start (or, wrongly, the middle) of a multibyte UTF-8 sequence.
    static let nonASCII: UInt8 = 4

    /// The class of every byte. A literal, so that the compiler lays it out as constant data: no lazy
    /// initialization on the request path.
    static let classes: [UInt8] = [
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    ]
}
