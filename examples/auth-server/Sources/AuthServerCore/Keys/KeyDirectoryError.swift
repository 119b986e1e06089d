/// Why the key directory cannot be used, or a key cannot be made or kept, in words for the operator.
public struct KeyDirectoryError: Error, Hashable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
