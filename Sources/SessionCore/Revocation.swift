/// Revocation records: a token is revoked while the session store holds a record under one of its revocation
/// keys (`auth_jwt_revocation key=...`, such as `revoked:jti:<jti>`). The record's contents do not matter to the
/// check; writers store `{"revoked_at":<seconds since the Epoch>}` and let memcached expire it when the tokens it
/// revokes expire.
public enum Revocation {
    /// Refuses a request when a revocation record was found for one of its keys.
    public static func check(recordPresent: Bool) throws(SessionError) {
        guard !recordPresent else {
            throw .revoked
        }
    }

    /// The record a writer stores: `{"revoked_at":<revokedAt>}`.
    public static func record(revokedAt: Int64) -> [UInt8] {
        Array(#"{"revoked_at":\#(revokedAt)}"#.utf8)
    }

    /// Whether a revocation lasting until `until` (seconds since the Epoch) is still worth writing at `now`: the
    /// tokens it revokes have not all expired.
    public static func isLive(until: Int64, now: Int64) -> Bool {
        until > now
    }
}
