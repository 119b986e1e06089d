/// The claim requirements of a location (`auth_jwt_issuer`, `auth_jwt_audience`, `auth_jwt_require_claim`,
/// `auth_jwt_require_header`), compiled at configuration time and checked together.
///
/// A check reads each document once, collecting the top-level members the requirements name, and compares them
/// with expected values decoded when the policy was built: a string, or the strings of an array for `in` and
/// `any` (issuer and audience lists). Every other comparison is `ClaimRequirement`'s, which decides the outcome in
/// all cases; the decoded forms only answer sooner where the answer is the same.
///
/// Built once, then only read: checking is safe from any thread.
public final class ClaimPolicy: @unchecked Sendable {
    /// The outcome of one requirement.
    public enum Outcome: Sendable, Hashable {
        case holds
        case fails
        case invalid
        /// A `match`, for the caller's regular expressions: the value is a string (its escaped contents).
        case deferred
    }

    /// What a requirement compares with.
    public enum Expected {
        /// A literal: JSON text (validated by `add`), or a plain string.
        case literal(UnsafeRawBufferPointer, isJSON: Bool)
        /// A value given with each check (a variable): JSON text or a plain string.
        case perRequest(isJSON: Bool)
        /// For `in` only: the member names of an object read from a configuration file, a hashed set (the
        /// revocation lists), so neither the expected-value bounds nor a linear search apply.
        case names(NameSet)
    }

    /// Why `add` refused a literal.
    public struct InvalidExpected: Error, Hashable {}

    /// A requirement in plain values only, so that reading one touches no reference count.
    private struct Entry {
        let onHeader: Bool
        let requirement: ClaimRequirement
        /// The slot of the path's first member among the document's names; -1 when the path starts with an
        /// index, which a document (an object) never has.
        let slot: Int
        /// Whether the path goes deeper than its first member.
        let isDeep: Bool
        let value: Value
        /// Where a literal's decoded strings are in `strings`; empty when none answer the operator.
        let decoded: Range<Int>
    }

    private enum Value {
        /// A literal: `literals[index]`, JSON text or a plain string.
        case literal(index: Int, isJSON: Bool)
        case perRequest(isJSON: Bool)
        case pattern
        /// `nameSets[index]`.
        case names(index: Int)
    }

    private var entries: [Entry] = []
    private var paths: [ClaimPath] = []
    private var literals: [[UInt8]] = []
    private var nameSets: [NameSet] = []
    /// Decoded expected strings, as ranges of `stringBytes`.
    private var strings: [Range<Int>] = []
    private var stringBytes: [UInt8] = []
    private var payloadNames = MemberNames()
    private var headerNames = MemberNames()

    public init() {}

    /// The number of requirements.
    public var count: Int {
        self.entries.count
    }

    /// Adds a requirement, checked after those added before it. A literal JSON value is validated here
    /// (`InvalidExpected` if `ClaimRequirement` could never compare with it); `.match` ignores `expected`; a
    /// `.names` set is for `.in` only (`InvalidExpected` with any other operator).
    public func add(
        _ path: ClaimPath,
        onHeader: Bool,
        _ requirement: ClaimRequirement,
        expected: Expected
    ) throws(InvalidExpected) {
        let value: Value
        let firstString = self.strings.count
        switch (requirement.operator, expected) {
        case (.in, .names(let set)):
            value = .names(index: self.nameSets.count)
            self.nameSets.append(set)
        case (_, .names):
            throw InvalidExpected()
        case (.match, _):
            value = .pattern
        case (_, .perRequest(let isJSON)):
            value = .perRequest(isJSON: isJSON)
        case (_, .literal(let text, let isJSON)):
            guard !isJSON || ClaimRequirement.isValidExpected(text) else {
                throw InvalidExpected()
            }
            value = .literal(index: self.literals.count, isJSON: isJSON)
            self.literals.append(Array(text))
            for string in Self.decode(text, isJSON, for: requirement) ?? [] {
                self.strings.append(self.stringBytes.count..<self.stringBytes.count + string.count)
                self.stringBytes.append(contentsOf: string)
            }
        }
        var slot = -1
        if case .member(let range)? = path.steps.first {
            let name = path.names[range]
            slot = onHeader ? self.headerNames.slot(of: name) : self.payloadNames.slot(of: name)
        }
        self.paths.append(path)
        self.entries.append(
            Entry(
                onHeader: onHeader,
                requirement: requirement,
                slot: slot,
                isDeep: path.steps.count > 1,
                value: value,
                decoded: firstString..<self.strings.count
            )
        )
    }

    /// Checks every requirement against `header` and `payload` (documents verification accepted), calling
    /// `report` with each outcome in order, and for a deferred one the string's escaped contents.
    /// `perRequest(i)` gives requirement `i`'s expected value when it has none of its own.
    ///
    /// - Returns: the position of the first requirement that does not hold, `count` if all do (deferred ones
    ///   count as not holding).
    public func check(
        header: UnsafeRawBufferPointer,
        payload: UnsafeRawBufferPointer,
        perRequest: (Int) -> UnsafeRawBufferPointer?,
        report: (Int, Outcome, UnsafeRawBufferPointer?) -> Void
    ) -> Int {
        self.payloadNames.collect(in: payload) { payloadValues in
            self.headerNames.collect(in: header) { headerValues in
                self.entries.withUnsafeBufferPointer { entries in
                    var firstNotHolding = entries.count
                    for position in entries.indices {
                        let entry = entries[position]
                        var claim = entry.slot < 0 ? nil : (entry.onHeader ? headerValues : payloadValues)[entry.slot]
                        if entry.isDeep, let top = claim {
                            claim = JSONLookup.value(at: self.paths[position], from: top, step: 1)
                        }
                        let outcome = self.evaluate(entry, claim, perRequest(position))
                        if outcome != .holds, firstNotHolding == entries.count {
                            firstNotHolding = position
                        }
                        report(position, outcome, outcome == .deferred ? claim?.bytes : nil)
                    }
                    return firstNotHolding
                }
            }
        }
    }

    // MARK: - Checking

    private func evaluate(_ entry: Entry, _ claim: JSONSpan?, _ given: UnsafeRawBufferPointer?) -> Outcome {
        guard let claim else {
            return .invalid
        }
        let outcome: RequirementOutcome
        switch entry.value {
        case .pattern:
            return claim.kind == .string ? .deferred : .invalid
        case .names(let index):
            // As `in` against an object: the value must be a string.
            guard claim.kind == .string else {
                return .invalid
            }
            return self.nameSets[index].contains(string: claim.bytes) != entry.requirement.isNegated ? .holds : .fails
        case .perRequest(let isJSON):
            guard let given else {
                return .invalid
            }
            outcome = entry.requirement.check((claim.kind, claim.bytes), against: given, expectedIsJSON: isJSON)
        case .literal(let index, let isJSON):
            if let holds = self.holds(claim, entry) {
                return holds != entry.requirement.isNegated ? .holds : .fails
            }
            outcome = self.literals[index].withUnsafeBytes { expected in
                entry.requirement.check(
                    (claim.kind, claim.bytes),
                    against: expected,
                    expectedIsJSON: isJSON,
                    expectedIsValidated: isJSON
                )
            }
        }
        switch outcome {
        case .holds: return .holds
        case .fails: return .fails
        case .invalid: return .invalid
        }
    }

    /// Whether a literal requirement holds before negation, when its decoded strings answer it; `nil` leaves the
    /// answer to `ClaimRequirement` (no decoded strings, a claim holding containers, or one long enough to meet
    /// its size bounds).
    private func holds(_ claim: JSONSpan, _ entry: Entry) -> Bool? {
        guard !entry.decoded.isEmpty else {
            return nil
        }
        switch (entry.requirement.operator, claim.kind) {
        case (_, .object):
            return nil
        case (_, .string):
            return self.contains(entry.decoded, JSONName(string: claim.bytes))
        case (.any, .array):
            // Below this length an array cannot exceed the element bound.
            guard claim.bytes.count <= 2 * ClaimRequirement.maximumElements + 2 else {
                return nil
            }
            var elements = JSONSkimmer(container: claim.bytes)
            while let element = elements.nextElement() {
                switch element.kind {
                case .array, .object:
                    return nil
                case .string:
                    if self.contains(entry.decoded, JSONName(string: element.bytes)) {
                        return true
                    }
                default:
                    continue
                }
            }
            return false
        case (_, .array):
            // `eq` and `in` compare the array itself with strings.
            return nil
        default:
            // A number, a boolean or null never equals a string.
            return false
        }
    }

    private func contains(_ decoded: Range<Int>, _ name: JSONName) -> Bool {
        self.stringBytes.withUnsafeBytes { bytes in
            self.strings.withUnsafeBufferPointer { strings in
                for index in decoded {
                    let range = strings[index]
                    if (name.hasEscape || range.count == name.escaped.count)
                        && name.equals(UnsafeRawBufferPointer(rebasing: bytes[range]))
                    {
                        return true
                    }
                }
                return false
            }
        }
    }

    // MARK: - Building

    /// The strings of a literal, decoded, where they answer the operator: one string for `eq`, an array of
    /// strings and nothing else for `in` and `any`.
    private static func decode(_ text: UnsafeRawBufferPointer, _ isJSON: Bool, for requirement: ClaimRequirement)
        -> [[UInt8]]?
    {
        guard isJSON else {
            // A plain string: `eq` compares with its bytes, when they are a string it can check (else the check
            // is invalid, which `ClaimRequirement` says).
            guard requirement.operator == .equal, !text.isEmpty, text.count <= ClaimRequirement.maximumExpectedLength,
                ClaimRequirement.isUTF8(text)
            else {
                return nil
            }
            return [Array(text)]
        }
        let value = JSONSpan(validated: text)
        switch (requirement.operator, value.kind) {
        case (.equal, .string):
            return [Array(UnescapedBytes(value.bytes))]
        case (.in, .array), (.any, .array):
            var strings: [[UInt8]] = []
            var elements = JSONSkimmer(container: value.bytes)
            while let element = elements.nextElement() {
                guard element.kind == .string else {
                    return nil
                }
                strings.append(Array(UnescapedBytes(element.bytes)))
            }
            return strings
        default:
            return nil
        }
    }
}

/// The member names a check looks for at the top of a document, by slot.
private struct MemberNames {
    private var bytes: [UInt8] = []
    private var ranges: [Range<Int>] = []

    /// The slot of `name`, added if new.
    mutating func slot(of name: ArraySlice<UInt8>) -> Int {
        if let slot = self.ranges.firstIndex(where: { self.bytes[$0].elementsEqual(name) }) {
            return slot
        }
        self.ranges.append(self.bytes.count..<self.bytes.count + name.count)
        self.bytes.append(contentsOf: name)
        return self.ranges.count - 1
    }

    /// Passes `body` the values of these members of `document` by slot (`nil` where absent), read in one pass
    /// that stops once all are found.
    func collect<Result>(
        in document: UnsafeRawBufferPointer,
        _ body: (UnsafeMutableBufferPointer<JSONSpan?>) -> Result
    ) -> Result {
        withUnsafeTemporaryAllocation(of: JSONSpan?.self, capacity: self.ranges.count) { values in
            values.initialize(repeating: nil)
            self.bytes.withUnsafeBytes { names in
                self.ranges.withUnsafeBufferPointer { ranges in
                    let root = JSONSpan(validated: document)
                    var missing = root.kind == .object ? ranges.count : 0
                    var members = JSONSkimmer(container: root.bytes)
                    while missing > 0, let member = members.nextMember() {
                        for slot in ranges.indices where values[slot] == nil {
                            let range = ranges[slot]
                            if (member.name.hasEscape || range.count == member.name.escaped.count)
                                && member.name.equals(UnsafeRawBufferPointer(rebasing: names[range]))
                            {
                                values[slot] = member.value
                                missing -= 1
                                break
                            }
                        }
                    }
                }
            }
            return body(values)
        }
    }
}
