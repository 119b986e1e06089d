/// Why a key could not be read or used for signing, in words for the operator.
public struct SigningKeyError: Error, Hashable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    static func unusableAlgorithm(_ alg: String, for key: SigningKey) -> Self {
        Self("algorithm \(alg) cannot be used with this key (use one of \(key.algorithms.joined(separator: ", ")))")
    }
}
