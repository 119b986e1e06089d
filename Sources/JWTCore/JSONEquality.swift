/// Equality of JSON values by kjdev/nginx-auth-jwt's comparison rules, read in place.
///
/// 1. Two numbers are equal when both are integers (literals without fraction or exponent) or both reals, and
///    their decimal values are exactly equal: `1.0` equals `1.00` and `1e0`, `-0` equals `0`, but the integer `1`
///    never equals the real `1.0` or `1e0`. Values are compared exactly, not as `Double`s.
/// 2. Two strings are equal when their contents are the same bytes after unescaping (`"\u00e9"` equals `"é"`).
/// 3. Two arrays are equal when they have as many elements, pairwise equal in order.
/// 4. Two objects are equal when they have the same member names and equal values for each, in any order.
///
/// `true`, `false` and `null` each equal only themselves; values of different kinds are never equal.
///
/// Objects hold no duplicate names: verification refuses them in a token, and `ClaimRequirement` in an expected
/// value, so matching names one way suffices.
enum JSONEquality {
    /// Whether `lhs` and `rhs` are equal; `nesting` is the number of containers around them.
    static func equal(_ lhs: JSONSpan, _ rhs: JSONSpan, nesting: Int = 0) throws(Incomparable) -> Bool {
        guard lhs.kind == rhs.kind else {
            return false
        }
        switch lhs.kind {
        case .string:
            return JSONName(string: lhs.bytes).equals(JSONName(string: rhs.bytes))
        case .number:
            let (left, right) = try (JSONNumber(lhs.bytes), JSONNumber(rhs.bytes))
            return left.isInteger == right.isInteger && JSONNumber.compare(left, right) == 0
        case .true, .false, .null:
            return true
        case .array:
            return try self.arraysEqual(lhs.bytes, rhs.bytes, nesting: nesting)
        case .object:
            return try self.objectsEqual(lhs.bytes, rhs.bytes, nesting: nesting)
        }
    }

    private static func arraysEqual(
        _ lhs: UnsafeRawBufferPointer,
        _ rhs: UnsafeRawBufferPointer,
        nesting: Int
    ) throws(Incomparable) -> Bool {
        do {
            var left = JSONScanner(lhs)
            var right = JSONScanner(rhs)
            let contentNesting = try left.enterContainer(nesting: nesting)
            _ = try right.enterContainer(nesting: nesting)
            var isLeftFirst = true
            var isRightFirst = true
            while true {
                let leftElement = try left.scanElement(isFirst: &isLeftFirst, nesting: contentNesting)
                let rightElement = try right.scanElement(isFirst: &isRightFirst, nesting: contentNesting)
                guard let leftElement, let rightElement else {
                    return leftElement == nil && rightElement == nil
                }
                guard try self.equal(leftElement, rightElement, nesting: contentNesting) else {
                    return false
                }
            }
        } catch let error as Incomparable {
            throw error
        } catch {
            throw Incomparable()
        }
    }

    private static func objectsEqual(
        _ lhs: UnsafeRawBufferPointer,
        _ rhs: UnsafeRawBufferPointer,
        nesting: Int
    ) throws(Incomparable) -> Bool {
        do {
            guard try self.memberCount(lhs, nesting: nesting) == self.memberCount(rhs, nesting: nesting) else {
                return false
            }
            // Same count and no duplicates: equal when every member of one has an equal member in the other. Each
            // name is looked for by reading the other object, so the outer loop runs over the longer text and the
            // reads over the shorter.
            let (outer, inner) = lhs.count >= rhs.count ? (lhs, rhs) : (rhs, lhs)
            var scanner = JSONScanner(outer)
            let contentNesting = try scanner.enterContainer(nesting: nesting)
            var isFirst = true
            while let member = try scanner.scanMember(isFirst: &isFirst, nesting: contentNesting) {
                guard let other = try self.member(named: member.name, in: inner, nesting: nesting),
                    try self.equal(member.value, other, nesting: contentNesting)
                else {
                    return false
                }
            }
            return true
        } catch let error as Incomparable {
            throw error
        } catch {
            throw Incomparable()
        }
    }

    private static func memberCount(_ object: UnsafeRawBufferPointer, nesting: Int) throws(JSONError) -> Int {
        var scanner = JSONScanner(object)
        let contentNesting = try scanner.enterContainer(nesting: nesting)
        var isFirst = true
        var count = 0
        while try scanner.scanMember(isFirst: &isFirst, nesting: contentNesting) != nil {
            count += 1
        }
        return count
    }

    /// The value of the member of `object` named as `name` (both compared decoded).
    private static func member(
        named name: JSONName,
        in object: UnsafeRawBufferPointer,
        nesting: Int
    ) throws(JSONError) -> JSONSpan? {
        var scanner = JSONScanner(object)
        let contentNesting = try scanner.enterContainer(nesting: nesting)
        var isFirst = true
        while let member = try scanner.scanMember(isFirst: &isFirst, nesting: contentNesting) {
            if member.name.equals(name) {
                return member.value
            }
        }
        return nil
    }
}

/// Why two JSON values could not be compared: a number `JSONNumber` cannot read, an array or object larger than a
/// requirement allows, or text that is not JSON (which only a document verification did not see can hold).
struct Incomparable: Error {}
