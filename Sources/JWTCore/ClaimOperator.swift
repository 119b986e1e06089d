/// A comparison of `auth_jwt_require_claim` and `auth_jwt_require_header` (kjdev/nginx-auth-jwt's operators).
public enum ClaimOperator: Sendable, Hashable {
    /// `eq`: JSON equality (see `JSONEquality`).
    case equal
    /// `gt`: numbers only.
    case greaterThan
    /// `ge`: numbers only.
    case greaterThanOrEqual
    /// `lt`: numbers only.
    case lessThan
    /// `le`: numbers only.
    case lessThanOrEqual
    /// `in`: the value equals an element of the expected array, or is a string naming a member of the expected
    /// object.
    case `in`
    /// `any`: the value (an array: one of its elements) equals an element of the expected array.
    case any
    /// `match`: a regular expression, which the caller runs (nginx's PCRE).
    case match

    /// Parses an operator as kjdev spells it: `eq gt ge lt le in any match`, each also with a `!` prefix that
    /// negates it, and the aliases `ne` (`!eq`), `nin` (`!in`), `intersect` (`any`) and `nintersect` (`!any`).
    /// A negated alias negates twice, as in kjdev (`!ne` is `eq`). Names are case-sensitive.
    ///
    /// - Returns: the operator and whether it is negated, or `nil` for any other text.
    public static func parse(_ text: UnsafeRawBufferPointer) -> (operator: ClaimOperator, negated: Bool)? {
        var name = text[...]
        var negated = false
        if name.first == UInt8(ascii: "!") {
            negated = true
            name = name.dropFirst()
        }
        for (spelling, op, negates) in Self.spellings
        where JSONName.bytesEqual(UnsafeRawBufferPointer(rebasing: name), spelling.bytes) {
            return (op, negated != negates)
        }
        return nil
    }

    /// Every name an operator has, and whether the name negates it.
    private static let spellings: [(StaticString, ClaimOperator, Bool)] = [
        ("eq", .equal, false), ("gt", .greaterThan, false), ("ge", .greaterThanOrEqual, false),
        ("lt", .lessThan, false), ("le", .lessThanOrEqual, false), ("in", .in, false), ("any", .any, false),
        ("match", .match, false), ("ne", .equal, true), ("nin", .in, true), ("intersect", .any, false),
        ("nintersect", .any, true),
    ]
}

extension StaticString {
    fileprivate var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: self.utf8Start, count: self.utf8CodeUnitCount)
    }
}
