import JWTCore

/// What the session decision made of a record that passed.
public struct SessionUpdate: Sendable, Hashable {
    /// The length of the updated record written at the start of the scratch buffer, or 0 when no touch is due.
    public let updatedLength: Int
    /// The record's `expires_at`, the expiry the store keeps when it writes the update back.
    public let expiresAt: Int64?
}

/// The session decision over a record's bytes: pure, no I/O, no allocation.
///
/// A record is the JSON object an auth server keeps per token (the contract: README.md, "The session record (for
/// auth-server authors)"):
///
///     {"fingerprint":"c0ffee","last_access_time":1800000000,"session_idle_timeout":1800,"expires_at":1800086400}
///
/// The decision runs in the contract's order: no record (`LOGGED_OUT`), a record that cannot be read
/// (`INVALID_SESSION`), then
/// `expires_at` passed (`LOGGED_OUT`), then the fingerprint (`FINGERPRINT_MISMATCH`), then the idle time
/// (`SESSION_IDLE_TIMEOUT`).
public enum SessionRecord {
    /// The longest record read (`AJWT_MAX_SESSION_RECORD`).
    public static var maximumLength: Int { ABILimits.maximumSessionRecordLength }

    /// Checks the length a store announces for a record before reading it: longer than `maximumLength` is
    /// `INVALID_SESSION`.
    public static func checkLength(_ length: UInt64) throws(SessionError) {
        guard length <= UInt64(self.maximumLength) else {
            throw .recordTooLong
        }
    }

    /// The scratch buffer size `decide` needs for a record of `recordLength` bytes.
    ///
    /// The buffer holds the updated record (the `last_access_time` number, at least one digit, becomes at most
    /// `JSONInteger.maximumLength` bytes) followed by the member names the JSON validator keeps for its
    /// duplicate check.
    public static func scratchSize(forRecordLength recordLength: Int) -> Int {
        let length = min(max(recordLength, 0), self.maximumLength)
        let memberNameCount = MemberNameStack.capacity(forDocumentCount: length)
        return self.maximumUpdatedLength(forRecordLength: length) + MemoryLayout<MemberName>.alignment - 1
            + memberNameCount * MemoryLayout<MemberName>.stride
    }

    /// Decides whether `record` lets a request through, and whether to touch it.
    ///
    /// - Parameters:
    ///   - record: the record's bytes, as the store returned them; `nil` when the store has none (`LOGGED_OUT`).
    ///   - fingerprint: the request's fingerprint; empty when the request has none.
    ///   - now: the time of the request, in seconds since the Epoch.
    ///   - touch: the touch interval in seconds: `last_access_time` is rewritten once it is at least this old, or
    ///     at least half the record's `session_idle_timeout` old when that comes first
    ///     (`touchDue(after:idleTimeout:)`).
    ///   - scratch: at least `scratchSize(forRecordLength: record.count)` bytes; on a due touch, the updated
    ///     record is written at its start.
    /// - Returns: the update to write back (`updatedLength` 0 when none is due) and the record's `expires_at`.
    /// - Throws: the refusal, with its status and a static reason.
    public static func decide(
        _ record: UnsafeRawBufferPointer?,
        fingerprint: UnsafeRawBufferPointer,
        now: Int64,
        touch: Int64,
        scratch: UnsafeMutableRawBufferPointer
    ) throws(SessionError) -> SessionUpdate {
        guard let record else {
            throw .noRecord
        }
        try self.checkLength(UInt64(record.count))
        guard scratch.count >= self.scratchSize(forRecordLength: record.count), let scratchBase = scratch.baseAddress
        else {
            throw .scratchTooSmall
        }
        let updateCapacity = self.maximumUpdatedLength(forRecordLength: record.count)
        let memberNameCount = MemberNameStack.capacity(forDocumentCount: record.count)
        let memberNames = UnsafeMutableBufferPointer(
            start: (scratchBase + updateCapacity).alignedUp(for: MemberName.self)
                .bindMemory(to: MemberName.self, capacity: memberNameCount),
            count: memberNameCount
        )
        let value: JSONSpan
        do {
            value = try JSONScanner.validate(record, memberNameStorage: memberNames)
        } catch {
            throw .malformedRecord(error)
        }
        guard value.kind == .object else {
            throw .recordNotObject
        }
        let fields = try SessionFields(validatedObject: record)

        if let expiresAt = fields.expiresAt, now >= expiresAt {
            throw .expired
        }
        if let expected = fields.fingerprint {
            guard !fingerprint.isEmpty else {
                throw .fingerprintMissing
            }
            guard SessionFingerprint.matches(escaped: expected, presented: fingerprint) else {
                throw .fingerprintMismatch
            }
        }
        let idle = self.secondsElapsed(since: fields.lastAccessTime, now: now)
        if fields.idleTimeout >= 0, idle > fields.idleTimeout {
            throw .idle
        }

        guard idle >= self.touchDue(after: touch, idleTimeout: fields.idleTimeout) else {
            return SessionUpdate(updatedLength: 0, expiresAt: fields.expiresAt)
        }
        let updated = UnsafeMutableRawBufferPointer(rebasing: scratch[..<updateCapacity])
        let updatedLength = self.write(record, replacing: fields.lastAccessTimeRange, with: now, into: updated)
        return SessionUpdate(updatedLength: updatedLength, expiresAt: fields.expiresAt)
    }

    /// Seconds after `last_access_time` from which a touch is due: the touch interval, or half the idle timeout when
    /// that is sooner, so that a session in use is rewritten well before it could go idle however long the interval.
    /// Without an idle check (a negative timeout) only the interval counts.
    static func touchDue(after touch: Int64, idleTimeout: Int64) -> Int64 {
        guard idleTimeout >= 0 else {
            return touch
        }
        return min(touch, idleTimeout / 2)
    }

    /// The longest a record of `recordLength` bytes becomes once its `last_access_time` is rewritten.
    private static func maximumUpdatedLength(forRecordLength recordLength: Int) -> Int {
        recordLength + JSONInteger.maximumLength - 1
    }

    /// `now - lastAccessTime`, saturating instead of overflowing on hostile values.
    private static func secondsElapsed(since lastAccessTime: Int64, now: Int64) -> Int64 {
        let (elapsed, overflow) = now.subtractingReportingOverflow(lastAccessTime)
        guard overflow else {
            return elapsed
        }
        return lastAccessTime < 0 ? .max : .min
    }

    /// Copies `record` into `output` with the bytes in `range` replaced by the decimal spelling of `now`.
    ///
    /// - Returns: the number of bytes written.
    private static func write(
        _ record: UnsafeRawBufferPointer,
        replacing range: Range<Int>,
        with now: Int64,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int {
        let head = UnsafeRawBufferPointer(rebasing: record[..<range.lowerBound])
        let tail = UnsafeRawBufferPointer(rebasing: record[range.upperBound...])
        UnsafeMutableRawBufferPointer(rebasing: output[..<head.count]).copyMemory(from: head)
        let numberLength = JSONInteger.write(now, into: UnsafeMutableRawBufferPointer(rebasing: output[head.count...]))
        let tailStart = head.count + numberLength
        UnsafeMutableRawBufferPointer(rebasing: output[tailStart..<(tailStart + tail.count)]).copyMemory(from: tail)
        return tailStart + tail.count
    }
}
