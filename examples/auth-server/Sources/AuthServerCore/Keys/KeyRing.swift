/// The timeline of the signing keys, without I/O: which key signs, which are published, which may go.
///
/// A key is published from `publishedAt`, signs from `signsFrom` until the next key's `signsFrom`, and stays
/// published `retention` seconds (the access token lifetime) after that, until the last token it signed has
/// expired. A rotation publishes the new key `publishLead` seconds (at least the JWKS's `max-age`) before it signs,
/// so that every verifier holding a cached JWKS has fetched it before the first token it signs arrives.
struct KeyRing: Sendable {
    /// Oldest first: by `signsFrom`, each later than the one before.
    private(set) var keys: [ManagedKey]
    let retention: Int64

    init(keys: [ManagedKey], retention: Int64) {
        self.keys = keys.sorted { ($0.signsFrom, $0.publishedAt) < ($1.signsFrom, $1.publishedAt) }
        self.retention = retention
    }

    /// The key that signs at `now`: the last whose `signsFrom` has come (the first, should the clock have gone
    /// back before it).
    func signingKey(at now: Int64) -> ManagedKey? {
        self.keys.last { $0.signsFrom <= now } ?? self.keys.first
    }

    /// The key published but not signing yet at `now`, if a rotation is under way.
    func pendingKey(at now: Int64) -> ManagedKey? {
        self.keys.last.flatMap { $0.signsFrom > now ? $0 : nil }
    }

    /// The keys in the JWKS at `now`.
    func publishedKeys(at now: Int64) -> [ManagedKey] {
        self.keys.indices.filter { index in
            self.keys[index].publishedAt <= now && !self.isRemoved(index, at: now)
        }.map { self.keys[$0] }
    }

    /// When the key at `index` leaves the JWKS: `retention` after its successor starts signing; `nil` while it has
    /// none.
    func removalTime(ofKeyAt index: Int) -> Int64? {
        let next = index + 1
        guard next < self.keys.count else {
            return nil
        }
        return self.keys[next].signsFrom + self.retention
    }

    /// Whether a rotation is due at `now` so that the next key signs `every` seconds after the current one
    /// started, published `publishLead` seconds before.
    func isRotationDue(every: Int64, publishLead: Int64, at now: Int64) -> Bool {
        guard let current = self.keys.last else {
            return true
        }
        return current.signsFrom <= now && now >= current.signsFrom + every - publishLead
    }

    mutating func append(_ key: ManagedKey) {
        assert(self.keys.last.map { $0.signsFrom < key.signsFrom } ?? true, "keys must start signing in order")
        self.keys.append(key)
    }

    /// Drops the keys whose last token has expired at `now`; returns them.
    mutating func removeExpired(at now: Int64) -> [ManagedKey] {
        let expired = Set(self.keys.indices.filter { self.isRemoved($0, at: now) })
        let removed = expired.sorted().map { self.keys[$0] }
        self.keys = self.keys.indices.filter { !expired.contains($0) }.map { self.keys[$0] }
        return removed
    }

    private func isRemoved(_ index: Int, at now: Int64) -> Bool {
        self.removalTime(ofKeyAt: index).map { now >= $0 } ?? false
    }
}
