import JWTCore
import SessionCore
import SessionStore
import Testing

/// The writes an auth server makes besides `create` and `delete`: `add` (create only if absent) and a versioned
/// read followed by a compare-and-swap `replace`, for records that several auth servers update (a user's index).
@Suite("Session store: add and compare-and-swap replace", .serialized)
struct SessionStoreWriteTests {
    @Test("add writes only when there is no record")
    func add() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        #expect(try store.add(key: "index:alice", record: Array("one".utf8), expiresAt: 0))
        #expect(try !store.add(key: "index:alice", record: Array("two".utf8), expiresAt: 0))
        #expect(try store.record(forKey: "index:alice") == Array("one".utf8))
        #expect(try store.delete(key: "index:alice"))
        #expect(try store.add(key: "index:alice", record: Array("three".utf8), expiresAt: 0))
        #expect(try store.record(forKey: "index:alice") == Array("three".utf8))
    }

    @Test("replace stores over the version read, and refuses a stale version and a deleted record")
    func replace() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        #expect(try store.versionedRecord(forKey: "k") == nil)
        try store.create(key: "k", record: Array("one".utf8), expiresAt: 0)

        let first = try #require(try store.versionedRecord(forKey: "k"))
        #expect(first.bytes == Array("one".utf8))
        #expect(try store.replace(key: "k", with: Array("two".utf8), expiresAt: 0, ifUnchangedSince: first) == .stored)
        #expect(try store.record(forKey: "k") == Array("two".utf8))

        // Another writer came first: the version read before is stale, and nothing is written.
        #expect(
            try store.replace(key: "k", with: Array("three".utf8), expiresAt: 0, ifUnchangedSince: first) == .changed
        )
        #expect(try store.record(forKey: "k") == Array("two".utf8))

        let second = try #require(try store.versionedRecord(forKey: "k"))
        #expect(second.version != first.version)
        #expect(try store.delete(key: "k"))
        #expect(
            try store.replace(key: "k", with: Array("four".utf8), expiresAt: 0, ifUnchangedSince: second) == .deleted
        )
        #expect(try store.record(forKey: "k") == nil)
    }

    @Test("add and replace refuse keys memcached cannot take, and fail closed without a server")
    func refusals() throws {
        let unreachable = try SessionStore(servers: ["127.0.0.1:\(try freePort())"], timeoutMilliseconds: 200)
        #expect(throws: SessionError.invalidKey) { try unreachable.add(key: "a b", record: [], expiresAt: 0) }
        #expect(throws: SessionError.invalidKey) { try unreachable.versionedRecord(forKey: "") }
        // Unreachable, then "failed recently": both are the store being unavailable.
        let add = #expect(throws: SessionError.self) { try unreachable.add(key: "k", record: [], expiresAt: 0) }
        #expect(add?.status == .sessionStoreUnavailable)
        let read = #expect(throws: SessionError.self) { try unreachable.versionedRecord(forKey: "k") }
        #expect(read?.status == .sessionStoreUnavailable)
    }
}

@Suite("Session store: revocation records", .serialized)
struct SessionStoreRevocationTests {
    @Test("revoke writes {\"revoked_at\":...} under the key; deleting it unrevokes")
    func revokeAndUnrevoke() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        let now = epochSeconds()
        try store.revoke(key: "revoked:jti:abc", revokedAt: now, until: now + 600)
        #expect(try store.record(forKey: "revoked:jti:abc") == Array(#"{"revoked_at":\#(now)}"#.utf8))
        #expect(try store.delete(key: "revoked:jti:abc"))
        #expect(try store.record(forKey: "revoked:jti:abc") == nil)
        #expect(try !store.delete(key: "revoked:jti:abc"))
    }

    @Test("the expiry is absolute: a revocation until a past time is gone at once; 0 lasts")
    func expiryIsAbsolute() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        let now = epochSeconds()
        try store.revoke(key: "revoked:sub:past", revokedAt: now, until: now - 10)
        #expect(try store.record(forKey: "revoked:sub:past") == nil)
        try store.revoke(key: "revoked:sub:forever", revokedAt: now, until: 0)
        #expect(try store.record(forKey: "revoked:sub:forever") != nil)
    }

    @Test("revoke refuses a key memcached cannot take")
    func invalidKey() throws {
        let server = try MemcachedServerProcess()
        let store = try SessionStore(servers: [server.address], timeoutMilliseconds: 1000)
        #expect(throws: SessionError.invalidKey) { try store.revoke(key: "revoked:jti:a b", revokedAt: 1, until: 0) }
    }
}
