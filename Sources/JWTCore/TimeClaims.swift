/// The time claims of a verified token (RFC 7519 §4.1.4, §4.1.5).
public enum TimeClaims {
    /// The members of the claims set that the time check reads, collected while the payload is validated.
    struct Members: JSONMemberVisitor {
        var expiration: JSONSpan?
        var notBefore: JSONSpan?

        @inline(__always)
        mutating func visit(_ name: JSONName, _ value: JSONSpan) {
            if name.equals("exp") {
                self.expiration = value
            } else if name.equals("nbf") {
                self.notBefore = value
            }
        }
    }

    /// The values of `exp` and `nbf`, in seconds since the Epoch; `nil` where the claim is absent.
    public struct Values: Sendable, Hashable {
        public var expiration: Double?
        public var notBefore: Double?

        public init(expiration: Double? = nil, notBefore: Double? = nil) {
            self.expiration = expiration
            self.notBefore = notBefore
        }
    }

    /// Reads `exp` and `nbf`, the members of a payload that validated as a JSON object. Either claim may be absent;
    /// when present it must be a finite JSON number (fractions allowed).
    static func values(_ members: Members) throws(VerificationError) -> Values {
        var values = Values()
        if let expiration = members.expiration {
            values.expiration = try self.seconds(
                expiration,
                notNumber: .expirationNotNumber,
                notFinite: .expirationNotFinite
            )
        }
        if let notBefore = members.notBefore {
            values.notBefore = try self.seconds(notBefore, notNumber: .notBeforeNotNumber, notFinite: .notBeforeNotFinite)
        }
        return values
    }

    /// Checks `values` against `now` with `leeway` seconds of tolerance.
    public static func check(_ values: Values, now: Int64, leeway: Int64) throws(VerificationError) {
        let now = Double(now)
        let leeway = Double(leeway)
        if let exp = values.expiration, !(now < exp + leeway) {
            throw .expired
        }
        if let nbf = values.notBefore, !(now + leeway >= nbf) {
            throw .notYetValid
        }
    }

    /// The value of a NumericDate claim.
    private static func seconds(
        _ value: JSONSpan,
        notNumber: VerificationError,
        notFinite: VerificationError
    ) throws(VerificationError) -> Double {
        guard value.kind == .number else {
            throw notNumber
        }
        if let seconds = self.integerSeconds(value.bytes) {
            return seconds
        }
        // JSON's number grammar is a subset of what Double parses; a value out of range parses as infinite.
        // Typical values (10 digits) fit a small string, so this allocates nothing.
        guard let seconds = Double(String(decoding: value.bytes, as: UTF8.self)), seconds.isFinite else {
            throw notFinite
        }
        return seconds
    }

    /// The value of a JSON number spelled as an integer of at most 15 digits, which a `Double` holds exactly (the
    /// usual spelling of a time, so `Double`'s general parser is left for fractions and exponents); else `nil`.
    private static func integerSeconds(_ number: UnsafeRawBufferPointer) -> Double? {
        var index = number.first == UInt8(ascii: "-") ? 1 : 0
        let digitsStart = index
        guard number.count - digitsStart <= 15 else {
            return nil
        }
        var magnitude: Int64 = 0
        while index < number.count {
            let digit = number[index] &- UInt8(ascii: "0")
            guard digit < 10 else {
                return nil
            }
            magnitude = magnitude * 10 + Int64(digit)
            index += 1
        }
        return Double(digitsStart == 1 ? -magnitude : magnitude)
    }
}
