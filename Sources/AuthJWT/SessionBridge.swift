// The session half of ajwt.h, over SessionCore's decisions and MemcachedRing's placement.
//
// Total like the rest of the bridge: NULL pointers, impossible lengths and hostile bytes yield a status and a static
// reason, never a trap.

import CAuthJWT
import JWTCore
import MemcachedRing
import SessionCore

// MARK: - The decision

@c @implementation
public func ajwt_session_update_size(_ record_len: Int) -> Int {
    // A size_t above Int.max arrives negative; such a record is refused before the buffer is used.
    SessionRecord.scratchSize(forRecordLength: record_len)
}

@c @implementation
public func ajwt_session_decide(
    _ record: ajwt_str_t,
    _ fingerprint: ajwt_str_t,
    _ now: Int64,
    _ touch: Int64,
    _ out: UnsafeMutablePointer<UInt8>?,
    _ out_len: Int,
    _ update: UnsafeMutablePointer<ajwt_session_update_t>?,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    update?.pointee = ajwt_session_update_t(updated_len: 0, expires_at: 0)
    // A NULL record is the store's "no record"; any other pair must describe memory.
    let recordBytes = record.data == nil ? nil : UnsafeRawBufferPointer(record)
    guard record.data == nil || recordBytes != nil, let fingerprintBytes = UnsafeRawBufferPointer(fingerprint),
        let scratch = UnsafeMutableRawBufferPointer(cBytes: out, count: out_len)
    else {
        reason?.pointee = ("invalid arguments to ajwt_session_decide" as StaticString).cString
        return AJWT_INVALID_SESSION
    }
    do {
        let decision = try SessionRecord.decide(
            recordBytes,
            fingerprint: fingerprintBytes,
            now: now,
            touch: touch,
            scratch: scratch
        )
        update?.pointee = ajwt_session_update_t(
            updated_len: decision.updatedLength,
            expires_at: decision.expiresAt ?? 0
        )
        reason?.pointee = nil
        return AJWT_OK
    } catch {
        return refuse(error, reason)
    }
}

@c @implementation
public func ajwt_session_check_length(
    _ bytes: UInt64,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    outcome(reason) { () throws(SessionError) in try SessionRecord.checkLength(bytes) }
}

@c @implementation
public func ajwt_session_touched(
    _ line: ajwt_str_t,
    _ kind: UnsafeMutablePointer<ajwt_cas_reply_t>?,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    let reply = UnsafeRawBufferPointer(line).map(CASReply.init(line:)) ?? .unexpected
    kind?.pointee = reply.cReply
    return outcome(reason) { () throws(SessionError) in try reply.check() }
}

// MARK: - Revocation

@c @implementation
public func ajwt_revocation_decide(
    _ present: Int32,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    outcome(reason) { () throws(SessionError) in try Revocation.check(recordPresent: present != 0) }
}

// MARK: - Combining a request's verdicts

@c @implementation
public func ajwt_session_verdict_prevails(_ current: ajwt_status_t, _ next: ajwt_status_t) -> Int32 {
    SessionVerdict.prevails(SessionVerdict(cStatus: next), over: SessionVerdict(cStatus: current)) ? 1 : 0
}

// MARK: - The ring

@c @implementation
public func ajwt_ring_create(
    _ servers: UnsafePointer<ajwt_str_t>?,
    _ nservers: Int,
    _ err: UnsafeMutablePointer<CChar>?,
    _ errlen: Int
) -> OpaquePointer? {
    guard let list = UnsafeBufferPointer(cPath: servers, count: nservers) else {
        copyMessage("invalid arguments to ajwt_ring_create", into: err, capacity: errlen)
        return nil
    }
    var names: [String] = []
    names.reserveCapacity(list.count)
    for server in list {
        guard let bytes = UnsafeRawBufferPointer(server) else {
            copyMessage("invalid arguments to ajwt_ring_create", into: err, capacity: errlen)
            return nil
        }
        // Copied: the ring keeps no pointer into the caller's memory. Invalid UTF-8 becomes U+FFFD, which the
        // server syntax refuses.
        names.append(String(decoding: bytes, as: UTF8.self))
    }
    do {
        let ring = RingBox(try KetamaRing(servers: names))
        return OpaquePointer(Unmanaged.passRetained(ring).toOpaque())
    } catch {
        copyMessage(error.description, into: err, capacity: errlen)
        return nil
    }
}

@c @implementation
public func ajwt_ring_free(_ ring: OpaquePointer?) {
    guard let ring else {
        return
    }
    Unmanaged<RingBox>.fromOpaque(UnsafeRawPointer(ring)).release()
}

@c @implementation
public func ajwt_ring_locate(
    _ ring: OpaquePointer?,
    _ key: ajwt_str_t,
    _ server: UnsafeMutablePointer<Int>?,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    guard let ring, let server, let keyBytes = UnsafeRawBufferPointer(key) else {
        reason?.pointee = ("invalid arguments to ajwt_ring_locate" as StaticString).cString
        return AJWT_INVALID_TOKEN
    }
    return outcome(reason) { () throws(SessionError) in
        try SessionKey.validate(keyBytes)
        // Borrowed: the caller keeps the ring alive for the call.
        server.pointee = Unmanaged<RingBox>.fromOpaque(UnsafeRawPointer(ring)).takeUnretainedValue().ring
            .serverIndex(forKey: keyBytes)
    }
}

/// The ring behind an `ajwt_ring_t` pointer.
private final class RingBox: Sendable {
    let ring: KetamaRing

    init(_ ring: KetamaRing) {
        self.ring = ring
    }
}

// MARK: - Outcomes

/// `AJWT_OK` with a NULL reason when `decision` passes; else the refusal's status and static reason.
private func outcome(
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
    _ decision: () throws(SessionError) -> Void
) -> ajwt_status_t {
    do {
        try decision()
        reason?.pointee = nil
        return AJWT_OK
    } catch {
        return refuse(error, reason)
    }
}

/// The refusal's status, with its static reason written to `reason`.
private func refuse(_ error: SessionError, _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> ajwt_status_t {
    reason?.pointee = error.reason.cString
    return error.status.cStatus
}

// MARK: - Conversions

extension SessionError.Status {
    /// The C status code (also for jwtctl, which prints its name).
    package var cStatus: ajwt_status_t {
        switch self {
        case .invalidToken: return AJWT_INVALID_TOKEN
        case .loggedOut: return AJWT_LOGGED_OUT
        case .fingerprintMismatch: return AJWT_FINGERPRINT_MISMATCH
        case .sessionIdleTimeout: return AJWT_SESSION_IDLE_TIMEOUT
        case .invalidSession: return AJWT_INVALID_SESSION
        case .sessionStoreUnavailable: return AJWT_SESSION_STORE_UNAVAILABLE
        case .tokenRevoked: return AJWT_TOKEN_REVOKED
        }
    }
}

extension SessionVerdict {
    /// The class of a status a lookup gave: `AJWT_OK` passes, `AJWT_SESSION_STORE_UNAVAILABLE` is a store failure,
    /// any other status refuses.
    init(cStatus: ajwt_status_t) {
        switch cStatus {
        case AJWT_OK: self = .pass
        case AJWT_SESSION_STORE_UNAVAILABLE: self = .storeFailure
        default: self = .refusal
        }
    }
}

extension CASReply {
    /// The C reply kind.
    var cReply: ajwt_cas_reply_t {
        switch self {
        case .stored: return AJWT_CAS_STORED
        case .exists: return AJWT_CAS_EXISTS
        case .notFound: return AJWT_CAS_NOT_FOUND
        case .unexpected: return AJWT_CAS_UNEXPECTED
        }
    }
}
