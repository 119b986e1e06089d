import CAuthJWT
import Testing

@testable import JWTCore
@testable import SessionCore

/// The limits ajwt.h declares are the ones the core enforces: each is accepted exactly up to the header's value.
@Suite("Limits: ajwt.h is their single source of truth")
struct LimitsTests {
    @Test("AJWT_MAX_TOKEN_LEN: a token of exactly that many bytes verifies, one byte more is too long")
    func tokenLength() throws {
        let limit = Int(AJWT_MAX_TOKEN_LEN)
        // The contract: no limit below 16 KiB; a refusal only above a documented bound of at least 32 KiB.
        #expect(limit >= 32 * 1024)
        let keys = try makeKeySet(TestKeys.hmacJWK())

        let longest = try #require(Self.token(ofLength: limit))
        #expect(longest.utf8.count == limit)
        #expect(throws: Never.self) { try verify(longest, with: keys) }

        let longer = try #require(Self.token(ofLength: limit + 1))
        #expect(longer.utf8.count == limit + 1)
        #expect(throws: VerificationError.tokenTooLong) { try verify(longer, with: keys) }

        #expect(Verifier.maximumTokenLength == limit)
    }

    @Test("AJWT_MAX_JSON_DEPTH: a payload nested that deep verifies, one level more is too deep")
    func payloadDepth() throws {
        let depth = Int(AJWT_MAX_JSON_DEPTH)
        let keys = try makeKeySet(TestKeys.hmacJWK())
        let deepest = makeToken(header: #"{"alg":"HS256"}"#, payload: Self.nested(depth), sign: TestKeys.hs256())
        #expect(try verify(deepest, with: keys).payload == Self.nested(depth))
        let deeper = makeToken(header: #"{"alg":"HS256"}"#, payload: Self.nested(depth + 1), sign: TestKeys.hs256())
        #expect(throws: VerificationError.malformedPayload(.tooDeep)) { try verify(deeper, with: keys) }
    }

    @Test("AJWT_MAX_JSON_DEPTH: a session record nested that deep is read, one level more is refused")
    func recordDepth() {
        let depth = Int(AJWT_MAX_JSON_DEPTH)
        func record(_ depth: Int) -> String {
            #"{"last_access_time":1000,"session_idle_timeout":-1,"x":"#
                + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
        }
        #expect(decide(record(depth), now: 1000, touch: 10) == .untouched)
        #expect(decide(record(depth + 1), now: 1000, touch: 10) == .refused(.malformedRecord(.tooDeep)))
    }

    @Test("AJWT_MAX_SESSION_RECORD: a record of exactly that many bytes is read, one byte more is refused")
    func recordLength() {
        let limit = Int(AJWT_MAX_SESSION_RECORD)
        func record(_ length: Int) -> [UInt8] {
            let head = Array(#"{"last_access_time":1000,"session_idle_timeout":-1,"pad":""#.utf8)
            let tail = Array(#""}"#.utf8)
            return head + [UInt8](repeating: UInt8(ascii: "x"), count: length - head.count - tail.count) + tail
        }
        #expect(decide(record(limit), now: 1000, touch: 10) == .untouched)
        #expect(decide(record(limit + 1), now: 1000, touch: 10, scratchSize: 1 << 20) == .refused(.recordTooLong))
        #expect(SessionRecord.maximumLength == limit)
    }

    /// Reasons are static strings, so they spell the limits out: they must say what the header says.
    @Test("the refusals' reasons name the header's limits")
    func reasons() {
        #expect("\(VerificationError.tokenTooLong.reason)".contains(" \(AJWT_MAX_TOKEN_LEN) "))
        #expect("\(SessionError.recordTooLong.reason)".contains(" \(AJWT_MAX_SESSION_RECORD / 1024) KiB"))
    }

    /// An object whose member `a` holds arrays nested so that the document is `depth` levels deep.
    static func nested(_ depth: Int) -> String {
        #"{"a":"# + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
    }

    /// An HS256 token of exactly `length` bytes (a header member and the payload padded to fit).
    static func token(ofLength length: Int) -> String? {
        // Unpadded base64url of n bytes; an HS256 signature is 32 bytes.
        func encoded(_ count: Int) -> Int { (count * 4 + 2) / 3 }
        let header = (#"{"alg":"HS256","x":""#, #""}"#)
        let payload = (#"{"pad":""#, #""}"#)
        let fixed = header.0.utf8.count + header.1.utf8.count
        let payloadFixed = payload.0.utf8.count + payload.1.utf8.count
        let approximate = (length - 2 - encoded(32) - encoded(fixed)) * 3 / 4 - payloadFixed
        for headerPad in 0..<4 {
            for payloadPad in max(approximate - 8, 0)...(approximate + 8) {
                let size =
                    encoded(fixed + headerPad) + 1 + encoded(payloadFixed + payloadPad) + 1 + encoded(32)
                guard size == length else {
                    continue
                }
                return makeToken(
                    header: header.0 + String(repeating: "h", count: headerPad) + header.1,
                    payload: payload.0 + String(repeating: "p", count: payloadPad) + payload.1,
                    sign: TestKeys.hs256()
                )
            }
        }
        return nil
    }
}
