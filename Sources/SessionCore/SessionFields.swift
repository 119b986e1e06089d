import JWTCore

/// The members of a session record that the decision reads, located in place in the record's bytes.
///
/// Only top-level members count: a `last_access_time` inside a nested object is just another field the auth
/// server keeps.
struct SessionFields {
    /// `last_access_time`: when the session was last used, in seconds since the Epoch.
    let lastAccessTime: Int64
    /// Where the `last_access_time` number lies in the record, the only bytes a touch rewrites.
    let lastAccessTimeRange: Range<Int>
    /// `session_idle_timeout` in seconds, or -1 when the idle check is off.
    let idleTimeout: Int64
    /// `fingerprint`'s escaped contents, or `nil` when the record has none (no fingerprint check).
    let fingerprint: UnsafeRawBufferPointer?
    /// `expires_at` in seconds since the Epoch, or `nil` when the record has none.
    let expiresAt: Int64?

    /// Reads the fields of `record`, a JSON object that was already validated.
    init(validatedObject record: UnsafeRawBufferPointer) throws(SessionError) {
        var lastAccessTime: JSONSpan?
        var idleTimeout: JSONSpan?
        var fingerprint: JSONSpan?
        var expiresAt: JSONSpan?
        do throws(JSONError) {
            var scanner = JSONScanner(record)
            let nesting = try scanner.enterContainer(nesting: 0)
            var isFirst = true
            while let member = try scanner.scanMember(isFirst: &isFirst, nesting: nesting) {
                if member.name.equals("last_access_time") {
                    lastAccessTime = member.value
                } else if member.name.equals("session_idle_timeout") {
                    idleTimeout = member.value
                } else if member.name.equals("fingerprint") {
                    fingerprint = member.value
                } else if member.name.equals("expires_at") {
                    expiresAt = member.value
                }
            }
        } catch {
            throw .recordNotObject
        }

        guard let lastAccessTime else {
            throw .missingLastAccessTime
        }
        guard let lastAccessTimeValue = JSONInteger.value(of: lastAccessTime),
            let recordStart = record.baseAddress, let numberStart = lastAccessTime.bytes.baseAddress
        else {
            throw .lastAccessTimeNotInteger
        }
        let numberOffset = recordStart.distance(to: numberStart)
        self.lastAccessTime = lastAccessTimeValue
        self.lastAccessTimeRange = numberOffset..<(numberOffset + lastAccessTime.bytes.count)

        guard let idleTimeout else {
            throw .missingIdleTimeout
        }
        guard let idleTimeoutValue = JSONInteger.value(of: idleTimeout) else {
            throw .idleTimeoutNotInteger
        }
        guard idleTimeoutValue >= -1 else {
            throw .idleTimeoutNegative
        }
        self.idleTimeout = idleTimeoutValue

        if let fingerprint {
            guard fingerprint.kind == .string else {
                throw .fingerprintNotString
            }
            self.fingerprint = fingerprint.bytes
        } else {
            self.fingerprint = nil
        }

        if let expiresAt {
            guard let expiresAtValue = JSONInteger.value(of: expiresAt) else {
                throw .expiresAtNotInteger
            }
            self.expiresAt = expiresAtValue
        } else {
            self.expiresAt = nil
        }
    }
}

/// JSON numbers that are integers.
enum JSONInteger {
    /// The value of `span` if it is a JSON number spelled as an integer (`-?(0|[1-9][0-9]*)`: no fraction, no
    /// exponent) that fits an `Int64`; otherwise `nil`.
    static func value(of span: JSONSpan) -> Int64? {
        guard span.kind == .number, let first = span.bytes.first else {
            return nil
        }
        let isNegative = first == UInt8(ascii: "-")
        let digits = span.bytes.dropFirst(isNegative ? 1 : 0)
        guard !digits.isEmpty else {
            return nil
        }
        var magnitude: UInt64 = 0
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                return nil
            }
            let (shifted, shiftOverflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, sumOverflow) = shifted.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !shiftOverflow, !sumOverflow else {
                return nil
            }
            magnitude = sum
        }
        if isNegative {
            guard magnitude <= Int64.min.magnitude else {
                return nil
            }
            return magnitude == Int64.min.magnitude ? Int64.min : -Int64(magnitude)
        }
        return Int64(exactly: magnitude)
    }

    /// The longest decimal spelling of an `Int64` ("-9223372036854775808").
    static let maximumLength = 20

    /// Writes the decimal spelling of `value` at the start of `output`, which must hold `maximumLength` bytes.
    ///
    /// - Returns: the number of bytes written.
    static func write(_ value: Int64, into output: UnsafeMutableRawBufferPointer) -> Int {
        var magnitude = value.magnitude
        var digitCount = 1
        var rest = magnitude / 10
        while rest > 0 {
            digitCount += 1
            rest /= 10
        }
        let signCount = value < 0 ? 1 : 0
        let length = signCount + digitCount
        guard output.count >= length else {
            return 0
        }
        if signCount == 1 {
            output[0] = UInt8(ascii: "-")
        }
        for index in stride(from: length - 1, through: signCount, by: -1) {
            output[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        }
        return length
    }
}
