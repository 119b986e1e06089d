import SessionCore
import SessionStore

/// The session record this server writes under `<prefix><tokenId>` (README.md, "The session record (for auth-server authors)"): the four
/// fields nginx reads, and the server's own.
struct StoredSession: Codable, Sendable, Hashable {
    var fingerprint: String
    var lastAccessTime: Int64
    var sessionIdleTimeout: Int64
    var expiresAt: Int64
    var user: String
    /// base64url SHA-256 of the refresh token's secret: the record never holds a usable credential.
    var refreshTokenHash: String
    var createdAt: Int64

    enum CodingKeys: String, CodingKey {
        case fingerprint
        case lastAccessTime = "last_access_time"
        case sessionIdleTimeout = "session_idle_timeout"
        case expiresAt = "expires_at"
        case user
        case refreshTokenHash = "refresh_token_hash"
        case createdAt = "created_at"
    }
}

/// A user's session index, under `<index prefix><username>`: the sessions to end at "log out everywhere"
/// (memcached cannot list keys), and a generation that every "log out everywhere" changes.
struct SessionIndex: Codable, Sendable, Hashable {
    /// Random, so that an index that expired and was made anew never repeats an earlier generation.
    var generation: String
    /// tokenId → the session's `expires_at`.
    var sessions: [String: Int64]

    /// The index lives as long as its longest session; an empty one a minute, for logins in flight.
    func expiry(now: Int64) -> Int64 {
        self.sessions.values.max() ?? now + 60
    }
}

/// The marker of a rotated refresh token, under `<spent prefix><tokenId>.<hash of its secret>`.
struct SpentRefreshToken: Codable, Sendable, Hashable {
    var rotatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case rotatedAt = "rotated_at"
    }
}

/// Session records and the per-user index in memcached, kept consistent under concurrency with compare-and-swap.
///
/// Log out everywhere (A) must end every session whose login (L) completed before it, and must not leave any
/// session it missed alive. L and A run on any number of auth servers at once:
///
/// - L: (1) adds its tokenId to the index (CAS), noting the generation; (2) writes the session record;
///   (3) reads the index again and hands out the token only if the generation is unchanged and the tokenId is
///   still listed; otherwise it deletes the record and refuses.
/// - A: (1) replaces the generation (CAS); (2) deletes the record of every session listed in the index it
///   replaced; (3) removes those tokenIds from the index (CAS).
///
/// If L(1) precedes A(1) in the index's CAS order, A's index lists L's tokenId, and A deletes its record; if L
/// wrote the record after that delete, L(3) comes later still, sees the new generation and refuses. If A(1)
/// precedes L(1), L's session began after A. A token is handed out only after (3), so a record written by a
/// refused login is never usable, and expires at its `expires_at`.
///
/// Blocking (libmemcached): call from a thread pool.
final class SessionLedger: Sendable {
    let store: SessionStore
    /// What nginx's `auth_jwt_session key=` puts before `$jwt_claim_tokenId`.
    let sessionKeyPrefix: String
    let indexKeyPrefix: String
    /// The prefix of the markers of rotated refresh tokens (see `refresh`).
    let spentRefreshKeyPrefix: String
    let maximumSessionsPerUser: Int
    /// Runs between a login's registration and its record write: lets tests interleave a "log out everywhere".
    let afterRegistering: @Sendable () -> Void

    /// Compare-and-swap retries before answering 503: only reached when the user's index changes continuously.
    static let maximumAttempts = 32

    init(
        store: SessionStore,
        sessionKeyPrefix: String,
        indexKeyPrefix: String,
        spentRefreshKeyPrefix: String = "refresh-spent:",
        maximumSessionsPerUser: Int,
        afterRegistering: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.sessionKeyPrefix = sessionKeyPrefix
        self.indexKeyPrefix = indexKeyPrefix
        self.spentRefreshKeyPrefix = spentRefreshKeyPrefix
        self.maximumSessionsPerUser = maximumSessionsPerUser
        self.afterRegistering = afterRegistering
    }

    func sessionKey(_ tokenID: String) -> String { self.sessionKeyPrefix + tokenID }

    func indexKey(_ username: String) -> String { self.indexKeyPrefix + username }

    /// The marker of a rotated refresh token of the session `tokenID`, by its secret's hash.
    func spentRefreshKey(_ tokenID: String, hash: String) -> String {
        self.spentRefreshKeyPrefix + tokenID + "." + hash
    }

    /// Login: registers the session in the user's index, writes its record, and confirms that no "log out
    /// everywhere" ran meanwhile. Only then may the token be handed out.
    func open(_ session: StoredSession, tokenID: String) throws(AuthError) {
        let generation = try self.register(tokenID, of: session)
        self.afterRegistering()
        let key = self.sessionKey(tokenID)
        try storeCall { () throws(SessionError) in
            try self.store.create(key: key, record: encodeJSON(session), expiresAt: session.expiresAt)
        }
        guard let index = try self.readIndex(session.user)?.index, index.generation == generation,
            index.sessions[tokenID] != nil
        else {
            // Best effort: the token is never handed out, so a record left behind is unusable.
            _ = try? self.store.delete(key: key)
            throw .sessionsRevoked
        }
    }

    /// The record of the session `tokenID`, or `nil`.
    private func record(of tokenID: String) throws(AuthError) -> [UInt8]? {
        try storeCall { () throws(SessionError) in try self.store.record(forKey: self.sessionKey(tokenID)) }
    }

    /// Checks that a request may act for the session `tokenID`, as nginx would let it through: the record exists,
    /// has not expired, is bound to `fingerprint` and is not idle. Log out everywhere asks this of its token.
    func checkLive(_ tokenID: String, fingerprint: String, now: Int64) throws(AuthError) {
        guard let record = try self.record(of: tokenID) else {
            throw .session(.noRecord)
        }
        if let refusal = SessionDecision.refusal(of: record, fingerprint: fingerprint, now: now) {
            throw .session(refusal)
        }
    }

    /// Logout from the session's own device: ends the session if the request passes nginx's fingerprint check
    /// (an idle session too). `true` if a record was deleted; `false` when the session had ended or expired.
    func logout(_ tokenID: String, of username: String, fingerprint: String, now: Int64) throws(AuthError) -> Bool {
        guard let record = try self.record(of: tokenID) else {
            self.forget([tokenID], of: username, now: now)
            return false
        }
        if let refusal = SessionDecision.refusal(of: record, fingerprint: fingerprint, now: now) {
            switch refusal.status {
            case .sessionIdleTimeout:
                break  // idle is decided after the fingerprint: the device is the session's own
            case .loggedOut:
                return false  // past expires_at, the entry's own expiry: nothing left to end, whoever asks
            default:
                throw .session(refusal)
            }
        }
        return try self.end(tokenID, of: username, now: now)
    }

    /// Deletes the session's record, then its index entry. `true` if there was a record.
    func end(_ tokenID: String, of username: String, now: Int64) throws(AuthError) -> Bool {
        let ended = try storeCall { () throws(SessionError) in try self.store.delete(key: self.sessionKey(tokenID)) }
        self.forget([tokenID], of: username, now: now)
        return ended
    }

    /// Log out everywhere: ends every session of the user (see the type's notes). Returns how many records it
    /// deleted.
    func closeAll(of username: String, now: Int64) throws(AuthError) -> Int {
        let listed = try self.newGeneration(of: username, now: now)
        var ended = 0
        for tokenID in listed.sorted() {
            let key = self.sessionKey(tokenID)
            if try storeCall({ () throws(SessionError) in try self.store.delete(key: key) }) {
                ended += 1
            }
        }
        self.forget(listed, of: username, now: now)
        return ended
    }

    /// Refresh: checks the refresh token's secret and the session as nginx would (ended, expired, another device,
    /// idle), then stores the next secret's hash and the activity time (CAS, so that nginx's touches and other
    /// refreshes are not lost). Returns the updated record.
    ///
    /// Rotation with reuse detection (OAuth 2.0 Security BCP, refresh token rotation): before a secret is
    /// replaced, a marker of it is stored, so that presenting it again is told apart from a wrong guess. A reused
    /// secret means that two parties hold the session's refresh tokens, and nobody can tell which is the thief:
    /// the session ends (record deleted, so the current refresh token and every access token of it stop working).
    /// The marker is written before the swap, so two refreshes racing with the same secret end the session too.
    func refresh(
        _ tokenID: String,
        presentedHash: String,
        nextHash: String,
        fingerprint: String,
        now: Int64
    ) throws(AuthError) -> StoredSession {
        let key = self.sessionKey(tokenID)
        for _ in 0..<Self.maximumAttempts {
            guard let read = try storeCall({ () throws(SessionError) in try self.store.versionedRecord(forKey: key) })
            else {
                throw .session(.noRecord)
            }
            guard var session = decodeJSON(StoredSession.self, from: read.bytes) else {
                throw .session(.recordNotObject)
            }
            guard constantTimeEquals(Array(session.refreshTokenHash.utf8), Array(presentedHash.utf8)) else {
                if try self.wasRotated(tokenID, hash: presentedHash) {
                    _ = try self.end(tokenID, of: session.user, now: now)
                    throw .refreshTokenReused
                }
                throw .invalidRefreshToken
            }
            if let refusal = SessionDecision.refusal(of: read.bytes, fingerprint: fingerprint, now: now) {
                throw .session(refusal)
            }
            try self.markRotated(tokenID, hash: presentedHash, until: session.expiresAt, now: now)
            session.refreshTokenHash = nextHash
            session.lastAccessTime = now
            let outcome = try storeCall { () throws(SessionError) in
                try self.store.replace(
                    key: key,
                    with: encodeJSON(session),
                    expiresAt: session.expiresAt,
                    ifUnchangedSince: read
                )
            }
            switch outcome {
            case .stored: return session
            case .changed: continue  // nginx touched it, or another refresh came first: decide again
            case .deleted: throw .session(.noRecord)
            }
        }
        throw .storeBusy
    }

    /// Records that the secret hashing to `hash` was handed in for rotation; kept until the session's end.
    private func markRotated(_ tokenID: String, hash: String, until expiresAt: Int64, now: Int64) throws(AuthError) {
        let key = self.spentRefreshKey(tokenID, hash: hash)
        try storeCall { () throws(SessionError) in
            try self.store.create(key: key, record: encodeJSON(SpentRefreshToken(rotatedAt: now)), expiresAt: expiresAt)
        }
    }

    /// Whether the secret hashing to `hash` was once the session's refresh token, rotated since.
    private func wasRotated(_ tokenID: String, hash: String) throws(AuthError) -> Bool {
        let key = self.spentRefreshKey(tokenID, hash: hash)
        return try storeCall { () throws(SessionError) in try self.store.record(forKey: key) != nil }
    }

    // MARK: The index

    /// Login step 1: adds the session to the user's index, dropping expired entries; returns the generation.
    private func register(_ tokenID: String, of session: StoredSession) throws(AuthError) -> String {
        let key = self.indexKey(session.user)
        for _ in 0..<Self.maximumAttempts {
            guard let (read, current) = try self.readIndex(session.user) else {
                let index = SessionIndex(generation: randomToken(bytes: 8), sessions: [tokenID: session.expiresAt])
                let added = try storeCall { () throws(SessionError) in
                    try self.store.add(
                        key: key,
                        record: encodeJSON(index),
                        expiresAt: index.expiry(now: session.createdAt)
                    )
                }
                if added {
                    return index.generation
                }
                continue  // another login made the index first
            }
            var index = current
            index.sessions = index.sessions.filter { $0.value > session.createdAt }
            guard index.sessions.count < self.maximumSessionsPerUser else {
                throw .tooManySessions
            }
            index.sessions[tokenID] = session.expiresAt
            if try self.replaceIndex(key, with: index, over: read, now: session.createdAt) == .stored {
                return index.generation
            }
        }
        throw .storeBusy
    }

    /// Log out everywhere, step 1: a new generation; returns the sessions the index listed.
    func newGeneration(of username: String, now: Int64) throws(AuthError) -> Set<String> {
        let key = self.indexKey(username)
        for _ in 0..<Self.maximumAttempts {
            guard let (read, current) = try self.readIndex(username) else {
                return []  // no session since the index expired
            }
            var index = current
            index.generation = randomToken(bytes: 8)
            switch try self.replaceIndex(key, with: index, over: read, now: now) {
            case .stored: return Set(index.sessions.keys)
            case .changed: continue
            case .deleted: return []
            }
        }
        throw .storeBusy
    }

    /// Removes ended sessions (and expired ones) from the index. Best effort: an entry left behind only costs a
    /// delete of a missing record at the next "log out everywhere", and goes at its expiry.
    private func forget(_ tokenIDs: Set<String>, of username: String, now: Int64) {
        let key = self.indexKey(username)
        for _ in 0..<Self.maximumAttempts {
            guard let (read, current) = try? self.readIndex(username) else {
                return
            }
            var index = current
            index.sessions = index.sessions.filter { !tokenIDs.contains($0.key) && $0.value > now }
            if index.sessions.count == current.sessions.count {
                return
            }
            // Changed: another login or logout came first; read again. Anything else: done, or left as it is.
            guard (try? self.replaceIndex(key, with: index, over: read, now: now)) == .changed else {
                return
            }
        }
    }

    private func readIndex(_ username: String) throws(AuthError) -> (read: VersionedRecord, index: SessionIndex)? {
        let key = self.indexKey(username)
        guard let read = try storeCall({ () throws(SessionError) in try self.store.versionedRecord(forKey: key) })
        else {
            return nil
        }
        guard let index = decodeJSON(SessionIndex.self, from: read.bytes) else {
            throw .internalError  // not written by this server: refuse rather than lose its sessions
        }
        return (read, index)
    }

    private func replaceIndex(
        _ key: String,
        with index: SessionIndex,
        over read: VersionedRecord,
        now: Int64
    ) throws(AuthError) -> CASOutcome {
        try storeCall { () throws(SessionError) in
            try self.store.replace(
                key: key,
                with: encodeJSON(index),
                expiresAt: index.expiry(now: now),
                ifUnchangedSince: read
            )
        }
    }
}

/// Runs a store operation, mapping its refusal to the client's answer.
func storeCall<Result>(_ body: () throws(SessionError) -> Result) throws(AuthError) -> Result {
    do {
        return try body()
    } catch {
        throw .session(error)
    }
}
