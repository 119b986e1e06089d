import CLibMemcached
import SessionCore

/// An item read with `gets`: the libmemcached result that owns its value, freed with the item.
struct MemcachedItem: ~Copyable {
    private let result: UnsafeMutablePointer<memcached_result_st>

    /// Takes ownership of a result libmemcached allocated.
    init(taking result: UnsafeMutablePointer<memcached_result_st>) {
        self.result = result
    }

    deinit {
        memcached_result_free(self.result)
    }

    /// The item's value, valid as long as the item.
    var value: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: memcached_result_value(self.result), count: memcached_result_length(self.result))
    }

    var flags: UInt32 { memcached_result_flags(self.result) }

    /// The compare-and-swap token `gets` returned.
    var cas: UInt64 { memcached_result_cas(self.result) }
}

/// What a compare-and-swap did.
public enum CASOutcome: Sendable, Hashable {
    case stored
    /// Another client wrote the item since it was read.
    case changed
    /// The item is gone.
    case deleted

    /// The reply memcached sent, whose meaning for a request `CASReply` decides.
    var reply: CASReply {
        switch self {
        case .stored: return .stored
        case .changed: return .exists
        case .deleted: return .notFound
        }
    }
}

/// The memcached commands the session store sends, on one handle taken from the pool.
///
/// Keys must have passed `SessionKey.validate`. Every failure to talk to a server maps to a
/// `.sessionStoreUnavailable` refusal.
struct MemcachedConnection {
    let handle: UnsafeMutablePointer<memcached_st>

    /// `gets key`: the item with its CAS token, or `nil` when there is none.
    func gets(_ key: UnsafeRawBufferPointer) throws(SessionError) -> MemcachedItem? {
        let code = key.withMemoryRebound(to: CChar.self) { key in
            var keyPointer: UnsafePointer<CChar>? = key.baseAddress
            var keyLength = key.count
            return memcached_mget(self.handle, &keyPointer, &keyLength, 1)
        }
        guard memcached_success(code) else {
            throw .storeFailure(code)
        }
        var fetchCode = MEMCACHED_SUCCESS
        // With nil, libmemcached allocates the result; it is ours when returned, freed by libmemcached otherwise.
        guard let result = memcached_fetch_result(self.handle, nil, &fetchCode) else {
            try self.checkMiss(fetchCode)
            return nil
        }
        let item = MemcachedItem(taking: result)
        guard fetchCode == MEMCACHED_SUCCESS else {
            throw .storeFailure(fetchCode)
        }
        try self.drain()
        return item
    }

    /// `cas key flags expiration`: writes `value` if the item is unchanged since `gets` returned `cas`.
    func cas(
        _ key: UnsafeRawBufferPointer,
        value: UnsafeRawBufferPointer,
        expiration: Int64,
        flags: UInt32,
        cas: UInt64
    ) throws(SessionError) -> CASOutcome {
        let code = Self.withCString(key) { key in
            Self.withCString(value) { value in
                memcached_cas(self.handle, key.0, key.1, value.0, value.1, time_t(expiration), flags, cas)
            }
        }
        switch code {
        case MEMCACHED_SUCCESS, MEMCACHED_STORED: return .stored
        case MEMCACHED_DATA_EXISTS: return .changed
        case MEMCACHED_NOTFOUND: return .deleted
        default: throw .storeFailure(code)
        }
    }

    /// `set key flags expiration`.
    func set(_ key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiration: Int64) throws(SessionError) {
        let code = Self.withCString(key) { key in
            Self.withCString(value) { value in
                memcached_set(self.handle, key.0, key.1, value.0, value.1, time_t(expiration), 0)
            }
        }
        guard memcached_success(code) else {
            throw .storeFailure(code)
        }
    }

    /// `add key flags expiration`: writes `value` only if there is no item; `false` if there is one.
    func add(_ key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiration: Int64) throws(SessionError) -> Bool {
        let code = Self.withCString(key) { key in
            Self.withCString(value) { value in
                memcached_add(self.handle, key.0, key.1, value.0, value.1, time_t(expiration), 0)
            }
        }
        switch code {
        case MEMCACHED_SUCCESS, MEMCACHED_STORED: return true
        // The text protocol answers NOT_STORED, the binary one "exists".
        case MEMCACHED_NOTSTORED, MEMCACHED_DATA_EXISTS: return false
        default: throw .storeFailure(code)
        }
    }

    /// `delete key`: `true` if there was an item.
    func delete(_ key: UnsafeRawBufferPointer) throws(SessionError) -> Bool {
        let code = Self.withCString(key) { key in memcached_delete(self.handle, key.0, key.1, 0) }
        switch code {
        case MEMCACHED_SUCCESS, MEMCACHED_DELETED: return true
        case MEMCACHED_NOTFOUND: return false
        default: throw .storeFailure(code)
        }
    }

    /// Tells a miss from a failure once `memcached_fetch_result` returned no item.
    ///
    /// libmemcached 1.1 reports a read that timed out or failed before any item as `MEMCACHED_NOTFOUND` too;
    /// the error it recorded on the handle during this command (`memcached_mget` clears earlier ones) tells.
    private func checkMiss(_ code: memcached_return_t) throws(SessionError) {
        guard code == MEMCACHED_NOTFOUND || code == MEMCACHED_END else {
            throw .storeFailure(code)
        }
        let recorded = memcached_last_error(self.handle)
        guard memcached_success(recorded) || recorded == MEMCACHED_NOTFOUND || recorded == MEMCACHED_END else {
            throw .storeFailure(recorded)
        }
    }

    /// Reads the rest of a `gets` response (its `END`), so that the handle is ready for the next command.
    private func drain() throws(SessionError) {
        var code = MEMCACHED_SUCCESS
        // One key yields one item at most; the bound only keeps a misbehaving server from looping here.
        for _ in 0..<4 {
            guard let extra = memcached_fetch_result(self.handle, nil, &code) else {
                guard code == MEMCACHED_END || code == MEMCACHED_NOTFOUND else {
                    throw .storeFailure(code)
                }
                return
            }
            memcached_result_free(extra)
        }
        throw .storeError
    }

    /// Calls `body` with `bytes` as the (pointer, length) pair libmemcached takes.
    private static func withCString<R>(
        _ bytes: UnsafeRawBufferPointer,
        _ body: ((UnsafePointer<CChar>?, Int)) -> R
    ) -> R {
        body((bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count))
    }
}
