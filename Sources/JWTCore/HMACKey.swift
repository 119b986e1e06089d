import Crypto

/// An HMAC secret, keyed at configuration time for each hash it may serve.
///
/// Keying (padding the secret and hashing the inner and outer pads) happens once here; a verification copies the
/// keyed state, which costs swift-crypto's two copy-on-write allocations (the inner hash state here, the outer
/// one in `finalize()`) instead of seven for a fresh key. A class, so that reaching it from a key costs one
/// reference count, not one per hash state.
final class HMACKey: Sendable {
    /// The secret's length in bytes, which bounds the algorithms it may serve (RFC 7518 §3.2).
    let byteCount: Int
    private let sha256: HMAC<SHA256>
    private let sha384: HMAC<SHA384>
    private let sha512: HMAC<SHA512>

    init(secret: [UInt8]) {
        let key = SymmetricKey(data: secret)
        self.byteCount = secret.count
        self.sha256 = HMAC(key: key)
        self.sha384 = HMAC(key: key)
        self.sha512 = HMAC(key: key)
    }

    /// Whether `mac` authenticates `data` under `algorithm` (HS256, HS384 or HS512); any other algorithm fails.
    func isValidAuthenticationCode(
        _ mac: UnsafeRawBufferPointer,
        for data: UnsafeRawBufferPointer,
        algorithm: SignatureAlgorithm
    ) -> Bool {
        switch algorithm {
        case .hs256: return Self.isValid(mac, for: data, keyed: self.sha256)
        case .hs384: return Self.isValid(mac, for: data, keyed: self.sha384)
        case .hs512: return Self.isValid(mac, for: data, keyed: self.sha512)
        default: return false
        }
    }

    private static func isValid<H: HashFunction>(
        _ mac: UnsafeRawBufferPointer,
        for data: UnsafeRawBufferPointer,
        keyed: HMAC<H>
    ) -> Bool {
        var authenticator = keyed
        authenticator.update(data: data)
        // Not `==` against the bytes: swift-crypto's generic DataProtocol comparison costs an allocation and
        // about as many instructions as the rest of the check; the digest's own bytes are compared in place.
        return authenticator.finalize().withUnsafeBytes { ConstantTime.equal($0, mac) }
    }
}

/// Comparison of secrets-derived bytes in time that depends only on their length.
enum ConstantTime {
    /// Whether `lhs` and `rhs` hold the same bytes. Lengths are public (a MAC's length is the algorithm's), so a
    /// length mismatch returns at once; otherwise every byte is read, and differences are accumulated without
    /// branching on them.
    @inline(never)
    static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else {
            return false
        }
        var difference: UInt8 = 0
        for index in 0..<lhs.count {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }
}
