// The token types of ajwt.h (signed, encrypted, nested): ajwt_open() and ajwt_keyset_check_type(), over JWTCore's
// TokenOpener. Total, as the rest of the bridge: bad arguments are a result, never a trap.

import CAuthJWT
import JWTCore

@c @implementation
public func ajwt_keyset_holds_private_keys(_ ks: OpaquePointer?) -> Int32 {
    KeySet.borrowing(ks)?.holdsPrivateKeys == true ? 1 : 0
}

@c @implementation
public func ajwt_keyset_check_type(
    _ ks: OpaquePointer?,
    _ type: ajwt_type_t,
    _ err: UnsafeMutablePointer<CChar>?,
    _ errlen: Int
) -> Int32 {
    guard let keySet = KeySet.borrowing(ks) else {
        copyMessage("no key set", into: err, capacity: errlen)
        return -1
    }
    guard let tokenType = TokenType(type) else {
        copyMessage("unknown token type", into: err, capacity: errlen)
        return -1
    }
    guard let problem = keySet.problem(serving: tokenType) else {
        return 0
    }
    copyMessage(problem, into: err, capacity: errlen)
    return -1
}

@c @implementation
public func ajwt_open(
    _ ks: OpaquePointer?,
    _ type: ajwt_type_t,
    _ token: UnsafePointer<UInt8>?,
    _ token_len: Int,
    _ scratch: UnsafeMutablePointer<UInt8>?,
    _ scratch_len: Int,
    _ now: Int64,
    _ leeway: Int64,
    _ out: UnsafeMutablePointer<ajwt_token_t>?,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    guard let keySet = KeySet.borrowing(ks), let tokenType = TokenType(type),
        let token = UnsafeRawBufferPointer(cBytes: token, count: token_len),
        let scratch = UnsafeMutableRawBufferPointer(cBytes: scratch, count: scratch_len)
    else {
        reason?.pointee = ("invalid arguments to ajwt_open" as StaticString).cString
        return AJWT_INVALID_TOKEN
    }
    do {
        let opened = try TokenOpener(keys: keySet).open(
            token,
            type: tokenType,
            scratch: scratch,
            now: now,
            leeway: leeway
        )
        out?.pointee = ajwt_token_t(header: ajwt_str_t(opened.header), payload: ajwt_str_t(opened.payload))
        reason?.pointee = nil
        return AJWT_OK
    } catch {
        return ajwt_status_t(error, reason: reason)
    }
}

extension TokenType {
    /// The type an `ajwt_type_t` names, or `nil` for a value outside the enum.
    fileprivate init?(_ type: ajwt_type_t) {
        switch type {
        case AJWT_TYPE_SIGNED: self = .signed
        case AJWT_TYPE_ENCRYPTED: self = .encrypted
        case AJWT_TYPE_NESTED: self = .nested
        default: return nil
        }
    }
}
