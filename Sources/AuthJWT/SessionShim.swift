// Temporary: replaced by the session core's bridge.
import CAuthJWT

@c @implementation
public func ajwt_session_check_length(_ bytes: UInt64, _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> ajwt_status_t {
    if bytes > UInt64(AJWT_MAX_SESSION_RECORD) {
        reason?.pointee = ("session record longer than 64 KiB" as StaticString).cString
        return AJWT_INVALID_SESSION
    }
    reason?.pointee = nil
    return AJWT_OK
}

@c @implementation
public func ajwt_session_touched(
    _ line: ajwt_str_t, _ kind: UnsafeMutablePointer<ajwt_cas_reply_t>?,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    let bytes = line.data.map { Array(UnsafeBufferPointer(start: $0, count: line.len)) } ?? []
    reason?.pointee = nil
    switch bytes {
    case Array("STORED\r\n".utf8): kind?.pointee = AJWT_CAS_STORED; return AJWT_OK
    case Array("EXISTS\r\n".utf8): kind?.pointee = AJWT_CAS_EXISTS; return AJWT_OK
    case Array("NOT_FOUND\r\n".utf8):
        kind?.pointee = AJWT_CAS_NOT_FOUND
        reason?.pointee = ("session record deleted during the check" as StaticString).cString
        return AJWT_LOGGED_OUT
    default:
        kind?.pointee = AJWT_CAS_UNEXPECTED
        reason?.pointee = ("unexpected reply from memcached" as StaticString).cString
        return AJWT_SESSION_STORE_UNAVAILABLE
    }
}

@c @implementation
public func ajwt_revocation_decide(_ present: Int32, _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> ajwt_status_t {
    if present != 0 {
        reason?.pointee = ("token revoked" as StaticString).cString
        return AJWT_TOKEN_REVOKED
    }
    reason?.pointee = nil
    return AJWT_OK
}
