/// A claim or header name under kjdev/nginx-auth-jwt's `auth_jwt_allow_nested [delimiter=string] [quote=string]`.
extension ClaimPath {
    /// Reads `text` as `auth_jwt_allow_nested` does: text that starts with `.` or `[` is a JQ-like path, as
    /// `init(parsing:)` reads it; any other text is split on `delimiter` into member names, outermost first, with
    /// kjdev's rules:
    ///
    /// - a segment that starts with `quote` runs to the next `quote` and is taken as it is, delimiters included
    ///   (`"grants.key"` is one member); it must end the name or be followed by the delimiter;
    /// - a quote anywhere else is an ordinary byte (`a"b` is one member);
    /// - empty segments (leading, trailing or doubled delimiters) are skipped (`a..b` is `a.b`), as kjdev skips
    ///   them.
    ///
    /// Refused (kjdev would never find such a member, or would find the whole document): a quote that is not
    /// closed, text after a closing quote, an empty quoted key, a name of delimiters only, more than
    /// `maximumSteps` members; and a delimiter and quote that are empty or where one starts with the other.
    public convenience init(
        splitting text: UnsafeRawBufferPointer,
        delimiter: UnsafeRawBufferPointer,
        quote: UnsafeRawBufferPointer
    ) throws(ClaimPathError) {
        guard !delimiter.isEmpty, !quote.isEmpty, !delimiter.starts(with: quote), !quote.starts(with: delimiter) else {
            throw .invalidNesting
        }
        guard let first = text.first else {
            throw .empty
        }
        if Self.isJQPath(first) {
            try self.init(parsing: text)
            return
        }
        var names: [UInt8] = []
        var steps: [Step] = []
        var position = 0
        while position < text.count {
            let segment: Range<Int>
            if text[position...].starts(with: quote) {
                let start = position + quote.count
                guard let close = Self.find(quote, in: text, from: start) else {
                    throw .unterminatedQuote
                }
                guard close > start else {
                    throw .emptyQuotedKey
                }
                segment = start..<close
                position = close + quote.count
                if position < text.count {
                    guard text[position...].starts(with: delimiter) else {
                        throw .textAfterQuote
                    }
                    position += delimiter.count
                }
            } else {
                let end = Self.find(delimiter, in: text, from: position) ?? text.count
                segment = position..<end
                position = min(end + delimiter.count, text.count)
            }
            guard !segment.isEmpty else {
                continue
            }
            guard steps.count < Self.maximumSteps else {
                throw .tooManySteps
            }
            steps.append(.member(names.count..<names.count + segment.count))
            names.append(contentsOf: text[segment])
        }
        guard !steps.isEmpty else {
            throw .noMember
        }
        self.init(names: names, steps: steps)
    }

    /// Where `needle` first occurs in `text` at or after `start`.
    private static func find(_ needle: UnsafeRawBufferPointer, in text: UnsafeRawBufferPointer, from start: Int)
        -> Int?
    {
        guard needle.count <= text.count else {
            return nil
        }
        var index = start
        while index + needle.count <= text.count {
            if text[index...].starts(with: needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}
