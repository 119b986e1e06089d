// ajwt_session_decide and ajwt_session_update_size on a session record, as the store hands it over after a
// memcached get, with the request's fingerprint, clock and touch interval taken from the input too. When a touch
// is due, the updated record is checked: only "last_access_time" changed, now spelled as the clock, and deciding
// the updated record again accepts it and rewrites it to the same bytes. The same record with JSON whitespace
// around it (the same JSON text, RFC 8259 §2) must come to the same decision. The record's bytes also go to
// ajwt_session_touched as a reply line: only the three replies memcached sends let a request through or log it
// out, and the kind agrees with the status.
//
// Input: one flags byte, the fingerprint's length, the fingerprint, then the record.
//   flags bits 0-2  now:   1800000000, 0, -1, Int64.max, Int64.min, 1800000600, 1799999999, 1800086400
//         bits 3-5  touch: 1, 0, -1, 60, Int64.max, Int64.min, 1800, 1000000000

import CAuthJWT
import FuzzSupport

enum Session {
    static let nows: [Int64] = [1_800_000_000, 0, -1, .max, .min, 1_800_000_600, 1_799_999_999, 1_800_086_400]
    static let touches: [Int64] = [1, 0, -1, 60, .max, .min, 1800, 1_000_000_000]

    static let lastAccessTime = Array("last_access_time".utf8)

    struct Decision {
        let status: ajwt_status_t
        let update: ajwt_session_update_t
        let updated: [UInt8]
    }

    /// Decides with an out buffer of exactly the size ajwt_session_update_size asks for.
    static func decide(
        _ record: UnsafeRawBufferPointer,
        fingerprint: UnsafeRawBufferPointer,
        now: Int64,
        touch: Int64
    ) -> Decision {
        let out = ExactBuffer(count: ajwt_session_update_size(record.count))
        var update = ajwt_session_update_t(updated_len: 99, expires_at: 99)
        var reason: UnsafePointer<CChar>?
        let status = ajwt_session_decide(
            ajwt_str_t(data: record.baseAddress?.assumingMemoryBound(to: UInt8.self), len: record.count),
            ajwt_str_t(data: fingerprint.baseAddress?.assumingMemoryBound(to: UInt8.self), len: fingerprint.count),
            now,
            touch,
            out.pointer,
            out.count,
            &update,
            &reason
        )
        trace("\(String(cString: ajwt_status_name(status))) \(reason.map { String(cString: $0) } ?? "")")
        checkReason(
            status,
            reason,
            allowed: [
                AJWT_OK, AJWT_LOGGED_OUT, AJWT_FINGERPRINT_MISMATCH, AJWT_SESSION_IDLE_TIMEOUT, AJWT_INVALID_SESSION,
            ]
        )
        require(status == AJWT_OK || update.updated_len == 0, "a refused record has an update")
        require(update.updated_len <= out.count, "updated_len beyond the out buffer")
        return Decision(status: status, update: update, updated: Array(out.bytes.prefix(update.updated_len)))
    }

    /// ajwt_session_touched on `line`.
    static func checkTouchReply(_ line: UnsafeRawBufferPointer) {
        var kind = ajwt_cas_reply_t(rawValue: 99)
        var reason: UnsafePointer<CChar>?
        let status = ajwt_session_touched(
            ajwt_str_t(data: line.baseAddress?.assumingMemoryBound(to: UInt8.self), len: line.count),
            &kind,
            &reason
        )
        checkReason(status, reason, allowed: [AJWT_OK, AJWT_LOGGED_OUT, AJWT_SESSION_STORE_UNAVAILABLE])
        let expected: ajwt_cas_reply_t
        if line.elementsEqual("STORED\r\n".utf8) {
            expected = AJWT_CAS_STORED
        } else if line.elementsEqual("EXISTS\r\n".utf8) {
            expected = AJWT_CAS_EXISTS
        } else if line.elementsEqual("NOT_FOUND\r\n".utf8) {
            expected = AJWT_CAS_NOT_FOUND
        } else {
            expected = AJWT_CAS_UNEXPECTED
        }
        require(kind == expected, "reply kind \(kind.rawValue) for a line that is \(expected.rawValue)")
        let expectedStatus: ajwt_status_t =
            switch expected {
            case AJWT_CAS_STORED, AJWT_CAS_EXISTS: AJWT_OK
            case AJWT_CAS_NOT_FOUND: AJWT_LOGGED_OUT
            default: AJWT_SESSION_STORE_UNAVAILABLE
            }
        require(status == expectedStatus, "reply status \(status.rawValue) for kind \(kind.rawValue)")
    }

    static func fuzz(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 2 else {
            return
        }
        let flags = input[0]
        let fingerprintEnd = min(2 + Int(input[1]), input.count)
        let fingerprint = UnsafeRawBufferPointer(rebasing: input[2..<fingerprintEnd])
        let record = UnsafeRawBufferPointer(rebasing: input[fingerprintEnd...])
        let now = self.nows[Int(flags & 7)]
        let touch = self.touches[Int(flags >> 3 & 7)]

        self.checkTouchReply(record)
        let decision = self.decide(record, fingerprint: fingerprint, now: now, touch: touch)
        if record.count + 5 <= Int(AJWT_MAX_SESSION_RECORD) {
            let padded = Array(" \r\n".utf8) + record + Array("\t ".utf8)
            let paddedDecision = padded.withUnsafeBytes {
                self.decide($0, fingerprint: fingerprint, now: now, touch: touch)
            }
            require(
                paddedDecision.status == decision.status,
                "whitespace around the record changed \(decision.status.rawValue) to \(paddedDecision.status.rawValue)"
            )
            require(
                (paddedDecision.update.updated_len > 0) == (decision.update.updated_len > 0),
                "whitespace around the record changed the touch"
            )
        }
        guard decision.status == AJWT_OK, decision.update.updated_len > 0 else {
            return
        }

        // Only the last_access_time number changed, and it now reads `now`.
        let recordSpan = ajwt_str_t(data: record.baseAddress?.assumingMemoryBound(to: UInt8.self), len: record.count)
        var number = ajwt_str_t()
        let kind = self.lastAccessTime.withUnsafeBufferPointer { name in
            var path = ajwt_str_t(data: name.baseAddress, len: name.count)
            return ajwt_json_get(recordSpan, &path, 1, 0, &number)
        }
        require(kind == AJWT_JSON_NUMBER, "accepted record without a last_access_time number")
        let head = UnsafeRawPointer(number.data!) - record.baseAddress!
        let tail = record.count - head - number.len
        let spelled = Array(String(now).utf8)
        require(decision.updated.count == head + spelled.count + tail, "updated record length")
        require(decision.updated.prefix(head).elementsEqual(record.prefix(head)), "bytes before the number changed")
        require(decision.updated.suffix(tail).elementsEqual(record.suffix(tail)), "bytes after the number changed")
        require(decision.updated[head..<(head + spelled.count)].elementsEqual(spelled), "number is not now")

        // The updated record is a record: deciding it again at once accepts it and rewrites the same bytes.
        let again = decision.updated.withUnsafeBytes {
            self.decide($0, fingerprint: fingerprint, now: now, touch: .min)
        }
        require(again.status == AJWT_OK, "the updated record is refused")
        require(again.updated == decision.updated, "touching the updated record changed it")
        require(again.update.expires_at == decision.update.expires_at, "expires_at changed")
    }
}

runFuzzer { data, size in
    Session.fuzz(UnsafeRawBufferPointer(fuzzInput: data, count: size))
    return 0
}
