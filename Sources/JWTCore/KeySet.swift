import Synchronization

/// The verification keys of a location: built from key files at configuration time, or from a fetched JWKS,
/// then only read.
///
/// Reading (verification, `count`) is safe from any thread once the set is built; the `add` methods are for
/// building it.
public final class KeySet {
    private(set) var keys: [VerificationKey] = []

    /// Unique among the sets this process creates: a cache of verified tokens binds its entries to it, so that
    /// a set built anew (keys rotated) never inherits the verdicts of the one it replaces, even at its address.
    public let id: UInt64

    private static let lastID = Atomic<UInt64>(0)

    public init() {
        self.id = Self.lastID.add(1, ordering: .relaxed).newValue
    }

    /// The number of keys in the set.
    public var count: Int {
        self.keys.count
    }

    /// Parses a key file's contents and adds every key in it.
    ///
    /// The file holds a JWKS (`{"keys": [...]}`), a single JWK, or one or more PEM public keys (SPKI
    /// `PUBLIC KEY` for RSA, EC P-256/384/521 and Ed25519, or PKCS#1 `RSA PUBLIC KEY`). JWKs whose `use` is
    /// not `sig` are skipped.
    ///
    /// - Returns: the number of keys added, at least 1.
    /// - Throws: `KeyFileError`, naming the offending key but never its material; then nothing is added.
    public func add(contentsOf file: UnsafeRawBufferPointer) throws(KeyFileError) -> Int {
        let added = try KeyFile.keys(in: file)
        self.keys.append(contentsOf: added)
        return added.count
    }

    /// Parses a `keyval` file's contents (kjdev/nginx-auth-jwt's format: a JSON object of key IDs and PEM public
    /// keys, `KeyValFile`) and adds every key in it, each with its member name as its `kid`.
    ///
    /// - Returns: the number of keys added, at least 1.
    /// - Throws: `KeyFileError`, naming the offending key but never its material; then nothing is added.
    public func add(keyValContentsOf file: UnsafeRawBufferPointer) throws(KeyFileError) -> Int {
        let added = try KeyValFile.keys(in: file)
        self.keys.append(contentsOf: added)
        return added.count
    }

    /// Adds every key of `other`, after the keys already here (keys are immutable and shared, not copied).
    public func add(contentsOf other: KeySet) {
        self.keys.append(contentsOf: other.keys)
    }

    /// Whether some key has the `kid` `name`.
    func hasKey(named name: JSONName) -> Bool {
        self.keys.contains { $0.hasKeyID(name) }
    }
}

/// Why a key file was refused: a message for the administrator, naming the key by position and `kid`.
public struct KeyFileError: Error, CustomStringConvertible, Hashable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Reading key files, whatever their format.
enum KeyFile {
    static func keys(in file: UnsafeRawBufferPointer) throws(KeyFileError) -> [VerificationKey] {
        let text = file.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if text.first == UInt8(ascii: "{") {
            return try JWK.keys(inJSON: file)
        }
        if text.isEmpty {
            throw KeyFileError("the key file is empty")
        }
        if PEM.containsBlock(file) {
            return try PEM.keys(in: file)
        }
        throw KeyFileError("unrecognised key file format: expected a JWKS, a JWK or PEM public keys")
    }

    /// A `kid` as it may appear in a message: printable ASCII, at most 64 characters.
    static func printable(_ value: some Sequence<UInt8>) -> String {
        var result = ""
        for byte in value.prefix(64) {
            result.unicodeScalars.append((0x20..<0x7F).contains(byte) ? Unicode.Scalar(byte) : "?")
        }
        return result
    }
}
