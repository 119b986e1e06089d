import JWTCore
import SessionCore
import SessionStore
import Testing

/// When a touch is due: once the touch interval has passed, or half the record's `session_idle_timeout` has,
/// whichever comes first, so that a long interval never lets an active session go idle.
@Suite("Session record: when to touch")
struct SessionTouchTests {
    @Test(
        "the touch interval or half the idle timeout, whichever comes first",
        arguments: [
            // (idle timeout, seconds since last_access_time, touch interval, outcome)
            ("1800", Int64(899), Int64(3600), untouched),
            ("1800", 900, 3600, touched),  // half the idle timeout, long before the interval
            ("1800", 1800, 3600, touched),
            ("1800", 59, 60, untouched),  // the interval first
            ("1800", 60, 60, touched),
            ("1800", 900, 900, touched),  // both at once
            ("1800", 899, 900, untouched),
            ("1801", 900, 3600, touched),  // half rounds down
            ("1801", 899, 3600, untouched),
            ("4", 1, 3600, untouched),
            ("4", 2, 3600, touched),
            ("3", 1, 3600, touched),
            ("2", 0, 3600, untouched),
            ("2", 1, 3600, touched),
            ("1", 0, 3600, touched),  // half of 1 is 0: every request
            ("0", 0, 3600, touched),  // a zero timeout: every request (within its one second)
            ("-1", 3599, 3600, untouched),  // no idle check: only the interval counts
            ("-1", 3600, 3600, touched),
            ("-1", 1_000_000, 1_000_000_000, untouched),
            ("9223372036854775807", 3599, 3600, untouched),  // a huge timeout: the interval
            ("9223372036854775807", 3600, 3600, touched),
            ("1800", -5, 0, untouched),  // last_access_time ahead of now never moves back
            ("1800", 900, .max, touched),
        ] as [(String, Int64, Int64, SessionOutcome)]
    )
    func due(_ idleTimeout: String, _ elapsed: Int64, _ touch: Int64, _ expected: SessionOutcome) {
        let record = sessionRecord(idleTimeout: idleTimeout, expiresAt: nil)
        #expect(decide(record, fingerprint: "fp", now: 1000 + elapsed, touch: touch).shape == expected)
    }

    /// A user who makes a request every `step` seconds (at most the idle timeout apart) for two days, with the touch
    /// interval twice the idle timeout: every request passes, and `last_access_time` is written at most once per half
    /// idle timeout.
    @Test("an active session never goes idle", arguments: [1, 60, 899, 900, 901, 1799, 1800] as [Int64])
    func activeSessionStaysLive(_ step: Int64) throws {
        let start: Int64 = 1_800_000_000
        var record = sessionRecord(lastAccess: String(start), idleTimeout: "1800", expiresAt: nil)
        var now = start
        var writes = 0
        while now < start + 2 * 86_400 {
            now += step
            switch decide(record, fingerprint: "fp", now: now, touch: 3600) {
            case .accepted(let updated?, _):
                record = updated
                writes += 1
                #expect(record.contains(#""last_access_time":\#(now),"#))
            case .accepted(nil, _):
                break
            case .refused(let error):
                Issue.record("refused at +\(now - start) s, requests every \(step) s: \(error.reason)")
                return
            }
            try #require(now - lastAccessTime(record) <= 1800)
        }
        #expect(writes <= 2 * 86_400 / 900 + 1)
    }

    /// The session store's own check (jwtctl session check) decides as the module does.
    @Test("SessionStore.check touches at half the idle timeout")
    func storeCheck() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        let now = epochSeconds()
        let record = #"{"last_access_time":\#(now - 900),"session_idle_timeout":1800}"#
        try store.create(key: "touch:half", record: Array(record.utf8), expiresAt: 0)
        try store.create(key: "touch:early", record: Array(record.utf8), expiresAt: 0)

        try store.check(key: "touch:half", now: now, touch: 3600)
        let touched = #"{"last_access_time":\#(now),"session_idle_timeout":1800}"#
        #expect(try store.recordText(forKey: "touch:half") == touched)
        try store.check(key: "touch:early", now: now - 1, touch: 3600)
        #expect(try store.recordText(forKey: "touch:early") == record)
    }
}

/// The top-level `last_access_time` of a record `sessionRecord` built (and `decide` updated).
private func lastAccessTime(_ record: String) -> Int64 {
    guard let range = record.range(of: #""last_access_time":"#) else {
        return .min
    }
    return Int64(record[range.upperBound...].prefix { $0 == "-" || $0.isNumber }) ?? .min
}
