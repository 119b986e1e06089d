import Crypto

/// An HMAC secret, keyed at configuration time for each hash it may serve.
///
/// Keying (padding the secret and hashing the inner and outer pads) happens once here; a verification copies the
/// keyed state, which costs two small copy-on-write allocations instead of swift-crypto's seven for a fresh key.
struct HMACKey: Sendable {
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
        // swift-crypto compares a MAC with bytes in constant time, after checking their lengths match.
        return authenticator.finalize() == mac
    }
}
