/// memcached's reply to the `cas` that touches a session, and what it means for the request.
public enum CASReply: Sendable, Hashable {
    /// `STORED`: the touch is written.
    case stored
    /// `EXISTS`: another request touched the session between the read and the write, which is as good.
    case exists
    /// `NOT_FOUND`: the session was deleted (logout) between the read and the write.
    case notFound
    /// Anything else: a store that says what it never should cannot be trusted.
    case unexpected

    /// The reply a whole reply line (with its `"\r\n"`) says.
    public init(line: UnsafeRawBufferPointer) {
        if line.elementsEqual("STORED\r\n".utf8) {
            self = .stored
        } else if line.elementsEqual("EXISTS\r\n".utf8) {
            self = .exists
        } else if line.elementsEqual("NOT_FOUND\r\n".utf8) {
            self = .notFound
        } else {
            self = .unexpected
        }
    }

    /// Lets the request through on `STORED` and `EXISTS`; refuses it as logged out on `NOT_FOUND` (the delete
    /// stays a delete), and fails closed on anything else.
    public func check() throws(SessionError) {
        switch self {
        case .stored, .exists:
            return
        case .notFound:
            throw .deletedDuringCheck
        case .unexpected:
            throw .unexpectedReply
        }
    }
}
