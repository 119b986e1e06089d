/// The time claims of a verified token (RFC 7519 §4.1.4, §4.1.5).
enum TimeClaims {
    /// Checks `exp` and `nbf` of `payload`, a validated JSON object, against `now` with `leeway` seconds of
    /// tolerance. Either claim may be absent; when present it must be a finite JSON number (fractions allowed).
    static func check(_ payload: UnsafeRawBufferPointer, now: Int64, leeway: Int64) throws(VerificationError) {
        var expiration: JSONSpan?
        var notBefore: JSONSpan?
        do throws(JSONError) {
            var scanner = JSONScanner(payload)
            let nesting = try scanner.enterContainer(nesting: 0)
            var isFirst = true
            while let member = try scanner.scanMember(isFirst: &isFirst, nesting: nesting) {
                if UnescapedBytes.decode(member.name, equals: "exp".utf8) {
                    expiration = member.value
                } else if UnescapedBytes.decode(member.name, equals: "nbf".utf8) {
                    notBefore = member.value
                }
            }
        } catch {
            throw .payloadNotObject
        }
        let now = Double(now)
        let leeway = Double(leeway)
        if let expiration {
            let exp = try self.seconds(expiration, notNumber: .expirationNotNumber, notFinite: .expirationNotFinite)
            guard now < exp + leeway else {
                throw .expired
            }
        }
        if let notBefore {
            let nbf = try self.seconds(notBefore, notNumber: .notBeforeNotNumber, notFinite: .notBeforeNotFinite)
            guard now + leeway >= nbf else {
                throw .notYetValid
            }
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
        // JSON's number grammar is a subset of what Double parses; a value out of range parses as infinite.
        // Typical values (10 digits) fit a small string, so this allocates nothing.
        guard let seconds = Double(String(decoding: value.bytes, as: UTF8.self)), seconds.isFinite else {
            throw notFinite
        }
        return seconds
    }
}
