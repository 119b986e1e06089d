import Testing

@testable import JWTCore
@testable import SessionCore

/// What `SessionRecord.decide` made of a record, in a comparable form.
enum SessionOutcome: Hashable, CustomTestStringConvertible {
    /// Accepted; `updated` is the rewritten record when a touch was due.
    case accepted(updated: String?, expiresAt: Int64?)
    case refused(SessionError)

    static let untouched = Self.accepted(updated: nil, expiresAt: nil)

    var testDescription: String {
        switch self {
        case .accepted(let updated, let expiresAt): "accepted(\(updated ?? "no touch"), expires \(expiresAt as Any))"
        case .refused(let error): "refused(\(error.status): \(error.reason))"
        }
    }

    /// Just whether it was accepted, and whether it touched.
    var shape: Self {
        switch self {
        case .accepted(let updated, _): .accepted(updated: updated == nil ? nil : "touched", expiresAt: nil)
        case .refused: self
        }
    }
}

/// Runs the decision over `record` (UTF-8 text or raw bytes).
func decide(
    _ record: [UInt8],
    fingerprint: String = "",
    now: Int64,
    touch: Int64 = 1,
    scratchSize: Int? = nil
) -> SessionOutcome {
    var scratch = [UInt8](
        repeating: 0xEE,
        count: scratchSize ?? SessionRecord.scratchSize(forRecordLength: record.count)
    )
    let fingerprintBytes = Array(fingerprint.utf8)
    return record.withUnsafeBytes { record in
        fingerprintBytes.withUnsafeBytes { fingerprint in
            scratch.withUnsafeMutableBytes { scratch in
                do throws(SessionError) {
                    let update = try SessionRecord.decide(
                        record,
                        fingerprint: fingerprint,
                        now: now,
                        touch: touch,
                        scratch: scratch
                    )
                    let updated =
                        update.updatedLength > 0
                        ? String(decoding: scratch[..<update.updatedLength], as: UTF8.self) : nil
                    return .accepted(updated: updated, expiresAt: update.expiresAt)
                } catch {
                    return .refused(error)
                }
            }
        }
    }
}

func decide(_ record: String, fingerprint: String = "", now: Int64, touch: Int64 = 1) -> SessionOutcome {
    decide(Array(record.utf8), fingerprint: fingerprint, now: now, touch: touch)
}

/// A record with the usual fields; `nil` leaves a field out.
func sessionRecord(
    fingerprint: String? = #""fp""#,
    lastAccess: String? = "1000",
    idleTimeout: String? = "100",
    expiresAt: String? = "5000"
) -> String {
    var members: [String] = []
    if let fingerprint { members.append(#""fingerprint":\#(fingerprint)"#) }
    if let lastAccess { members.append(#""last_access_time":\#(lastAccess)"#) }
    if let idleTimeout { members.append(#""session_idle_timeout":\#(idleTimeout)"#) }
    if let expiresAt { members.append(#""expires_at":\#(expiresAt)"#) }
    return "{" + members.joined(separator: ",") + "}"
}

let touched = SessionOutcome.accepted(updated: "touched", expiresAt: nil)
let untouched = SessionOutcome.untouched

@Suite("Session record: the decision")
struct SessionDecisionTests {
    @Test(
        "idle time and touch interval",
        arguments: [
            // (idle timeout, now, touch, outcome); last_access_time is 1000.
            ("100", Int64(1100), Int64(1), touched),  // idle exactly at the limit
            ("100", 1101, 1, .refused(.idle)),  // one second past
            ("0", 1000, 1, touched),  // a zero timeout allows the same second (touched: half of it has passed)
            ("0", 1001, 1, .refused(.idle)),
            ("-1", 1_000_000_000, 1, touched),  // -1 turns the check off
            ("100", 1000, 0, touched),  // touch 0: every request writes
            ("100", 1000, 1, untouched),  // touch 1: not within the same second
            ("100", 1001, 1, touched),
            ("1000", 1059, 60, untouched),  // coalesced: one write per minute
            ("1000", 1060, 60, touched),
            ("100", 999, 0, untouched),  // last_access_time ahead of now (clock skew) never moves back
            ("100", 1050, -5, touched),  // a negative touch behaves as 0
        ] as [(String, Int64, Int64, SessionOutcome)]
    )
    func idleAndTouch(_ idleTimeout: String, _ now: Int64, _ touch: Int64, _ expected: SessionOutcome) {
        let record = sessionRecord(idleTimeout: idleTimeout, expiresAt: nil)
        #expect(decide(record, fingerprint: "fp", now: now, touch: touch).shape == expected)
    }

    @Test(
        "fingerprint",
        arguments: [
            // (record's fingerprint member, request's fingerprint, outcome)
            (#""fp""#, "fp", touched),
            (#""fp""#, "fq", .refused(.fingerprintMismatch)),  // same length, differs
            (#""fp""#, "qp", .refused(.fingerprintMismatch)),
            (#""fp""#, "f", .refused(.fingerprintMismatch)),  // request shorter
            (#""fp""#, "fpx", .refused(.fingerprintMismatch)),  // request longer
            (#""fp""#, "", .refused(.fingerprintMissing)),  // request has none
            (#""""#, "x", .refused(.fingerprintMismatch)),  // an empty fingerprint matches nothing
            (#""""#, "", .refused(.fingerprintMissing)),
            (nil, "", touched),  // no fingerprint in the record: no check
            (nil, "anything", touched),
            (#""f\u0070""#, "fp", touched),  // the record's string is compared decoded
            (#""a\"b\\c\/d""#, #"a"b\c/d"#, touched),
            (#""caf\u00e9""#, "caf\u{E9}", touched),
            (#""\uD83D\uDE00""#, "\u{1F600}", touched),
            (#""f\u0070""#, #"f\u0070"#, .refused(.fingerprintMismatch)),  // never compared escaped
        ] as [(String?, String, SessionOutcome)]
    )
    func fingerprint(_ member: String?, _ presented: String, _ expected: SessionOutcome) {
        let record = sessionRecord(fingerprint: member)
        #expect(decide(record, fingerprint: presented, now: 1010).shape == expected)
    }

    @Test(
        "expires_at",
        arguments: [
            (Int64(4999), touched),
            (5000, .refused(.expired)),  // expires_at is the first second the session is gone
            (5001, .refused(.expired)),
        ] as [(Int64, SessionOutcome)]
    )
    func expiresAt(_ now: Int64, _ expected: SessionOutcome) {
        let record = sessionRecord(idleTimeout: "-1")
        #expect(decide(record, fingerprint: "fp", now: now).shape == expected)
    }

    @Test("refusals come in the contract's order")
    func order() {
        // Invalid before expired.
        #expect(decide(sessionRecord(idleTimeout: "1.5"), now: 9999) == .refused(.idleTimeoutNotInteger))
        // Expired before a fingerprint mismatch.
        #expect(decide(sessionRecord(), fingerprint: "other", now: 9999) == .refused(.expired))
        // A fingerprint mismatch before an idle timeout.
        #expect(decide(sessionRecord(), fingerprint: "other", now: 4000) == .refused(.fingerprintMismatch))
        #expect(decide(sessionRecord(), fingerprint: "fp", now: 4000) == .refused(.idle))
    }

    @Test("accepted decisions report expires_at for the write-back")
    func reportsExpiry() throws {
        guard case .accepted(_, let expiresAt) = decide(sessionRecord(), fingerprint: "fp", now: 1001) else {
            Issue.record("refused")
            return
        }
        #expect(expiresAt == 5000)
        guard case .accepted(_, let none) = decide(sessionRecord(expiresAt: nil), fingerprint: "fp", now: 1001) else {
            Issue.record("refused")
            return
        }
        #expect(none == nil)
    }

    @Test("extreme times saturate instead of overflowing")
    func extremeTimes() {
        let oldest = sessionRecord(fingerprint: nil, lastAccess: "-9223372036854775808", expiresAt: nil)
        #expect(decide(oldest, now: .max) == .refused(.idle))
        let newest = sessionRecord(fingerprint: nil, lastAccess: "9223372036854775807", expiresAt: nil)
        #expect(decide(newest, now: .min, touch: 0) == untouched)
        let offOldest = sessionRecord(fingerprint: nil, lastAccess: "-9223372036854775808", idleTimeout: "-1")
        #expect(decide(offOldest, now: -5, touch: 1).shape == touched)
    }
}

@Suite("Session record: what is not a session record")
struct SessionRecordValidationTests {
    @Test(
        arguments: [
            (sessionRecord(lastAccess: nil), SessionError.missingLastAccessTime),
            (sessionRecord(lastAccess: "1000.5"), .lastAccessTimeNotInteger),
            (sessionRecord(lastAccess: "1000.0"), .lastAccessTimeNotInteger),
            (sessionRecord(lastAccess: "1e3"), .lastAccessTimeNotInteger),
            (sessionRecord(lastAccess: #""1000""#), .lastAccessTimeNotInteger),
            (sessionRecord(lastAccess: "null"), .lastAccessTimeNotInteger),
            (sessionRecord(lastAccess: "99999999999999999999"), .lastAccessTimeNotInteger),
            (sessionRecord(lastAccess: "-9223372036854775809"), .lastAccessTimeNotInteger),
            (sessionRecord(idleTimeout: nil), .missingIdleTimeout),
            (sessionRecord(idleTimeout: "1800.5"), .idleTimeoutNotInteger),
            (sessionRecord(idleTimeout: #""1800""#), .idleTimeoutNotInteger),
            (sessionRecord(idleTimeout: "true"), .idleTimeoutNotInteger),
            (sessionRecord(idleTimeout: "-2"), .idleTimeoutNegative),
            (sessionRecord(idleTimeout: "-9223372036854775808"), .idleTimeoutNegative),
            (sessionRecord(fingerprint: "1"), .fingerprintNotString),
            (sessionRecord(fingerprint: "null"), .fingerprintNotString),
            (sessionRecord(fingerprint: #"["fp"]"#), .fingerprintNotString),
            (sessionRecord(expiresAt: "5000.5"), .expiresAtNotInteger),
            (sessionRecord(expiresAt: #""5000""#), .expiresAtNotInteger),
            (sessionRecord(expiresAt: "null"), .expiresAtNotInteger),
            (
                #"{"last_access_time":1000,"last_access_time":1000,"session_idle_timeout":1}"#,
                .malformedRecord(.duplicateMemberName)
            ),
            (
                #"{"last_access_time":1000,"last\u005faccess_time":1,"session_idle_timeout":1}"#,
                .malformedRecord(.duplicateMemberName)
            ),
            (
                #"{"last_access_time":1,"session_idle_timeout":1,"x":{"a":1,"a":2}}"#,
                .malformedRecord(.duplicateMemberName)
            ),
            ("[]", .recordNotObject),
            (#""session""#, .recordNotObject),
            ("1000", .recordNotObject),
            ("null", .recordNotObject),
            ("", .malformedRecord(.syntax)),
            ("{", .malformedRecord(.syntax)),
            (#"{"last_access_time":1000,}"#, .malformedRecord(.syntax)),
            (#"{"last_access_time":01}"#, .malformedRecord(.invalidNumber)),
            (sessionRecord() + "x", .malformedRecord(.trailingData)),
            (#"{"fingerprint":"\x"}"#, .malformedRecord(.invalidEscape)),
            (String(repeating: "[", count: 40), .malformedRecord(.tooDeep)),
        ] as [(String, SessionError)]
    )
    func rejects(_ record: String, _ error: SessionError) {
        #expect(decide(record, fingerprint: "fp", now: 1001) == .refused(error))
        #expect(error.status == .invalidSession)
    }

    @Test("invalid UTF-8 and control bytes are refused")
    func rejectsBadBytes() {
        let prefix = Array(#"{"fingerprint":""#.utf8)
        let suffix = Array(#"","last_access_time":1,"session_idle_timeout":-1}"#.utf8)
        #expect(decide(prefix + [0xC0, 0xAF] + suffix, now: 1) == .refused(.malformedRecord(.invalidUTF8)))
        #expect(decide(prefix + [0x0A] + suffix, now: 1) == .refused(.malformedRecord(.controlCharacter)))
    }

    @Test("a record longer than 65536 bytes is refused before it is read")
    func rejectsLongRecords() {
        let padding = String(repeating: " ", count: SessionRecord.maximumLength)
        let record = Array((sessionRecord() + padding).utf8)
        #expect(decide(record, now: 1001, scratchSize: 1 << 20) == .refused(.recordTooLong))
        let longest = Array((sessionRecord() + padding).utf8.prefix(SessionRecord.maximumLength))
        #expect(decide(longest, fingerprint: "fp", now: 1001).shape == touched)
    }

    @Test("a scratch buffer below scratchSize is refused")
    func rejectsSmallScratch() {
        let record = Array(sessionRecord().utf8)
        let size = SessionRecord.scratchSize(forRecordLength: record.count)
        #expect(decide(record, fingerprint: "fp", now: 1001, scratchSize: size - 1) == .refused(.scratchTooSmall))
        #expect(decide(record, fingerprint: "fp", now: 1001, scratchSize: 0) == .refused(.scratchTooSmall))
    }

    @Test("scratchSize is total", arguments: [Int.min, -1, 0, 1, 100, 65536, 65537, Int.max])
    func scratchSizeIsTotal(_ length: Int) {
        let size = SessionRecord.scratchSize(forRecordLength: length)
        #expect(size > 0)
        #expect(size <= SessionRecord.scratchSize(forRecordLength: SessionRecord.maximumLength))
    }

    @Test("members with a session field's name inside nested values are someone else's")
    func ignoresNestedFields() {
        let record =
            #"{"meta":{"last_access_time":"x","fingerprint":1},"last_access_time":1000,"session_idle_timeout":5}"#
        #expect(decide(record, now: 1001).shape == touched)
    }
}

@Suite("Session record: the touched record")
struct SessionUpdateTests {
    @Test(
        "only the last_access_time number changes",
        arguments: [
            // (the record up to the top-level last_access_time number, the number, the rest, now)
            (#"{"fingerprint":"c0ffee","last_access_time":"#, "1000", #","session_idle_timeout":100}"#, Int64(1050)),
            (#"{"last_access_time":"#, "0", #","session_idle_timeout":-1}"#, 1_800_000_000),
            (#"{"session_idle_timeout":-1,"last_access_time":"#, "-0", "}", 7),
            (#"{"session_idle_timeout":-1,"last_access_time":"#, "-1800000000", "}", 0),
            (#"{"session_idle_timeout":-1,"last_access_time":"#, "-9223372036854775808", "}", .min),
            (#"{"session_idle_timeout":-1,"last_access_time":"#, "1", "}", .max),
            (
                """
                {
                  "user" : {"id": 42, "roles": ["a", "b"], "last_access_time": 5},
                  "last_access_time"\t:\t
                """,
                "1700000000",
                """
                 ,
                  "session_idle_timeout": -1,
                  "fingerprint": "c0\\u0066fee",
                  "note": "caf\u{E9} \\"quoted\\"",
                  "ratio": 1.5e-3,
                  "expires_at": 1900000000
                }\r\n
                """,
                1_800_000_000
            ),
            (#"{"last\u005faccess_time":"#, "1000", #","session_idle_timeout":-1,"x":null}"#, 1_234_567_890),
        ] as [(String, String, String, Int64)]
    )
    func keepsEveryOtherByte(_ head: String, _ number: String, _ tail: String, _ now: Int64) throws {
        let record = head + number + tail
        guard case .accepted(let updated?, _) = decide(record, fingerprint: "c0ffee", now: now, touch: 0) else {
            Issue.record("not touched: \(decide(record, fingerprint: "c0ffee", now: now, touch: 0))")
            return
        }
        #expect(updated == head + String(now) + tail)

        // It is still a session record, now with last_access_time = now, everything else as it was.
        let before = try JSONValue(parsing: Array(record.utf8))
        let after = try JSONValue(parsing: Array(updated.utf8))
        guard case .object(var beforeMembers) = before, case .object(var afterMembers) = after else {
            Issue.record("not objects")
            return
        }
        #expect(afterMembers.removeValue(forKey: "last_access_time") == .number(String(now)))
        beforeMembers.removeValue(forKey: "last_access_time")
        #expect(afterMembers == beforeMembers)
        #expect(decide(updated, fingerprint: "c0ffee", now: now, touch: 1) == .untouched.withExpiry(of: updated))
    }
}

extension SessionOutcome {
    /// An untouched acceptance carrying the record's `expires_at`.
    func withExpiry(of record: String) -> SessionOutcome {
        guard case .accepted(nil, nil) = self else {
            return self
        }
        let value = try? JSONValue(parsing: Array(record.utf8))
        guard case .number(let text)? = value?["expires_at"] else {
            return self
        }
        return .accepted(updated: nil, expiresAt: Int64(text))
    }
}

extension JSONValue {
    init(parsing bytes: [UInt8]) throws {
        let result = bytes.withUnsafeBytes { bytes in
            Result { () throws(JSONError) -> JSONValue in try JSONValue(parsing: bytes) }
        }
        self = try result.get()
    }
}
