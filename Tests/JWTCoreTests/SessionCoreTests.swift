import SessionCore
import Testing

@Suite("Session decisions: store replies and revocation")
struct SessionCoreTests {
    static func reply(_ line: String) -> CASReply {
        Array(line.utf8).withUnsafeBytes { CASReply(line: $0) }
    }

    @Test("cas reply lines")
    func replyLines() {
        #expect(Self.reply("STORED\r\n") == .stored)
        #expect(Self.reply("EXISTS\r\n") == .exists)
        #expect(Self.reply("NOT_FOUND\r\n") == .notFound)
        for line in ["", "STORED", "NOT_STORED\r\n", "EXISTS\n", "NOT_FOUND\r\nX", "ERROR\r\n"] {
            #expect(Self.reply(line) == .unexpected, "\(line.debugDescription)")
        }
    }

    @Test("what a cas reply means for the request")
    func replyMeaning() throws {
        try CASReply.stored.check()
        try CASReply.exists.check()
        #expect(throws: SessionError.deletedDuringCheck) { try CASReply.notFound.check() }
        #expect(throws: SessionError.unexpectedReply) { try CASReply.unexpected.check() }
        #expect(SessionError.deletedDuringCheck.status == .loggedOut)
        #expect(SessionError.unexpectedReply.status == .sessionStoreUnavailable)
    }

    @Test("a revocation record refuses the token; none lets it through")
    func revocation() throws {
        try Revocation.check(recordPresent: false)
        let error = #expect(throws: SessionError.revoked) { try Revocation.check(recordPresent: true) }
        #expect(error?.status == .tokenRevoked)
    }

    @Test("a request's verdicts: a refusal over a store failure over a pass; the first of a kind stands")
    func verdicts() {
        let refusals: [SessionError] = [.revoked, .noRecord, .invalidKey, .recordTooLong, .deletedDuringCheck]
        #expect(SessionVerdict(nil) == .pass)
        #expect(SessionVerdict(.unexpectedReply) == .storeFailure)
        for error in refusals {
            #expect(SessionVerdict(error) == .refusal, "\(error.reason)")
        }
        let all: [SessionVerdict] = [.pass, .storeFailure, .refusal]
        for (i, current) in all.enumerated() {
            for (j, next) in all.enumerated() {
                #expect(SessionVerdict.prevails(next, over: current) == (j > i), "\(next) over \(current)")
            }
        }
    }

    @Test("the revocation record and its lifetime")
    func revocationRecord() {
        #expect(Revocation.record(revokedAt: 1_800_000_000) == Array(#"{"revoked_at":1800000000}"#.utf8))
        #expect(Revocation.isLive(until: 101, now: 100))
        #expect(!Revocation.isLive(until: 100, now: 100))
        #expect(!Revocation.isLive(until: 99, now: 100))
    }

    @Test("the announced record length")
    func recordLength() throws {
        try SessionRecord.checkLength(0)
        try SessionRecord.checkLength(UInt64(SessionRecord.maximumLength))
        #expect(throws: SessionError.recordTooLong) {
            try SessionRecord.checkLength(UInt64(SessionRecord.maximumLength) + 1)
        }
        #expect(throws: SessionError.recordTooLong) { try SessionRecord.checkLength(.max) }
    }

    @Test("no record is LOGGED_OUT before anything else is looked at")
    func absentRecord() {
        let error = #expect(throws: SessionError.noRecord) {
            try SessionRecord.decide(
                nil,
                fingerprint: UnsafeRawBufferPointer(start: nil, count: 0),
                now: 1,
                touch: 1,
                scratch: UnsafeMutableRawBufferPointer(start: nil, count: 0)
            )
        }
        #expect(error?.status == .loggedOut)
    }
}
