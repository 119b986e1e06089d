/// A claim or header name as `auth_jwt_require_claim` takes it, in kjdev/nginx-auth-jwt's syntax.
///
/// Text that starts with `.` or `[` is a JQ-like path:
///
///     path    = step+
///     step    = "." key | "." quoted | "[" index "]"
///     key     = [A-Za-z_] [A-Za-z0-9_-]*
///     quoted  = '"' (any byte but '"')+ '"'     (no escapes: the bytes are the name)
///     index   = "0" | [1-9] [0-9]*
///
/// so `.realm_access.roles`, `."dotted.key"`, `.roles[0]` and `.matrix[0][1]`. Any other text is one member name,
/// taken as it is (`realm_access.roles` is the member of that name, as kjdev reads it without
/// `auth_jwt_allow_nested`).
///
/// Built at configuration time and immutable: requests only read it.
public final class ClaimPath: Sendable {
    /// One step from a value to a value inside it.
    enum Step: Hashable {
        /// The member whose decoded name is these bytes of `names`.
        case member(Range<Int>)
        /// The element at this position (from 0) of an array.
        case index(Int)
    }

    /// The most steps a path may take: one per level of nesting a document may have (`AJWT_MAX_JSON_DEPTH`).
    public static var maximumSteps: Int { ABILimits.maximumJSONDepth }

    /// The member names of every step, one after the other: one buffer per path, not one per step.
    let names: [UInt8]
    let steps: [Step]

    /// Parses `text`, copying what it needs from it.
    public convenience init(parsing text: UnsafeRawBufferPointer) throws(ClaimPathError) {
        guard let first = text.first else {
            throw .empty
        }
        guard Self.isJQPath(first) else {
            self.init(names: Array(text), steps: [.member(0..<text.count)])
            return
        }
        var parser = Parser(text)
        try parser.parse()
        self.init(names: parser.names, steps: parser.steps)
    }

    init(names: [UInt8], steps: [Step]) {
        self.names = names
        self.steps = steps
    }

    /// Whether text starting with `byte` is a JQ-like path.
    static func isJQPath(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ".") || byte == UInt8(ascii: "[")
    }
}

/// Why a claim path was refused; the description is for `nginx -t`.
public enum ClaimPathError: Error, Hashable, CustomStringConvertible {
    case empty
    /// A `.` not followed by a key or a quoted key.
    case missingKey
    case unterminatedQuote
    case emptyQuotedKey
    /// `[` not followed by digits (without a leading zero) and `]`, or a number too large.
    case invalidIndex
    /// A byte where a step must start.
    case unexpectedCharacter
    case tooManySteps
    /// `auth_jwt_allow_nested`: a quoted key followed by something other than the delimiter.
    case textAfterQuote
    /// `auth_jwt_allow_nested`: a name of delimiters only, which names no member.
    case noMember
    /// `auth_jwt_allow_nested`: an empty delimiter or quote, or one that starts the other (ambiguous).
    case invalidNesting

    public var description: String {
        switch self {
        case .empty: return "empty claim name"
        case .missingKey: return "invalid path: \".\" must be followed by a key or a quoted key"
        case .unterminatedQuote: return "invalid path: unterminated quoted key"
        case .emptyQuotedKey: return "invalid path: empty quoted key"
        case .invalidIndex: return "invalid path: an index must be \"[\" digits \"]\" without a leading zero"
        case .unexpectedCharacter: return "invalid path: each step must start with \".\" or \"[\""
        case .tooManySteps: return "invalid path: more than \(ClaimPath.maximumSteps) steps"
        case .textAfterQuote: return "a quoted key must be followed by the delimiter or end the name"
        case .noMember: return "the name holds no key, only delimiters"
        case .invalidNesting:
            return "the delimiter and the quote must be non-empty and neither may start with the other"
        }
    }
}

extension ClaimPath {
    /// Reads a JQ-like path into steps.
    private struct Parser {
        let text: UnsafeRawBufferPointer
        var position = 0
        var names: [UInt8] = []
        var steps: [Step] = []

        init(_ text: UnsafeRawBufferPointer) {
            self.text = text
        }

        mutating func parse() throws(ClaimPathError) {
            while let byte = self.peek() {
                guard self.steps.count < ClaimPath.maximumSteps else {
                    throw .tooManySteps
                }
                self.position += 1
                switch byte {
                case UInt8(ascii: "."):
                    try self.parseKey()
                case UInt8(ascii: "["):
                    try self.parseIndex()
                default:
                    throw .unexpectedCharacter
                }
            }
        }

        /// After a `.`: a key or a quoted key.
        private mutating func parseKey() throws(ClaimPathError) {
            guard let first = self.peek() else {
                throw .missingKey
            }
            let start: Int
            let end: Int
            if first == UInt8(ascii: "\"") {
                start = self.position + 1
                guard let close = self.text[start...].firstIndex(of: UInt8(ascii: "\"")) else {
                    throw .unterminatedQuote
                }
                guard close > start else {
                    throw .emptyQuotedKey
                }
                end = close
                self.position = close + 1
            } else {
                guard Self.isKeyStart(first) else {
                    throw .missingKey
                }
                start = self.position
                self.position += 1
                while let byte = self.peek(), Self.isKeyStart(byte) || Self.isDigit(byte) || byte == UInt8(ascii: "-") {
                    self.position += 1
                }
                end = self.position
            }
            let nameStart = self.names.count
            self.names.append(contentsOf: self.text[start..<end])
            self.steps.append(.member(nameStart..<self.names.count))
        }

        /// After a `[`: digits and `]`.
        private mutating func parseIndex() throws(ClaimPathError) {
            let start = self.position
            var index = 0
            while let byte = self.peek(), Self.isDigit(byte) {
                let (shifted, overflow) = index.multipliedReportingOverflow(by: 10)
                let (sum, carry) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                guard !overflow, !carry else {
                    throw .invalidIndex
                }
                index = sum
                self.position += 1
            }
            let digits = self.position - start
            guard digits > 0, digits == 1 || self.text[start] != UInt8(ascii: "0"),
                self.peek() == UInt8(ascii: "]")
            else {
                throw .invalidIndex
            }
            self.position += 1
            self.steps.append(.index(index))
        }

        private func peek() -> UInt8? {
            self.position < self.text.count ? self.text[self.position] : nil
        }

        private static func isKeyStart(_ byte: UInt8) -> Bool {
            ASCII.lowercased(byte) &- UInt8(ascii: "a") < 26 || byte == UInt8(ascii: "_")
        }

        private static func isDigit(_ byte: UInt8) -> Bool {
            byte &- UInt8(ascii: "0") < 10
        }
    }
}

extension JSONLookup {
    /// Finds the value at `path` in `document`, a JSON text that verification accepted, as
    /// `value(at:in:ignoringCase:)` does: member names match exactly (after unescaping), an index takes an array's
    /// element (an index past the end, or a step into a value of the wrong kind, finds nothing).
    ///
    /// - Returns: the value's kind and bytes inside `document` (for a string, its escaped contents without the
    ///   quotes), or `nil` if there is no such value.
    public static func value(
        at path: ClaimPath,
        in document: UnsafeRawBufferPointer
    ) -> (kind: JSONKind, bytes: UnsafeRawBufferPointer)? {
        self.value(at: path, from: JSONSpan(kind: .object, bytes: document), step: 0).map { ($0.kind, $0.bytes) }
    }

    /// The value at the steps of `path` from `step` on, starting from `value` (the value the steps before lead
    /// to).
    static func value(at path: ClaimPath, from value: JSONSpan, step first: Int) -> JSONSpan? {
        guard first < path.steps.count else {
            return value
        }
        return path.names.withUnsafeBytes { names in
            do {
                var value = value
                for nesting in first..<path.steps.count {
                    let next: JSONSpan?
                    switch path.steps[nesting] {
                    case .member(let range):
                        guard value.kind == .object else {
                            return nil
                        }
                        next = try self.member(
                            named: UnsafeRawBufferPointer(rebasing: names[range]),
                            in: value.bytes,
                            nesting: nesting,
                            ignoringCase: false
                        )
                    case .index(let index):
                        guard value.kind == .array else {
                            return nil
                        }
                        next = try self.element(at: index, in: value.bytes, nesting: nesting)
                    }
                    guard let next else {
                        return nil
                    }
                    value = next
                }
                return value
            } catch {
                return nil
            }
        }
    }
}
