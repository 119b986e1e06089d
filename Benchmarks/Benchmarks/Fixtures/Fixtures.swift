// Tokens, key files and records for the benchmarks and the instruction-count driver (VerifyLoop), made once per
// process with swift-crypto's private keys.

import CAuthJWT
import Crypto
import CryptoExtras
import Foundation

/// A byte string in memory that stays put for the whole run, as nginx's request buffers do.
public struct Bytes: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<UInt8>
    public let count: Int

    public init(_ bytes: some Collection<UInt8>) {
        self.count = bytes.count
        self.pointer = .allocate(capacity: max(self.count, 1))
        _ = UnsafeMutableBufferPointer(start: self.pointer, count: self.count).initialize(from: bytes)
    }

    public init(zeroed count: Int) {
        self.count = count
        self.pointer = .allocate(capacity: max(count, 1))
        self.pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: self.pointer, count: self.count) }
    public var str: ajwt_str_t { ajwt_str_t(data: self.pointer, len: self.count) }
    public var data: Data { Data(self.raw) }
}

extension Data {
    var base64URL: String {
        self.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The time the tokens are verified at: an hour-long token, issued a minute before.
public let issuedAt: Int64 = 1_800_000_000
public let verifyNow: Int64 = issuedAt + 60

/// A typical claims set: about 190 bytes of JSON, a ~300-byte HS256 token.
let claimsJSON = """
    {"iss":"https://auth.example.com","sub":"user-8d3c41e2","iat":\(issuedAt),"exp":\(issuedAt + 3600),\
    "tokenId":"5b0e6f0a-3c1d-4e7a-9f55-2b8c6d1e4a90","roles":["reader","editor"]}
    """

/// One algorithm's fixture: a token, its key set (built from a JWKS file's bytes with ajwt_keyset_add, as the
/// module loads auth_jwt_key_file), and the signing input and signature for the raw-crypto floor.
public struct AlgorithmFixture: @unchecked Sendable {
    public let alg: String
    public let token: Bytes
    public let keySet: OpaquePointer
    public let scratch: Bytes
    public let signingInput: Bytes
    public let signature: Bytes
}

enum Signer {
    case hmac(SymmetricKey)
    case rsa(_RSA.Signing.PrivateKey, _RSA.Signing.Padding)
    case p256(P256.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    func sign(_ input: Data) throws -> Data {
        switch self {
        case .hmac(let key): return Data(HMAC<SHA256>.authenticationCode(for: input, using: key))
        case .rsa(let key, let padding):
            return try key.signature(for: SHA256.hash(data: input), padding: padding).rawRepresentation
        case .p256(let key): return try key.signature(for: input).rawRepresentation
        case .ed25519(let key): return try key.signature(for: input)
        }
    }
}

func makeFixture(alg: String, signer: Signer, jwk: [String: String]) -> AlgorithmFixture {
    let kid = "\(alg.lowercased())-2026-01"
    var members = jwk
    members["kid"] = kid
    members["alg"] = alg
    members["use"] = "sig"
    let jwks = try! JSONSerialization.data(
        withJSONObject: ["keys": [members]],
        options: [.sortedKeys, .withoutEscapingSlashes]
    )
    let keySet = ajwt_keyset_create()!
    var err = [CChar](repeating: 0, count: 256)
    let added = jwks.withUnsafeBytes {
        ajwt_keyset_add(keySet, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), $0.count, &err, err.count)
    }
    precondition(added == 1, "\(alg): ajwt_keyset_add failed: \(String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")

    let header = #"{"alg":"\#(alg)","kid":"\#(kid)","typ":"JWT"}"#
    let input = Data(header.utf8).base64URL + "." + Data(claimsJSON.utf8).base64URL
    let signature = try! signer.sign(Data(input.utf8))
    let token = Bytes(Array((input + "." + signature.base64URL).utf8))
    let fixture = AlgorithmFixture(
        alg: alg,
        token: token,
        keySet: keySet,
        scratch: Bytes(zeroed: ajwt_scratch_size(token.count)),
        signingInput: Bytes(Array(input.utf8)),
        signature: Bytes(signature)
    )
    // The benchmark must measure the success path.
    var out = ajwt_token_t()
    var reason: UnsafePointer<CChar>?
    let status = ajwt_verify(
        keySet, token.pointer, token.count, fixture.scratch.pointer, fixture.scratch.count, verifyNow, 0, &out, &reason
    )
    precondition(status == AJWT_OK, "\(alg): ajwt_verify failed: \(reason.map { String(cString: $0) } ?? "?")")
    return fixture
}

func rsaJWK(_ key: _RSA.Signing.PublicKey) -> [String: String] {
    let primitives = try! key.getKeyPrimitives()
    return ["kty": "RSA", "n": primitives.modulus.base64URL, "e": primitives.publicExponent.base64URL]
}

/// Everything the benchmarks use, made once.
public struct Fixtures: @unchecked Sendable {
    public let hmacKey: SymmetricKey
    public let rsaKey: _RSA.Signing.PublicKey
    public let p256Key: P256.Signing.PublicKey
    public let ed25519Key: Curve25519.Signing.PublicKey

    public let hs256: AlgorithmFixture
    public let rs256: AlgorithmFixture
    public let ps256: AlgorithmFixture
    public let es256: AlgorithmFixture
    public let eddsa: AlgorithmFixture

    /// The verified HS256 token's payload, where ajwt_json_get looks claims up.
    public let payload: ajwt_str_t

    public init() {
        let secret = SymmetricKey(size: .bits256)
        let secretBytes = secret.withUnsafeBytes { Data($0) }
        let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
        let p256 = P256.Signing.PrivateKey()
        let ed25519 = Curve25519.Signing.PrivateKey()
        self.hmacKey = secret
        self.rsaKey = rsa.publicKey
        self.p256Key = p256.publicKey
        self.ed25519Key = ed25519.publicKey

        self.hs256 = makeFixture(alg: "HS256", signer: .hmac(secret), jwk: ["kty": "oct", "k": secretBytes.base64URL])
        self.rs256 = makeFixture(
            alg: "RS256",
            signer: .rsa(rsa, .insecurePKCS1v1_5),
            jwk: rsaJWK(rsa.publicKey)
        )
        self.ps256 = makeFixture(alg: "PS256", signer: .rsa(rsa, .PSS), jwk: rsaJWK(rsa.publicKey))
        let x963 = p256.publicKey.x963Representation
        self.es256 = makeFixture(
            alg: "ES256",
            signer: .p256(p256),
            jwk: [
                "kty": "EC", "crv": "P-256", "x": Data(x963.dropFirst().prefix(32)).base64URL,
                "y": Data(x963.suffix(32)).base64URL,
            ]
        )
        self.eddsa = makeFixture(
            alg: "EdDSA",
            signer: .ed25519(ed25519),
            jwk: ["kty": "OKP", "crv": "Ed25519", "x": ed25519.publicKey.rawRepresentation.base64URL]
        )

        var out = ajwt_token_t()
        var reason: UnsafePointer<CChar>?
        let status = ajwt_verify(
            self.hs256.keySet, self.hs256.token.pointer, self.hs256.token.count, self.hs256.scratch.pointer,
            self.hs256.scratch.count, verifyNow, 0, &out, &reason
        )
        precondition(status == AJWT_OK)
        // Copied out of the scratch buffer, which the verify benchmarks overwrite.
        self.payload = Bytes(UnsafeRawBufferPointer(start: out.payload.data, count: out.payload.len)).str
    }

    public var all: [AlgorithmFixture] { [self.hs256, self.rs256, self.ps256, self.es256, self.eddsa] }
}

/// A typical session record (a SHA-256 hex fingerprint, as an auth server would store) and its decision inputs.
public struct SessionFixture: @unchecked Sendable {
    public static let lastAccess: Int64 = 1_800_000_000
    public static let touchInterval: Int64 = 60

    public let record: Bytes
    public let fingerprint: Bytes
    public let out: Bytes

    public init() {
        let fingerprint = SHA256.hash(data: Data("203.0.113.7|Mozilla/5.0 (X11; Linux x86_64)".utf8))
            .map { String(format: "%02x", $0) }.joined()
        let record = """
            {"fingerprint":"\(fingerprint)","last_access_time":\(Self.lastAccess),\
            "session_idle_timeout":1800,"expires_at":\(Self.lastAccess + 86_400)}
            """
        self.record = Bytes(Array(record.utf8))
        self.fingerprint = Bytes(Array(fingerprint.utf8))
        self.out = Bytes(zeroed: ajwt_session_update_size(self.record.count))
        // Both benchmarked paths must pass.
        precondition(self.decide(now: Self.lastAccess + 10) == (AJWT_OK, 0))
        let touched = self.decide(now: Self.lastAccess + 120)
        precondition(touched.0 == AJWT_OK && touched.1 == self.record.count)
    }

    public func decide(now: Int64) -> (ajwt_status_t, Int) {
        var update = ajwt_session_update_t()
        var reason: UnsafePointer<CChar>?
        let status = ajwt_session_decide(
            self.record.str, self.fingerprint.str, now, Self.touchInterval, self.out.pointer, self.out.count,
            &update, &reason
        )
        return (status, update.updated_len)
    }
}
