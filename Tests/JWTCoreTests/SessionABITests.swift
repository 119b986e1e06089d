import AuthJWT
import CAuthJWT
import MemcachedRing
import SessionCore
import SessionStore
import Testing

/// The session, revocation and ring functions of ajwt.h through the C ABI, as the nginx module calls them.
@Suite("Sessions: the C ABI")
struct SessionABITests {
    /// A status with its reason as text (nil for a NULL reason).
    struct Outcome: Equatable, CustomStringConvertible {
        let status: ajwt_status_t
        let reason: String?

        init(_ status: ajwt_status_t, _ reason: String?) {
            self.status = status
            self.reason = reason
        }

        init(_ status: ajwt_status_t, _ reason: UnsafePointer<CChar>?) {
            self.init(status, reason.map { String(cString: $0) })
        }

        static let ok = Outcome(AJWT_OK, nil as String?)

        var description: String { "\(String(cString: ajwt_status_name(self.status))): \(self.reason ?? "nil")" }
    }

    /// A reason set to a static string first, to see the function clear it on success.
    static func calling(_ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> ajwt_status_t) -> Outcome {
        let unset: StaticString = "unset"
        var reason: UnsafePointer<CChar>? = UnsafeRawPointer(unset.utf8Start).assumingMemoryBound(to: CChar.self)
        let status = body(&reason)
        return Outcome(status, reason)
    }

    /// ajwt_session_decide over `record` (nil: a NULL pointer, as for no record), with a scratch buffer of the
    /// size ajwt_session_update_size gives.
    static func decide(_ record: [UInt8]?, length: Int? = nil, fingerprint: String = "", now: Int64 = 1000) -> Outcome {
        let bytes = record ?? []
        var scratch = [UInt8](repeating: 0, count: ajwt_session_update_size(bytes.count))
        let fingerprint = Array(fingerprint.utf8)
        return bytes.withUnsafeBufferPointer { recordBytes in
            fingerprint.withUnsafeBufferPointer { fingerprintBytes in
                scratch.withUnsafeMutableBufferPointer { out in
                    var update = ajwt_session_update_t()
                    return calling {
                        ajwt_session_decide(
                            ajwt_str_t(data: record == nil ? nil : recordBytes.baseAddress, len: length ?? bytes.count),
                            ajwt_str_t(data: fingerprintBytes.baseAddress, len: fingerprintBytes.count),
                            now, 10, out.baseAddress, out.count, &update, $0
                        )
                    }
                }
            }
        }
    }

    @Test("a NULL record is no record: LOGGED_OUT, whatever the length says", arguments: [0, 5])
    func noRecord(length: Int) {
        #expect(Self.decide(nil, length: length) == Outcome(AJWT_LOGGED_OUT, "no session record"))
    }

    @Test("a present record is decided on its contents; an empty one is unreadable")
    func presentRecords() {
        let record = Array(#"{"last_access_time":999,"session_idle_timeout":60}"#.utf8)
        #expect(Self.decide(record) == .ok)
        #expect(Self.decide(record, now: 1060) == Outcome(AJWT_SESSION_IDLE_TIMEOUT, SessionError.idle.description))
        #expect(Self.decide([]).status == AJWT_INVALID_SESSION)
        let long = [UInt8](repeating: 0x20, count: Int(AJWT_MAX_SESSION_RECORD) + 1)
        #expect(Self.decide(long) == Outcome(AJWT_INVALID_SESSION, "session record longer than 64 KiB"))
    }

    @Test(
        "the announced record length: up to AJWT_MAX_SESSION_RECORD is read",
        arguments: [0, 1, UInt64(AJWT_MAX_SESSION_RECORD)]
    )
    func lengthAccepted(bytes: UInt64) {
        #expect(Self.calling { ajwt_session_check_length(bytes, $0) } == .ok)
    }

    @Test(
        "the announced record length: longer is INVALID_SESSION",
        arguments: [UInt64(AJWT_MAX_SESSION_RECORD) + 1, UInt64(Int.max) + 1, UInt64.max]
    )
    func lengthRefused(bytes: UInt64) {
        #expect(
            Self.calling { ajwt_session_check_length(bytes, $0) }
                == Outcome(AJWT_INVALID_SESSION, "session record longer than 64 KiB")
        )
    }

    /// ajwt_session_touched over `line` (nil: a NULL pointer), with the kind it reports.
    static func touched(_ line: String?) -> (Outcome, ajwt_cas_reply_t) {
        var kind = ajwt_cas_reply_t(rawValue: 99)
        let bytes = Array((line ?? "").utf8)
        let outcome = bytes.withUnsafeBufferPointer { line in
            calling { ajwt_session_touched(ajwt_str_t(data: line.baseAddress, len: line.count), &kind, $0) }
        }
        return (outcome, kind)
    }

    @Test("the reply to a touch's cas")
    func casReplies() {
        #expect(Self.touched("STORED\r\n") == (.ok, AJWT_CAS_STORED))
        #expect(Self.touched("EXISTS\r\n") == (.ok, AJWT_CAS_EXISTS))
        #expect(
            Self.touched("NOT_FOUND\r\n")
                == (Outcome(AJWT_LOGGED_OUT, "session record deleted during the check"), AJWT_CAS_NOT_FOUND)
        )
    }

    @Test(
        "any other reply to a touch's cas fails closed",
        arguments: [
            nil, "", "STORED", "STORED\n", "stored\r\n", "STORED\r\nEXISTS\r\n", " STORED\r\n", "NOT_STORED\r\n",
            "ERROR\r\n", "SERVER_ERROR out of memory\r\n", "NOT_FOUND\r", "EXISTS\r\n\r\n",
        ] as [String?]
    )
    func unexpectedCASReplies(_ line: String?) {
        #expect(
            Self.touched(line)
                == (Outcome(AJWT_SESSION_STORE_UNAVAILABLE, "unexpected reply from memcached"), AJWT_CAS_UNEXPECTED)
        )
    }

    @Test("a NULL kind is allowed")
    func casReplyWithoutKind() {
        let line = Array("EXISTS\r\n".utf8)
        let outcome = line.withUnsafeBufferPointer { line in
            Self.calling { ajwt_session_touched(ajwt_str_t(data: line.baseAddress, len: line.count), nil, $0) }
        }
        #expect(outcome == .ok)
    }

    @Test("revocation: a record present revokes the token", arguments: [1, -1, 2] as [Int32])
    func revoked(present: Int32) {
        #expect(Self.calling { ajwt_revocation_decide(present, $0) } == Outcome(AJWT_TOKEN_REVOKED, "token revoked"))
    }

    @Test("revocation: no record, no refusal")
    func notRevoked() {
        #expect(Self.calling { ajwt_revocation_decide(0, $0) } == .ok)
    }

    @Test("combining a request's verdicts, in any order of arrival")
    func verdictPrecedence() {
        let refusals = [AJWT_TOKEN_REVOKED, AJWT_LOGGED_OUT, AJWT_FINGERPRINT_MISMATCH, AJWT_SESSION_IDLE_TIMEOUT,
                        AJWT_INVALID_SESSION, AJWT_INVALID_TOKEN]
        for refusal in refusals {
            #expect(ajwt_session_verdict_prevails(AJWT_OK, refusal) != 0)
            #expect(ajwt_session_verdict_prevails(AJWT_SESSION_STORE_UNAVAILABLE, refusal) != 0)
            #expect(ajwt_session_verdict_prevails(refusal, AJWT_SESSION_STORE_UNAVAILABLE) == 0)
            #expect(ajwt_session_verdict_prevails(refusal, AJWT_OK) == 0)
            for other in refusals {
                #expect(ajwt_session_verdict_prevails(refusal, other) == 0, "the first refusal stands")
            }
        }
        #expect(ajwt_session_verdict_prevails(AJWT_OK, AJWT_SESSION_STORE_UNAVAILABLE) != 0)
        #expect(ajwt_session_verdict_prevails(AJWT_SESSION_STORE_UNAVAILABLE, AJWT_SESSION_STORE_UNAVAILABLE) == 0)
        #expect(ajwt_session_verdict_prevails(AJWT_SESSION_STORE_UNAVAILABLE, AJWT_OK) == 0)
        #expect(ajwt_session_verdict_prevails(AJWT_OK, AJWT_OK) == 0)
    }

    @Test("TOKEN_REVOKED is named, after every other status")
    func statusName() {
        #expect(String(cString: ajwt_status_name(AJWT_TOKEN_REVOKED)) == "TOKEN_REVOKED")
        #expect(AJWT_TOKEN_REVOKED.rawValue == AJWT_KEYS_UNAVAILABLE.rawValue + 1)
        for raw in 0...AJWT_TOKEN_REVOKED.rawValue {
            #expect(String(cString: ajwt_status_name(ajwt_status_t(rawValue: raw))) != "UNKNOWN")
        }
    }

    /// A C ring over `servers`, or the error it wrote.
    static func ring(_ servers: [String]) -> Result<OpaquePointer, RingCreationFailed> {
        let bytes = servers.map { Array($0.utf8) }
        var err = [CChar](repeating: 0, count: 256)
        let spans = bytes.map { $0.withUnsafeBufferPointer { ajwt_str_t(data: $0.baseAddress, len: $0.count) } }
        let ring = withExtendedLifetime(bytes) { ajwt_ring_create(spans, spans.count, &err, err.count) }
        guard let ring else {
            return .failure(RingCreationFailed(message: String(cString: err)))
        }
        return .success(ring)
    }

    struct RingCreationFailed: Error {
        let message: String
    }

    @Test("ajwt_ring_locate names the server libmemcached names")
    func ringLocate() throws {
        let servers = ["10.0.0.1:11211", "cache.internal:11212", "[fd00::1]:11213", "10.0.0.4:20000"]
        let ring = try Self.ring(servers).get()
        defer { ajwt_ring_free(ring) }
        let oracle = try ServerRing(servers: servers)
        var perServer = [Int](repeating: 0, count: servers.count)
        for n in 0..<2000 {
            let key = Array("session:\(n)".utf8)
            var server = Int.max
            let outcome = key.withUnsafeBufferPointer { key in
                Self.calling { ajwt_ring_locate(ring, ajwt_str_t(data: key.baseAddress, len: key.count), &server, $0) }
            }
            #expect(outcome == .ok)
            #expect(try key.withUnsafeBytes { try oracle.serverIndex(forKey: $0) } == server)
            perServer[server] += 1
        }
        #expect(perServer.allSatisfy { $0 > 0 }, "\(perServer)")
    }

    @Test(
        "ajwt_ring_locate refuses a key memcached cannot take",
        arguments: ["", "a b", "a\u{7F}", String(repeating: "k", count: 251)]
    )
    func ringInvalidKey(_ key: String) throws {
        let ring = try Self.ring(["a:1", "b:2"]).get()
        defer { ajwt_ring_free(ring) }
        var server = 7
        let bytes = Array(key.utf8)
        let outcome = bytes.withUnsafeBufferPointer { key in
            Self.calling { ajwt_ring_locate(ring, ajwt_str_t(data: key.baseAddress, len: key.count), &server, $0) }
        }
        #expect(outcome == Outcome(AJWT_INVALID_TOKEN, "session key is not a valid memcached key"))
    }

    @Test("ajwt_ring_create refuses a bad server list with a message naming the server")
    func ringCreateRefusals() {
        for (servers, message) in [
            ([], "no memcached servers"),
            (["a:1", "localhost"], #"invalid memcached server "localhost": expected host:port"#),
        ] as [([String], String)] {
            switch Self.ring(servers) {
            case .success(let ring):
                ajwt_ring_free(ring)
                Issue.record("accepted \(servers)")
            case .failure(let failure):
                #expect(failure.message == message)
            }
        }
    }
}
