/// A refusal: the product status it maps to and a static reason for the error log.
///
/// Reasons are static strings, so they can never carry token bytes, keys or session data; two refusals are equal
/// when both their status and their reason's text are.
public protocol StaticReasonError: Error, Hashable, CustomStringConvertible {
    associatedtype Status: Hashable
    var status: Status { get }
    var reason: StaticString { get }
}

extension StaticReasonError {
    public var description: String {
        self.reason.description
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.status == rhs.status
            && lhs.reason.withUTF8Buffer { lhsReason in
                rhs.reason.withUTF8Buffer { lhsReason.elementsEqual($0) }
            }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.status)
        self.reason.withUTF8Buffer { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
