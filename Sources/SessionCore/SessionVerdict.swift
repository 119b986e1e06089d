/// A request's session check asks memcached for several keys (its session's and its revocation keys), on one or
/// more servers, answered in any order; their verdicts combine into the request's. A refusal (revoked, logged
/// out, another device...) wins over a store failure, which wins over a pass: a revoked token is refused even
/// while another server is down, and nothing passes while a lookup failed. Of two refusals, or two failures, the
/// first stands.
public enum SessionVerdict: Comparable, Sendable {
    case pass
    case storeFailure
    case refusal

    /// The verdict of one lookup: `nil` is a pass.
    public init(_ error: SessionError?) {
        switch error?.status {
        case nil: self = .pass
        case .sessionStoreUnavailable: self = .storeFailure
        case .some: self = .refusal
        }
    }

    /// Whether `next` replaces `current` as the request's verdict.
    public static func prevails(_ next: Self, over current: Self) -> Bool {
        next > current
    }
}
