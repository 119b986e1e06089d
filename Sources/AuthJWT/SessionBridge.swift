// The session half of ajwt.h, over JWTCore's session decision and SessionStore's server ring.
//
// Total like the rest of the bridge: NULL pointers, impossible lengths and hostile bytes yield a status and a static
// reason, never a trap.

import CAuthJWT
import JWTCore
import SessionStore

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
    if record.data == nil {
        reason?.pointee = ("no session record" as StaticString).cString
        return AJWT_LOGGED_OUT
    }
    guard let recordBytes = UnsafeRawBufferPointer(record), let fingerprintBytes = UnsafeRawBufferPointer(fingerprint),
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
        reason?.pointee = error.reason.cString
        return error.status.cStatus
    }
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
        let ring = try ServerRing(servers: names)
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
    Unmanaged<ServerRing>.fromOpaque(UnsafeRawPointer(ring)).release()
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
    do {
        // Borrowed: the caller keeps the ring alive for the call.
        server.pointee = try Unmanaged<ServerRing>.fromOpaque(UnsafeRawPointer(ring)).takeUnretainedValue()
            .serverIndex(forKey: keyBytes)
        reason?.pointee = nil
        return AJWT_OK
    } catch {
        reason?.pointee = error.reason.cString
        return error.status.cStatus
    }
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
        }
    }
}
