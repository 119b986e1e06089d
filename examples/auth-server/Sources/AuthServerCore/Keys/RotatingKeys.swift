import JWTCore
import JWTIssuer
import Synchronization

/// Signing keys kept in a key directory, published at `/.well-known/jwks.json` and rotated without a restart.
///
/// The first start generates a key that signs at once. A rotation (`rotate`, on SIGHUP; or `maintain` on the
/// schedule) generates the next key, writes it to the directory and publishes it at once; it signs
/// `publishLead` seconds later. The key before it stays published for `retention` seconds (the access token
/// lifetime) after it stopped signing, then `maintain` deletes it. Every token carries its key's `kid`.
///
/// Thread-safe. `rotate` and `maintain` do file I/O: call them off the event loops.
public final class RotatingKeys: Sendable {
    /// How keys are rotated.
    public struct Policy: Sendable, Hashable {
        /// The algorithm of the generated keys (any of `ManagedKey.algorithms`).
        public var algorithm = "ES256"
        /// Seconds a new key is published before it signs: at least the JWKS's `max-age`.
        public var publishLead: Int64 = 300
        /// Seconds an old key stays published after it stopped signing: at least the access token lifetime.
        public var retention: Int64 = 900
        /// Seconds between scheduled rotations; `nil`: only on demand.
        public var rotateEvery: Int64?

        public init() {}
    }

    /// What a rotation or a maintenance pass did, for the log.
    public enum Event: Sendable, Hashable, CustomStringConvertible {
        /// A key was generated and published; it signs from `signsFrom`.
        case published(kid: String, signsFrom: Int64)
        /// A rotation was asked for while the key `kid` waits to sign: nothing done.
        case alreadyPending(kid: String, signsFrom: Int64)
        /// The key `kid` left the JWKS and its file was deleted.
        case removed(kid: String)

        public var description: String {
            switch self {
            case .published(let kid, let signsFrom): "published key \(kid), signing from \(signsFrom)"
            case .alreadyPending(let kid, let signsFrom):
                "rotation already under way: key \(kid) signs from \(signsFrom)"
            case .removed(let kid): "removed key \(kid): the last token it signed has expired"
            }
        }
    }

    public let policy: Policy
    private let directory: KeyDirectory
    private let state: Mutex<State>

    private struct State: Sendable {
        var ring: KeyRing
        /// The verifier and JWKS of the last published set, rebuilt when the set changes.
        var published: (kids: [String], verifier: TokenVerifier, jwks: [UInt8])?
    }

    /// Opens the key directory at `path`, loads its keys, and generates the first one if there is none.
    public init(directory path: String, policy: Policy, now: Int64) throws(KeyDirectoryError) {
        guard ManagedKey.algorithms.contains(policy.algorithm) else {
            let supported = ManagedKey.algorithms.joined(separator: ", ")
            throw KeyDirectoryError("cannot generate \(policy.algorithm) keys (use one of \(supported))")
        }
        guard policy.publishLead >= 0, policy.retention > 0 else {
            throw KeyDirectoryError("the publication lead must not be negative, the retention must be positive")
        }
        if let every = policy.rotateEvery, every <= policy.publishLead {
            throw KeyDirectoryError(
                "keys cannot rotate every \(every) s: each is published \(policy.publishLead) s before it signs"
            )
        }
        let directory = try KeyDirectory(path: path)
        var keys: [ManagedKey] = []
        for file in try directory.load() {
            keys.append(try ManagedKey(file))
        }
        if keys.isEmpty {
            // Nothing was ever published, so no verifier can have cached a JWKS without it: it signs at once.
            let first = try ManagedKey.generate(algorithm: policy.algorithm, publishedAt: now, signsFrom: now)
            try directory.write(first.file)
            keys = [first]
        }
        self.policy = policy
        self.directory = directory
        self.state = Mutex(State(ring: KeyRing(keys: keys, retention: policy.retention)))
        _ = self.removeExpired(at: now)
    }

    /// Starts a rotation: a new key, published now, signing `publishLead` seconds from now. While one waits to
    /// sign, asking again does nothing.
    public func rotate(now: Int64) throws(KeyDirectoryError) -> Event {
        if let pending = self.state.withLock({ $0.ring.pendingKey(at: now) }) {
            return .alreadyPending(kid: pending.kid, signsFrom: pending.signsFrom)
        }
        // Generated outside the lock: an RSA key takes a while, and tokens are signed meanwhile.
        let latest = self.state.withLock { $0.ring.keys.last?.signsFrom } ?? now
        let key = try ManagedKey.generate(
            algorithm: self.policy.algorithm,
            publishedAt: now,
            signsFrom: max(now + self.policy.publishLead, latest + 1)
        )
        return try self.state.withLock { (state) throws(KeyDirectoryError) -> Event in
            if let pending = state.ring.pendingKey(at: now) {
                return .alreadyPending(kid: pending.kid, signsFrom: pending.signsFrom)
            }
            // Written before it is published, so that a restart publishes it too.
            try self.directory.write(key.file)
            state.ring.append(key)
            return .published(kid: key.kid, signsFrom: key.signsFrom)
        }
    }

    /// The periodic pass: removes the keys whose last token has expired, and rotates when the schedule says so.
    public func maintain(now: Int64) throws(KeyDirectoryError) -> [Event] {
        var events = self.removeExpired(at: now)
        if let every = self.policy.rotateEvery,
            self.state.withLock({ $0.ring.isRotationDue(every: every, publishLead: self.policy.publishLead, at: now) })
        {
            events.append(try self.rotate(now: now))
        }
        return events
    }

    /// The kids in the JWKS at `now`, oldest first.
    public func publishedKeyIDs(at now: Int64) -> [String] {
        self.state.withLock { $0.ring.publishedKeys(at: now).map(\.kid) }
    }

    /// The kid of the key that signs at `now`.
    public func signingKeyID(at now: Int64) -> String? {
        self.state.withLock { $0.ring.signingKey(at: now)?.kid }
    }

    private func removeExpired(at now: Int64) -> [Event] {
        let removed = self.state.withLock { $0.ring.removeExpired(at: now) }
        // A file left behind (the delete failed) is removed again at the next start: its successor dates it.
        return removed.map { key in
            try? self.directory.remove(kid: key.kid)
            return .removed(kid: key.kid)
        }
    }
}

extension RotatingKeys: TokenKeys {
    func signer(at now: Int64) -> TokenSigner {
        // The ring is never empty: the first start generates a key, and the last key is never removed.
        self.state.withLock { $0.ring.signingKey(at: now)!.signer }
    }

    func verifier(at now: Int64) -> TokenVerifier {
        self.withPublished(at: now) { $0.verifier }
    }

    func publicJWKS(at now: Int64) -> [UInt8]? {
        self.withPublished(at: now) { $0.jwks }
    }

    private func withPublished<Value>(
        at now: Int64,
        _ body: ((kids: [String], verifier: TokenVerifier, jwks: [UInt8])) -> Value
    ) -> Value {
        self.state.withLock { state in
            let keys = state.ring.publishedKeys(at: now)
            let kids = keys.map(\.kid)
            if let published = state.published, published.kids == kids {
                return body(published)
            }
            let jwks = PublicJWK.document(keys.map(\.publicJWK))
            let keySet = KeySet()
            // Fails closed: a set that does not load verifies nothing.
            _ = try? jwks.withUnsafeBytes { (bytes) throws(KeyFileError) in try keySet.add(contentsOf: bytes) }
            let published = (kids: kids, verifier: TokenVerifier(keys: keySet), jwks: jwks)
            state.published = published
            return body(published)
        }
    }
}
