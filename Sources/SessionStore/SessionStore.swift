import CLibMemcached
import SessionCore

/// The session store: memcached servers holding one session record per token (README.md, "The session record (for
/// auth-server authors)").
///
/// Keys are spread over the servers by consistent hashing in libketama's compatible mode (MD5, weighted
/// ketama: the mode other clients call "libketama compatible"), so an auth server using such a client writes
/// each record where nginx reads it, and adding a server moves few keys.
///
/// A master handle holds the configuration; a libmemcachedutil pool lends clones of it to the calling threads
/// (grown lazily up to `maximumConnections`), each with its own connections, made on first use. A server that
/// fails is retried after one second, never ejected, so one that comes back is used again without a reload.
///
/// Thread-safe: the pool is locked, and a handle is used by one thread at a time. Build it after `fork`, since
/// connections must not cross processes.
public final class SessionStore: @unchecked Sendable {
    /// The most handles (so connections per server) the pool lends at once.
    public static let maximumConnections: UInt32 = 64

    private let master: UnsafeMutablePointer<memcached_st>
    private let pool: OpaquePointer
    /// How long a thread waits for a free handle when all are lent: the I/O timeout.
    private let fetchTimeout: timespec

    /// Creates a store for `servers` ("host:port" each; an IPv6 address in brackets) with `timeoutMilliseconds` as
    /// the connect and I/O timeout. Connects to nothing yet.
    public init(servers: [String], timeoutMilliseconds: UInt32) throws(SessionStoreError) {
        let master = try makeClient(servers: servers, timeoutMilliseconds: timeoutMilliseconds)
        // libmemcachedutil refuses an initial size of 0; one handle is cheap (no connection until used).
        guard let pool = memcached_pool_create(master, 1, Self.maximumConnections) else {
            memcached_free(master)
            throw .poolAllocationFailed
        }
        self.pool = pool
        self.master = master
        self.fetchTimeout = timespec(
            tv_sec: Int(timeoutMilliseconds / 1000),
            tv_nsec: Int(timeoutMilliseconds % 1000) * 1_000_000
        )
    }

    deinit {
        // The pool frees its clones and hands the master back.
        _ = memcached_pool_destroy(self.pool)
        memcached_free(self.master)
    }

    /// The session check for one request, with the decisions the nginx module makes (SessionCore): reads the
    /// record under `key` (`gets`), decides with `SessionRecord.decide` (no record, its length, its contents; a
    /// touch is due after `touch` seconds, or half the record's `session_idle_timeout` when that is sooner), and
    /// when a touch is due writes the updated record back with compare-and-swap, keeping the entry's flags and
    /// expiry (`expires_at`, else none), and reads the reply with `CASReply`, so that a delete (logout) between
    /// the read and the write stays deleted.
    ///
    /// Blocks for network I/O, bounded by the timeout.
    ///
    /// - Parameter fingerprint: the request's fingerprint; empty when it has none.
    public func check(
        key: UnsafeRawBufferPointer,
        fingerprint: UnsafeRawBufferPointer,
        now: Int64,
        touch: Int64
    ) throws(SessionError) {
        try SessionKey.validate(key)
        try self.withConnection { (connection) throws(SessionError) in
            guard let item = try connection.gets(key) else {
                _ = try SessionRecord.decide(
                    nil,
                    fingerprint: fingerprint,
                    now: now,
                    touch: touch,
                    scratch: UnsafeMutableRawBufferPointer(start: nil, count: 0)
                )
                return
            }
            let record = item.value
            try SessionRecord.checkLength(UInt64(record.count))
            try withUnsafeTemporaryAllocation(
                byteCount: SessionRecord.scratchSize(forRecordLength: record.count),
                alignment: MemoryLayout<UInt64>.alignment
            ) { (scratch) throws(SessionError) in
                let update = try SessionRecord.decide(
                    record,
                    fingerprint: fingerprint,
                    now: now,
                    touch: touch,
                    scratch: scratch
                )
                guard update.updatedLength > 0 else {
                    return
                }
                let outcome = try connection.cas(
                    key,
                    value: UnsafeRawBufferPointer(rebasing: scratch[..<update.updatedLength]),
                    expiration: update.expiresAt ?? 0,
                    flags: item.flags,
                    cas: item.cas
                )
                try outcome.reply.check()
            }
        }
    }

    /// Stores `record` under `key`, expiring at `expiresAt` (seconds since the Epoch; 0: never), as an auth server
    /// does at login.
    public func create(key: String, record: some Collection<UInt8>, expiresAt: Int64) throws(SessionError) {
        let record = Array(record)
        try Self.withKey(key) { (key) throws(SessionError) in
            try self.withConnection { (connection) throws(SessionError) in
                try withBytes(of: record) { (record) throws(SessionError) in
                    try connection.set(key, value: record, expiration: expiresAt)
                }
            }
        }
    }

    /// Stores `record` under `key` only if there is none (memcached `add`): `false` when a record exists.
    public func add(key: String, record: some Collection<UInt8>, expiresAt: Int64) throws(SessionError) -> Bool {
        let record = Array(record)
        return try Self.withKey(key) { (key) throws(SessionError) in
            try self.withConnection { (connection) throws(SessionError) in
                try withBytes(of: record) { (record) throws(SessionError) in
                    try connection.add(key, value: record, expiration: expiresAt)
                }
            }
        }
    }

    /// The record stored under `key`, or `nil`.
    public func record(forKey key: String) throws(SessionError) -> [UInt8]? {
        try self.versionedRecord(forKey: key)?.bytes
    }

    /// The record stored under `key` with its version (`gets`), for a read-modify-write with
    /// `replace(key:with:expiresAt:ifUnchangedSince:)`; `nil` when there is none.
    public func versionedRecord(forKey key: String) throws(SessionError) -> VersionedRecord? {
        try Self.withKey(key) { (key) throws(SessionError) in
            try self.withConnection { (connection) throws(SessionError) in
                guard let item = try connection.gets(key) else {
                    return nil
                }
                return VersionedRecord(bytes: Array(item.value), version: item.cas, flags: item.flags)
            }
        }
    }

    /// Writes `record` under `key`, expiring at `expiresAt`, only if the record is still the one `read` returned
    /// (memcached `cas`, keeping its flags): `.changed` when another client wrote it since, `.deleted` when it is
    /// gone. The caller reads again and retries, or gives up.
    public func replace(
        key: String,
        with record: some Collection<UInt8>,
        expiresAt: Int64,
        ifUnchangedSince read: VersionedRecord
    ) throws(SessionError) -> CASOutcome {
        let record = Array(record)
        return try Self.withKey(key) { (key) throws(SessionError) in
            try self.withConnection { (connection) throws(SessionError) in
                try withBytes(of: record) { (record) throws(SessionError) in
                    try connection.cas(key, value: record, expiration: expiresAt, flags: read.flags, cas: read.version)
                }
            }
        }
    }

    /// Stores a revocation record under `key` (`Revocation.record`), expiring at `until` (seconds since the Epoch;
    /// 0: never): until then `auth_jwt_revocation` refuses the tokens that name the key.
    public func revoke(key: String, revokedAt: Int64, until: Int64) throws(SessionError) {
        try self.create(key: key, record: Revocation.record(revokedAt: revokedAt), expiresAt: until)
    }

    /// Deletes the record under `key`, as an auth server does at logout: `true` if there was one.
    public func delete(key: String) throws(SessionError) -> Bool {
        try Self.withKey(key) { (key) throws(SessionError) in
            try self.withConnection { (connection) throws(SessionError) in try connection.delete(key) }
        }
    }

    /// Runs `body` with a handle borrowed from the pool.
    func withConnection<Result>(
        _ body: (MemcachedConnection) throws(SessionError) -> Result
    ) throws(SessionError) -> Result {
        var timeout = self.fetchTimeout
        var code = MEMCACHED_SUCCESS
        guard let handle = memcached_pool_fetch(self.pool, &timeout, &code) else {
            // The pool reports a failed clone with a success code.
            throw code == MEMCACHED_TIMEOUT ? .storeNoConnection : .storeOutOfMemory
        }
        defer { _ = memcached_pool_release(self.pool, handle) }
        // memcached_clone, which the pool uses, drops the weighted-ketama flag and so builds another ring than the
        // master's (libketama compatible, as ServerRing and the nginx module compute it): set it again, once per
        // clone.
        if memcached_behavior_get(handle, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) == 0 {
            _ = memcached_behavior_set(handle, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1)
        }
        return try body(MemcachedConnection(handle: handle))
    }

    /// Runs `body` with a validated key's bytes.
    private static func withKey<Result>(
        _ key: String,
        _ body: (UnsafeRawBufferPointer) throws(SessionError) -> Result
    ) throws(SessionError) -> Result {
        try withBytes(of: Array(key.utf8)) { (key) throws(SessionError) in
            try SessionKey.validate(key)
            return try body(key)
        }
    }
}

/// `Array.withUnsafeBytes` with a typed error.
private func withBytes<Result>(
    of bytes: [UInt8],
    _ body: (UnsafeRawBufferPointer) throws(SessionError) -> Result
) throws(SessionError) -> Result {
    let result = bytes.withUnsafeBytes { bytes in Swift.Result { () throws(SessionError) in try body(bytes) } }
    return try result.get()
}
