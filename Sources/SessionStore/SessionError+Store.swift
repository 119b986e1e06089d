import CLibMemcached
import SessionCore

extension SessionError {
    // Why memcached could not answer; all fail closed with 503.
    public static let storeTimeout = Self("session store did not answer in time", status: .sessionStoreUnavailable)
    public static let storeUnreachable = Self("session store unreachable", status: .sessionStoreUnavailable)
    public static let storeServerDisabled = Self(
        "session store server failed recently, retrying after 1s",
        status: .sessionStoreUnavailable
    )
    public static let storeNoConnection = Self(
        "no session store connection free in time",
        status: .sessionStoreUnavailable
    )
    public static let storeOutOfMemory = Self(
        "session store client out of memory",
        status: .sessionStoreUnavailable
    )
    public static let storeError = Self("session store error", status: .sessionStoreUnavailable)

    /// The refusal for a libmemcached failure.
    static func storeFailure(_ code: memcached_return_t) -> Self {
        switch code {
        case MEMCACHED_TIMEOUT:
            return .storeTimeout
        case MEMCACHED_SERVER_TEMPORARILY_DISABLED, MEMCACHED_SERVER_MARKED_DEAD:
            return .storeServerDisabled
        case MEMCACHED_CONNECTION_FAILURE, MEMCACHED_HOST_LOOKUP_FAILURE, MEMCACHED_ERRNO, MEMCACHED_WRITE_FAILURE,
            MEMCACHED_READ_FAILURE, MEMCACHED_UNKNOWN_READ_FAILURE, MEMCACHED_NO_SERVERS:
            return .storeUnreachable
        case MEMCACHED_MEMORY_ALLOCATION_FAILURE:
            return .storeOutOfMemory
        default:
            return .storeError
        }
    }
}
