import Dispatch
import Foundation
import SessionStore
import Synchronization
import Testing

@testable import AuthServerCore

/// "Log out everywhere" against logins in flight: no session of the user may outlive it unless its login began
/// after it.
@Suite("Session index under concurrency", .serialized)
struct SessionLedgerTests {
    static func session(_ user: String, now: Int64) -> StoredSession {
        StoredSession(
            fingerprint: "f",
            lastAccessTime: now,
            sessionIdleTimeout: -1,
            expiresAt: now + 3600,
            user: user,
            refreshTokenHash: "h",
            createdAt: now
        )
    }

    static func ledger(_ store: SessionStore, afterRegistering: @escaping @Sendable () -> Void = {}) -> SessionLedger {
        SessionLedger(
            store: store,
            sessionKeyPrefix: "session:",
            indexKeyPrefix: "user-sessions:",
            maximumSessionsPerUser: 1000,
            afterRegistering: afterRegistering
        )
    }

    @Test("a logout everywhere between a login's registration and its record write: the login is refused")
    func interleaved() throws {
        let memcached = try Memcached()
        let store = try memcached.store()
        let now = Int64(Date().timeIntervalSince1970)
        let plain = Self.ledger(store)
        try plain.open(Self.session("alice", now: now), tokenID: "earlier")

        // The interleaving that would lose a session without the generation: the logout's new generation and
        // deletes run before the login writes its record, and its index pruning only after the login confirmed.
        let listed = Mutex<Set<String>>([])
        let racing = Self.ledger(store) {
            let sessions = (try? plain.newGeneration(of: "alice", now: now)) ?? []
            for tokenID in sessions {
                _ = try? store.delete(key: "session:" + tokenID)
            }
            listed.withLock { $0 = sessions }
        }
        #expect(throws: AuthError.sessionsRevoked) {
            try racing.open(Self.session("alice", now: now), tokenID: "racing")
        }
        #expect(listed.withLock { $0 } == ["earlier", "racing"])
        #expect(try store.record(forKey: "session:racing") == nil)
        #expect(try store.record(forKey: "session:earlier") == nil)

        // The whole logout everywhere in the same place, index pruning included.
        let ended = Mutex(-1)
        let racingAll = Self.ledger(store) {
            ended.withLock { $0 = (try? plain.closeAll(of: "alice", now: now)) ?? -2 }
        }
        #expect(throws: AuthError.sessionsRevoked) {
            try racingAll.open(Self.session("alice", now: now), tokenID: "racing-2")
        }
        #expect(ended.withLock { $0 } == 0)
        #expect(try store.record(forKey: "session:racing-2") == nil)

        // A login after it is unaffected.
        try plain.open(Self.session("alice", now: now), tokenID: "later")
        #expect(try store.record(forKey: "session:later") != nil)
    }

    @Test("concurrent logins and logouts everywhere: every live session is in the index, and the last logout ends all")
    func concurrent() throws {
        let memcached = try Memcached()
        let store = try memcached.store()
        let ledger = Self.ledger(store)
        let now = Int64(Date().timeIntervalSince1970)
        let opened = Mutex<[String]>([])
        let failures = Mutex<[String]>([])

        DispatchQueue.concurrentPerform(iterations: 120) { iteration in
            do throws(AuthError) {
                if iteration % 10 == 9 {
                    _ = try ledger.closeAll(of: "alice", now: now)
                } else {
                    let tokenID = "t\(iteration)"
                    try ledger.open(Self.session("alice", now: now), tokenID: tokenID)
                    opened.withLock { $0.append(tokenID) }
                }
            } catch .sessionsRevoked {
                // A login that raced a logout everywhere: refused, and fine.
            } catch {
                failures.withLock { $0.append("\(iteration): \(error.code)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        let tokenIDs = opened.withLock { $0 }
        #expect(!tokenIDs.isEmpty)

        // No session the index does not know of: those would survive every logout everywhere.
        let listed = Set(try #require(try Self.index(store)).sessions.keys)
        for tokenID in tokenIDs where try store.record(forKey: "session:" + tokenID) != nil {
            #expect(listed.contains(tokenID), "session \(tokenID) is live but not in the index")
        }

        _ = try ledger.closeAll(of: "alice", now: now)
        for tokenID in tokenIDs {
            #expect(try store.record(forKey: "session:" + tokenID) == nil, "session \(tokenID) survived")
        }
        #expect(try Self.index(store)?.sessions == [:])
    }

    static func index(_ store: SessionStore) throws -> SessionIndex? {
        try store.record(forKey: "user-sessions:alice").map {
            try JSONDecoder().decode(SessionIndex.self, from: Data($0))
        }
    }
}
