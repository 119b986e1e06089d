internal import CAuthJWT

/// The result of checking a requirement.
public enum RequirementOutcome: Sendable, Hashable {
    case holds
    case fails
    /// The check could not be made (an absent claim, values that cannot be compared, an expected value that is
    /// not JSON or too large): the request is refused whether or not the operator is negated.
    case invalid
}

/// A requirement of `auth_jwt_require_claim` or `auth_jwt_require_header` on one value: an operator, possibly
/// negated, with kjdev/nginx-auth-jwt's semantics (ajwt.h's `ajwt_require_check()` states them in full).
///
/// The claim's value is read in place; a JSON expected value is validated strictly (as a token's JSON) and read in
/// place too. A check allocates nothing: the duplicate-name check of an expected object takes its room (two bytes
/// per byte of the value) from the stack when the thread has that much to spare.
public struct ClaimRequirement: Sendable, Hashable {
    /// The longest expected value checked (`AJWT_MAX_REQUIRE_VALUE_LEN`, kjdev's bound).
    public static var maximumExpectedLength: Int { Int(AJWT_MAX_REQUIRE_VALUE_LEN) }

    /// The most elements or members an array or object may have, in the claim or in the expected value
    /// (`AJWT_MAX_REQUIRE_ELEMENTS`, kjdev's bound): `any` compares every pair of two arrays' elements.
    public static var maximumElements: Int { Int(AJWT_MAX_REQUIRE_ELEMENTS) }

    public let `operator`: ClaimOperator
    public let isNegated: Bool

    public init(_ operator: ClaimOperator, negated: Bool = false) {
        self.operator = `operator`
        self.isNegated = negated
    }

    /// Checks the value at `path` in `document` (a header or payload verification accepted) against `expected`,
    /// as `check(_:against:expectedIsJSON:)` does; an absent value is `.invalid`.
    public func check(
        _ path: ClaimPath,
        in document: UnsafeRawBufferPointer,
        against expected: UnsafeRawBufferPointer,
        expectedIsJSON: Bool,
        expectedIsValidated: Bool = false
    ) -> RequirementOutcome {
        guard let value = JSONLookup.value(at: path, in: document) else {
            return .invalid
        }
        return self.check(
            value,
            against: expected,
            expectedIsJSON: expectedIsJSON,
            expectedIsValidated: expectedIsValidated
        )
    }

    /// Whether `expected` is a JSON value `check` can compare with (strict, within the size bounds): a literal
    /// checked once, at configuration time, is then passed with `expectedIsValidated` and never scanned again.
    public static func isValidExpected(_ expected: UnsafeRawBufferPointer) -> Bool {
        guard !expected.isEmpty, expected.count <= Self.maximumExpectedLength else {
            return false
        }
        return (try? Self.withValidated(expected) { (value) throws(Incomparable) -> Bool in
            try Self.checkSizes(of: value)
            return true
        }) ?? false
    }

    /// Checks `value`, a claim's kind and bytes as `JSONLookup` finds them, against `expected`: JSON text when
    /// `expectedIsJSON`, else a plain string's bytes (compared as a JSON string holding them).
    ///
    /// `.match` is always `.invalid`: the caller runs regular expressions.
    public func check(
        _ value: (kind: JSONKind, bytes: UnsafeRawBufferPointer),
        against expected: UnsafeRawBufferPointer,
        expectedIsJSON: Bool,
        expectedIsValidated: Bool = false
    ) -> RequirementOutcome {
        let holds: Bool
        do {
            let claim = JSONSpan(kind: value.kind, bytes: value.bytes)
            if expectedIsJSON && expectedIsValidated {
                guard self.operator != .match else {
                    throw Incomparable()
                }
                try Self.checkSizes(of: claim)
                holds = try self.compare(claim, JSONSpan(validated: expected))
            } else {
                holds = try self.evaluate(claim, expected, expectedIsJSON)
            }
        } catch {
            return .invalid
        }
        return holds != self.isNegated ? .holds : .fails
    }

    /// Whether the requirement holds before negation.
    private func evaluate(
        _ claim: JSONSpan,
        _ expected: UnsafeRawBufferPointer,
        _ expectedIsJSON: Bool
    ) throws(Incomparable) -> Bool {
        guard self.operator != .match, !expected.isEmpty, expected.count <= Self.maximumExpectedLength else {
            throw Incomparable()
        }
        try Self.checkSizes(of: claim)
        guard expectedIsJSON else {
            // A plain string: only `eq` can hold for one; the other operators want a number, an array or an object.
            guard self.operator == .equal, Self.isUTF8(expected) else {
                throw Incomparable()
            }
            return claim.kind == .string && JSONName(string: claim.bytes).equals(expected)
        }
        return try Self.withValidated(expected) { (expected) throws(Incomparable) -> Bool in
            try Self.checkSizes(of: expected)
            return try self.compare(claim, expected)
        }
    }

    private func compare(_ claim: JSONSpan, _ expected: JSONSpan) throws(Incomparable) -> Bool {
        switch self.operator {
        case .equal:
            return try JSONEquality.equal(claim, expected)
        case .greaterThan, .greaterThanOrEqual, .lessThan, .lessThanOrEqual:
            guard claim.kind == .number, expected.kind == .number else {
                throw Incomparable()
            }
            let order = JSONNumber.compare(try JSONNumber(claim.bytes), try JSONNumber(expected.bytes))
            switch self.operator {
            case .greaterThan: return order > 0
            case .greaterThanOrEqual: return order >= 0
            case .lessThan: return order < 0
            default: return order <= 0
            }
        case .in:
            switch expected.kind {
            case .array:
                return try Self.array(expected, hasElementEqualTo: claim)
            case .object:
                guard claim.kind == .string else {
                    throw Incomparable()
                }
                return try Self.object(expected, hasMemberNamed: JSONName(string: claim.bytes))
            default:
                throw Incomparable()
            }
        case .any:
            guard expected.kind == .array else {
                throw Incomparable()
            }
            guard claim.kind == .array else {
                return try Self.array(expected, hasElementEqualTo: claim)
            }
            return try Self.elements(of: claim) { (element) throws(Incomparable) in
                try Self.array(expected, hasElementEqualTo: element)
            }
        case .match:
            throw Incomparable()
        }
    }

    // MARK: - Reading values

    /// Validates `expected` as one strict JSON text (as a token's: no duplicate names, valid UTF-8, bounded
    /// nesting) and passes its value to `body`.
    private static func withValidated(
        _ expected: UnsafeRawBufferPointer,
        _ body: (JSONSpan) throws(Incomparable) -> Bool
    ) throws(Incomparable) -> Bool {
        // Only objects need room for their member names, for the duplicate check.
        let hasObject = expected.contains(UInt8(ascii: "{"))
        let capacity = hasObject ? MemberNameStack.capacity(forDocumentCount: expected.count) : 0
        return try withUnsafeTemporaryAllocation(of: MemberName.self, capacity: capacity) {
            (storage) throws(Incomparable) -> Bool in
            let value: JSONSpan
            do {
                value = try JSONScanner.validate(expected, memberNameStorage: storage)
            } catch {
                throw Incomparable()
            }
            return try body(value)
        }
    }

    /// Whether some element of `array` satisfies `predicate`, reading elements until one does.
    private static func elements(
        of array: JSONSpan,
        satisfy predicate: (JSONSpan) throws(Incomparable) -> Bool
    ) throws(Incomparable) -> Bool {
        do {
            var scanner = JSONScanner(array.bytes)
            let contentNesting = try scanner.enterContainer(nesting: 0)
            var isFirst = true
            while let element = try scanner.scanElement(isFirst: &isFirst, nesting: contentNesting) {
                if try predicate(element) {
                    return true
                }
            }
            return false
        } catch let error as Incomparable {
            throw error
        } catch {
            throw Incomparable()
        }
    }

    private static func array(_ array: JSONSpan, hasElementEqualTo value: JSONSpan) throws(Incomparable) -> Bool {
        try self.elements(of: array) { (element) throws(Incomparable) in
            try JSONEquality.equal(value, element)
        }
    }

    private static func object(_ object: JSONSpan, hasMemberNamed name: JSONName) throws(Incomparable) -> Bool {
        do {
            var scanner = JSONScanner(object.bytes)
            let contentNesting = try scanner.enterContainer(nesting: 0)
            var isFirst = true
            while let member = try scanner.scanMember(isFirst: &isFirst, nesting: contentNesting) {
                if member.name.equals(name) {
                    return true
                }
            }
            return false
        } catch {
            throw Incomparable()
        }
    }

    // MARK: - Bounds

    /// Refuses a value holding, at any depth, an array or object of more than `maximumElements` entries: one pass
    /// over its text counting separators, before any comparison walks it.
    static func checkSizes(of value: JSONSpan) throws(Incomparable) {
        let text = value.bytes
        let limit = Self.maximumElements
        // More than `limit` entries take at least 2 * limit + 3 bytes (`[0,0,...,0]`): a shorter text has none.
        guard value.kind == .array || value.kind == .object, text.count > 2 * limit + 2 else {
            return
        }
        // The separators seen in each open container; the outermost value is at depth 1.
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: ABILimits.maximumJSONDepth + 1) {
            (separators) throws(Incomparable) in
            var depth = 0
            var isInString = false
            var index = 0
            while index < text.count {
                let byte = text[index]
                index += 1
                if isInString {
                    if byte == UInt8(ascii: "\\") {
                        index += 1
                    } else if byte == UInt8(ascii: "\"") {
                        isInString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""):
                    isInString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    guard depth < separators.count else {
                        throw Incomparable()
                    }
                    separators[depth] = 0
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    guard depth > 0 else {
                        throw Incomparable()
                    }
                    depth -= 1
                case UInt8(ascii: ","):
                    guard depth > 0 else {
                        throw Incomparable()
                    }
                    separators[depth] += 1
                    // n separators part n + 1 entries.
                    guard separators[depth] < limit else {
                        throw Incomparable()
                    }
                default:
                    break
                }
            }
        }
    }

    /// Whether `bytes` are well-formed UTF-8 (Unicode's definition: no overlong forms, no surrogates, nothing
    /// above U+10FFFF), as the scanner requires of a token's strings.
    static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
