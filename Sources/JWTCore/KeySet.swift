import Synchronization

/// The keys of a location: built from key files at configuration time, or from a fetched JWKS, then only read.
///
/// A set holds two kinds of keys, in two lists: verification keys (public keys, HMAC secrets) for signatures, and
/// decryption keys (private keys, encryption secrets) for JWE. A key is in one list only, except an `oct` JWK
/// marked for neither (no `use`, no `alg`), which is in both, flagged, and which a nested token uses for neither.
///
/// Reading (verification, decryption, `count`) is safe from any thread once the set is built; the `add` methods
/// are for building it.
public final class KeySet {
    private(set) var keys: [VerificationKey] = []
    private(set) var decryptionKeys: [DecryptionKey] = []
    /// The number of keys, an unmarked `oct` key counting once.
    public private(set) var count = 0

    /// Unique among the sets this process creates: a cache of verified tokens binds its entries to it, so that
    /// a set built anew (keys rotated) never inherits the verdicts of the one it replaces, even at its address.
    public let id: UInt64

    private static let lastID = Atomic<UInt64>(0)

    public init() {
        self.id = Self.lastID.add(1, ordering: .relaxed).newValue
    }

    /// Parses a key file's contents and adds every key in it.
    ///
    /// The file holds a JWKS (`{"keys": [...]}`), a single JWK, or PEM blocks. Public keys (SPKI `PUBLIC KEY` for
    /// RSA, EC P-256/384/521 and Ed25519, PKCS#1 `RSA PUBLIC KEY`, public JWKs) verify signatures; private keys
    /// (PKCS#8 `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, JWKs with private members) decrypt. JWKs whose
    /// `use` is neither `sig` nor `enc`, and public keys meant for encrypting (`use` `enc`, a JWE `alg`, X25519),
    /// are skipped.
    ///
    /// - Returns: the number of keys added, at least 1.
    /// - Throws: `KeyFileError`, naming the offending key but never its material; then nothing is added.
    public func add(contentsOf file: UnsafeRawBufferPointer) throws(KeyFileError) -> Int {
        let added = try KeyFile.keys(in: file)
        self.keys.append(contentsOf: added.verification)
        self.decryptionKeys.append(contentsOf: added.decryption)
        self.count += added.count
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
        self.count += added.count
        return added.count
    }

    /// Adds every key of `other`, after the keys already here (keys are immutable and shared, not copied).
    public func add(contentsOf other: KeySet) {
        self.keys.append(contentsOf: other.keys)
        self.decryptionKeys.append(contentsOf: other.decryptionKeys)
        self.count += other.count
    }

    /// Whether the set holds a key that only decrypts (a private key, an `oct` key marked for encryption): a file
    /// holding one should be readable by its owner only.
    public var holdsPrivateKeys: Bool {
        self.decryptionKeys.contains { !$0.isUnmarked }
    }

    /// Why the set cannot serve tokens of `type`, for `nginx -t`; `nil` when it can.
    ///
    /// Signed tokens need a verification key; encrypted ones a decryption key; nested ones both, and no unmarked
    /// `oct` key, since such a key would have to be both the signer's and the encrypter's.
    public func problem(serving type: TokenType) -> String? {
        let signing = "a public key, or a JWK with \"use\": \"sig\""
        let decrypting = "a private key, or an oct JWK with \"use\": \"enc\""
        switch type {
        case .signed:
            return self.keys.isEmpty ? "no key for signature verification (\(signing))" : nil
        case .encrypted:
            return self.decryptionKeys.isEmpty ? "no key for decryption (\(decrypting))" : nil
        case .nested:
            if self.keys.contains(where: { $0.isUnmarked }) {
                return "oct keys without \"use\" serve both signatures and decryption, which nested tokens keep apart: "
                    + "mark each oct key with \"use\": \"sig\" or \"use\": \"enc\""
            }
            if self.keys.isEmpty {
                return "no key for the nested token's signature (\(signing))"
            }
            if self.decryptionKeys.isEmpty {
                return "no key to decrypt the nested token (\(decrypting))"
            }
            return nil
        }
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

/// The keys of one key file, by role.
struct KeyFileKeys {
    var verification: [VerificationKey] = []
    var decryption: [DecryptionKey] = []
    /// The number of keys, an unmarked `oct` key (in both lists) counting once.
    var count = 0
}

/// Reading key files, whatever their format.
enum KeyFile {
    static func keys(in file: UnsafeRawBufferPointer) throws(KeyFileError) -> KeyFileKeys {
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
        throw KeyFileError("unrecognised key file format: expected a JWKS, a JWK or PEM keys")
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
