/// Session keys: the value of `auth_jwt_session key=`, used as a memcached key.
public enum SessionKey {
    /// memcached's longest key (`MEMCACHED_MAX_KEY` - 1).
    public static let maximumLength = 250

    /// Checks that `key` is a memcached text-protocol key: 1 to 250 bytes, none of them a space or a control
    /// character, which would end the key or the command.
    public static func validate(_ key: UnsafeRawBufferPointer) throws(SessionError) {
        guard !key.isEmpty, key.count <= self.maximumLength,
            key.allSatisfy({ $0 > 0x20 && $0 != 0x7F })
        else {
            throw .invalidKey
        }
    }
}
