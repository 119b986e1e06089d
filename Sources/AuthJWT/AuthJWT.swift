// The C ABI of ajwt.h, implemented over JWTCore: the only code that touches C pointers.
//
// Every function here is total: NULL pointers, impossible lengths (a size_t above Int.max arrives negative) and
// hostile bytes produce an error result, never a trap, since a trap would kill the nginx worker.

import CAuthJWT
import JWTCore

// MARK: - Status names

@c @implementation
public func ajwt_status_name(_ status: ajwt_status_t) -> UnsafePointer<CChar>? {
    let name: StaticString
    switch status {
    case AJWT_OK: name = "OK"
    case AJWT_TOKEN_MISSING: name = "TOKEN_MISSING"
    case AJWT_INVALID_TOKEN: name = "INVALID_TOKEN"
    case AJWT_TOKEN_EXPIRED: name = "TOKEN_EXPIRED"
    case AJWT_LOGGED_OUT: name = "LOGGED_OUT"
    case AJWT_FINGERPRINT_MISMATCH: name = "FINGERPRINT_MISMATCH"
    case AJWT_SESSION_IDLE_TIMEOUT: name = "SESSION_IDLE_TIMEOUT"
    case AJWT_INVALID_SESSION: name = "INVALID_SESSION"
    case AJWT_FORBIDDEN: name = "FORBIDDEN"
    case AJWT_SESSION_STORE_UNAVAILABLE: name = "SESSION_STORE_UNAVAILABLE"
    case AJWT_KEYS_UNAVAILABLE: name = "KEYS_UNAVAILABLE"
    case AJWT_TOKEN_REVOKED: name = "TOKEN_REVOKED"
    default: name = "UNKNOWN"
    }
    return name.cString
}

// MARK: - Key sets

@c @implementation
public func ajwt_keyset_create() -> OpaquePointer? {
    OpaquePointer(Unmanaged.passRetained(KeySet()).toOpaque())
}

@c @implementation
public func ajwt_keyset_add(
    _ ks: OpaquePointer?,
    _ data: UnsafePointer<UInt8>?,
    _ len: Int,
    _ err: UnsafeMutablePointer<CChar>?,
    _ errlen: Int
) -> Int32 {
    addKeys(ks, data, len, err, errlen) { keySet, file throws(KeyFileError) in try keySet.add(contentsOf: file) }
}

@c @implementation
public func ajwt_keyset_add_keyval(
    _ ks: OpaquePointer?,
    _ data: UnsafePointer<UInt8>?,
    _ len: Int,
    _ err: UnsafeMutablePointer<CChar>?,
    _ errlen: Int
) -> Int32 {
    addKeys(ks, data, len, err, errlen) { keySet, file throws(KeyFileError) in
        try keySet.add(keyValContentsOf: file)
    }
}

/// A key file's contents added to the set behind `ks` by `add`, the message of a failure copied to `err`.
private func addKeys(
    _ ks: OpaquePointer?,
    _ data: UnsafePointer<UInt8>?,
    _ len: Int,
    _ err: UnsafeMutablePointer<CChar>?,
    _ errlen: Int,
    _ add: (KeySet, UnsafeRawBufferPointer) throws(KeyFileError) -> Int
) -> Int32 {
    guard let keySet = KeySet.borrowing(ks) else {
        copyMessage("no key set", into: err, capacity: errlen)
        return -1
    }
    guard let file = UnsafeRawBufferPointer(cBytes: data, count: len) else {
        copyMessage("no key file contents", into: err, capacity: errlen)
        return -1
    }
    do {
        return Int32(clamping: try add(keySet, file))
    } catch {
        copyMessage(error.description, into: err, capacity: errlen)
        return -1
    }
}

@c @implementation
public func ajwt_keyset_add_set(_ ks: OpaquePointer?, _ from: OpaquePointer?) {
    guard let keySet = KeySet.borrowing(ks), let other = KeySet.borrowing(from), keySet !== other else {
        return
    }
    keySet.add(contentsOf: other)
}

@c @implementation
public func ajwt_keyset_count(_ ks: OpaquePointer?) -> Int {
    KeySet.borrowing(ks)?.count ?? 0
}

@c @implementation
public func ajwt_keyset_id(_ ks: OpaquePointer?) -> UInt64 {
    KeySet.borrowing(ks)?.id ?? 0
}

@c @implementation
public func ajwt_keyset_lacks_kid(_ ks: OpaquePointer?, _ token: UnsafePointer<UInt8>?, _ token_len: Int) -> Int32 {
    guard let keySet = KeySet.borrowing(ks), let token = UnsafeRawBufferPointer(cBytes: token, count: token_len) else {
        return 0
    }
    return TokenOpener(keys: keySet).namesUnknownKeyID(token) ? 1 : 0
}

@c @implementation
public func ajwt_keyset_free(_ ks: OpaquePointer?) {
    guard let ks else {
        return
    }
    Unmanaged<KeySet>.fromOpaque(UnsafeRawPointer(ks)).release()
}

// MARK: - Verification

@c @implementation
public func ajwt_scratch_size(_ token_len: Int) -> Int {
    // A size_t above Int.max arrives negative; such a token is refused before the scratch buffer is used.
    TokenOpener.scratchSize(forTokenLength: token_len)
}

@c @implementation
public func ajwt_verify(
    _ ks: OpaquePointer?,
    _ token: UnsafePointer<UInt8>?,
    _ token_len: Int,
    _ scratch: UnsafeMutablePointer<UInt8>?,
    _ scratch_len: Int,
    _ now: Int64,
    _ leeway: Int64,
    _ out: UnsafeMutablePointer<ajwt_token_t>?,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    guard let keySet = KeySet.borrowing(ks), let token = UnsafeRawBufferPointer(cBytes: token, count: token_len),
        let scratch = UnsafeMutableRawBufferPointer(cBytes: scratch, count: scratch_len)
    else {
        reason?.pointee = ("invalid arguments to ajwt_verify" as StaticString).cString
        return AJWT_INVALID_TOKEN
    }
    do {
        let verified = try Verifier(keys: keySet).verify(token, scratch: scratch, now: now, leeway: leeway)
        out?.pointee = ajwt_token_t(header: ajwt_str_t(verified.header), payload: ajwt_str_t(verified.payload))
        reason?.pointee = nil
        return AJWT_OK
    } catch {
        return ajwt_status_t(error, reason: reason)
    }
}

@c @implementation
public func ajwt_times_read(
    _ payload: ajwt_str_t,
    _ times: UnsafeMutablePointer<ajwt_times_t>?,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    guard let payload = UnsafeRawBufferPointer(payload), let times else {
        reason?.pointee = ("invalid arguments to ajwt_times_read" as StaticString).cString
        return AJWT_INVALID_TOKEN
    }
    do {
        let values = try Verifier.readTimeClaims(payload)
        times.pointee = ajwt_times_t(
            exp: values.expiration ?? 0,
            nbf: values.notBefore ?? 0,
            has_exp: values.expiration == nil ? 0 : 1,
            has_nbf: values.notBefore == nil ? 0 : 1
        )
        reason?.pointee = nil
        return AJWT_OK
    } catch {
        return ajwt_status_t(error, reason: reason)
    }
}

@c @implementation
public func ajwt_times_check(
    _ times: UnsafePointer<ajwt_times_t>?,
    _ now: Int64,
    _ leeway: Int64,
    _ reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> ajwt_status_t {
    guard let times = times?.pointee else {
        reason?.pointee = ("invalid arguments to ajwt_times_check" as StaticString).cString
        return AJWT_INVALID_TOKEN
    }
    let values = TimeClaims.Values(
        expiration: times.has_exp != 0 ? times.exp : nil,
        notBefore: times.has_nbf != 0 ? times.nbf : nil
    )
    do {
        try TimeClaims.check(values, now: now, leeway: leeway)
        reason?.pointee = nil
        return AJWT_OK
    } catch {
        return ajwt_status_t(error, reason: reason)
    }
}

// MARK: - JSON

@c @implementation
public func ajwt_json_get(
    _ json: ajwt_str_t,
    _ path: UnsafePointer<ajwt_str_t>?,
    _ npath: Int,
    _ ignore_case: Int32,
    _ raw: UnsafeMutablePointer<ajwt_str_t>?
) -> ajwt_json_type_t {
    raw?.pointee = ajwt_str_t(data: nil, len: 0)
    guard let document = UnsafeRawBufferPointer(json), let names = UnsafeBufferPointer(cPath: path, count: npath),
        names.allSatisfy({ UnsafeRawBufferPointer($0) != nil })
    else {
        return AJWT_JSON_ABSENT
    }
    // The names as buffers, on the stack: a path has a handful of names.
    let found = withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: names.count) { path in
        for (index, name) in names.enumerated() {
            path.initializeElement(at: index, to: UnsafeRawBufferPointer(name) ?? UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return JSONLookup.value(at: UnsafeBufferPointer(path), in: document, ignoringCase: ignore_case != 0)
    }
    guard let value = found else {
        return AJWT_JSON_ABSENT
    }
    raw?.pointee = ajwt_str_t(value.bytes)
    switch value.kind {
    case .string: return AJWT_JSON_STRING
    case .number: return AJWT_JSON_NUMBER
    case .true: return AJWT_JSON_TRUE
    case .false: return AJWT_JSON_FALSE
    case .null: return AJWT_JSON_NULL
    case .array: return AJWT_JSON_ARRAY
    case .object: return AJWT_JSON_OBJECT
    }
}

@c @implementation
public func ajwt_json_unescape(_ raw: ajwt_str_t, _ out: UnsafeMutablePointer<UInt8>?) -> Int {
    guard let escaped = UnsafeRawBufferPointer(raw),
        let output = UnsafeMutableRawBufferPointer(cBytes: out, count: escaped.count)
    else {
        return 0
    }
    return JSONLookup.unescape(escaped, into: output)
}

// MARK: - Conversions

extension ajwt_status_t {
    /// A rejection's status, its static reason stored in `reason`.
    init(_ error: VerificationError, reason: UnsafeMutablePointer<UnsafePointer<CChar>?>?) {
        reason?.pointee = error.reason.cString
        switch error.status {
        case .invalidToken: self = AJWT_INVALID_TOKEN
        case .tokenExpired: self = AJWT_TOKEN_EXPIRED
        }
    }
}

extension KeySet {
    /// The key set behind an `ajwt_keyset_t *`, without taking ownership.
    static func borrowing(_ pointer: OpaquePointer?) -> KeySet? {
        guard let pointer else {
            return nil
        }
        return Unmanaged<KeySet>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes of a C (pointer, length) pair, or `nil` if the pair describes no memory.
    init?(cBytes start: UnsafePointer<UInt8>?, count: Int) {
        guard count >= 0, start != nil || count == 0 else {
            return nil
        }
        self.init(start: start, count: count)
    }

    init?(_ string: ajwt_str_t) {
        self.init(cBytes: string.data, count: string.len)
    }
}

extension UnsafeMutableRawBufferPointer {
    init?(cBytes start: UnsafeMutablePointer<UInt8>?, count: Int) {
        guard count >= 0, start != nil || count == 0 else {
            return nil
        }
        self.init(start: start, count: count)
    }
}

extension UnsafeBufferPointer<ajwt_str_t> {
    init?(cPath start: UnsafePointer<ajwt_str_t>?, count: Int) {
        guard count >= 0, start != nil || count == 0 else {
            return nil
        }
        self.init(start: start, count: count)
    }
}

extension ajwt_str_t {
    init(_ bytes: UnsafeRawBufferPointer) {
        self.init(data: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), len: bytes.count)
    }
}

extension StaticString {
    /// The string as a C string: the compiler emits string literals NUL-terminated.
    var cString: UnsafePointer<CChar> {
        UnsafeRawPointer(self.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// Copies `message` into a C buffer of `capacity` bytes, truncated to fit and NUL-terminated.
func copyMessage(_ message: String, into buffer: UnsafeMutablePointer<CChar>?, capacity: Int) {
    guard let buffer, capacity > 0 else {
        return
    }
    var written = 0
    for byte in message.utf8 where written < capacity - 1 {
        buffer[written] = CChar(bitPattern: byte)
        written += 1
    }
    buffer[written] = 0
}
