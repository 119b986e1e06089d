import Crypto
import CryptoExtras
import Foundation
import JWTIssuer

@testable import JWTCore

/// Opens `token` as a token of `type` with `keys`, returning the decoded header and claims.
@discardableResult
func open(
    _ token: String,
    as type: TokenType,
    with keys: KeySet,
    now: Int64 = earlyNow,
    leeway: Int64 = 0
) throws(VerificationError) -> (header: String, payload: String) {
    let tokenBytes = Array(token.utf8)
    var scratch = [UInt8](repeating: 0, count: TokenOpener.scratchSize(forTokenLength: tokenBytes.count))
    let result = tokenBytes.withUnsafeBytes { token in
        scratch.withUnsafeMutableBytes { scratch in
            Result { () throws(VerificationError) -> (header: String, payload: String) in
                let opened = try TokenOpener(keys: keys).open(
                    token,
                    type: type,
                    scratch: scratch,
                    now: now,
                    leeway: leeway
                )
                return (String(decoding: opened.header, as: UTF8.self), String(decoding: opened.payload, as: UTF8.self))
            }
        }
    }
    return try result.get()
}

/// The error opening `token` throws, or `nil` when it opens.
func openingError(_ token: String, as type: TokenType, with keys: KeySet, now: Int64 = earlyNow) -> VerificationError? {
    do {
        try open(token, as: type, with: keys, now: now)
        return nil
    } catch {
        return error
    }
}

/// Decrypts `token` to its plaintext bytes, whatever they are: for published vectors whose plaintext is no claims
/// set.
func decryptPlaintext(
    _ token: String,
    with keys: KeySet,
    content: Decrypter.Content = .claims
) throws(VerificationError) -> [UInt8] {
    let tokenBytes = Array(token.utf8)
    let count = tokenBytes.count
    var segments = [UInt8](repeating: 0, count: count)
    var plaintext = [UInt8](repeating: 0, count: count)
    var names = [MemberName](
        repeating: MemberName(start: 0, end: 0, hasEscape: false),
        count: MemberNameStack.capacity(forDocumentCount: count)
    )
    let result = tokenBytes.withUnsafeBytes { token in
        segments.withUnsafeMutableBytes { segments in
            plaintext.withUnsafeMutableBytes { plaintext in
                names.withUnsafeMutableBufferPointer { names in
                    Result { () throws(VerificationError) -> [UInt8] in
                        let decrypted = try Decrypter(keys: keys, includesUnmarkedKeys: true).decrypt(
                            try EncryptedSegments(token),
                            content: content,
                            decodedSegments: segments,
                            plaintextOutput: plaintext,
                            memberNames: names
                        )
                        return Array(decrypted.plaintext)
                    }
                }
            }
        }
    }
    return try result.get()
}

/// The files under Tests/JWTCoreTests/Fixtures.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: self.directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: self.directory.appendingPathComponent(name))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// The JWK with `kid` in the fixture JWKS `name`, as JSON text.
    static func jwk(_ kid: String, in name: String) throws -> String {
        let keys = try self.json(name)["keys"] as? [[String: Any]] ?? []
        guard let jwk = keys.first(where: { $0["kid"] as? String == kid }) else {
            throw SigningKeyError("no key \(kid) in \(name)")
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: jwk, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// Builds a compact JWE from its parts, for tokens no encrypter would make.
func compactJWE(
    header: String,
    encryptedKey: [UInt8] = [],
    iv: [UInt8],
    ciphertext: [UInt8],
    tag: [UInt8]
) -> String {
    [base64URL(header), base64URL(encryptedKey), base64URL(iv), base64URL(ciphertext), base64URL(tag)]
        .joined(separator: ".")
}

/// Replaces segment `index` (0 to 4) of a compact token.
func replacingSegment(_ index: Int, of token: String, with segment: String) -> String {
    var segments = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    segments[index] = segment
    return segments.joined(separator: ".")
}

/// Decodes segment `index` of a compact token.
func segmentBytes(_ index: Int, of token: String) -> [UInt8] {
    let segment = token.split(separator: ".", omittingEmptySubsequences: false)[index]
    return Array(Data(base64URLEncoded: String(segment)) ?? Data())
}

/// Keys generated once for the tests that encrypt their own tokens.
enum EncryptionTestKeys {
    nonisolated(unsafe) static let rsa = try! _RSA.Encryption.PrivateKey(keySize: .bits2048)
    static let p256 = P256.KeyAgreement.PrivateKey()
    static let p384 = P384.KeyAgreement.PrivateKey()
    static let p521 = P521.KeyAgreement.PrivateKey()
    static let x25519 = Curve25519.KeyAgreement.PrivateKey()
    /// Secrets of every length a JWE algorithm uses, each byte the length.
    static func secret(_ byteCount: Int) -> [UInt8] {
        [UInt8](repeating: UInt8(byteCount), count: byteCount)
    }

    static func octJWK(_ byteCount: Int, extra: String = #","use":"enc""#) -> String {
        #"{"kty":"oct","k":"\#(base64URL(secret(byteCount)))"\#(extra)}"#
    }

    /// The RSA key as a private JWK (RFC 7518 §6.3.2), from its PKCS#1 DER.
    static func rsaJWK(extra: String = "") -> String {
        let members = RSAPrivateKeyDER.members(Array(rsa.derRepresentation))
        let names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"]
        let pairs = zip(names, members).map { #""\#($0)":"\#(base64URL($1))""# }
        return #"{"kty":"RSA",\#(pairs.joined(separator: ","))\#(extra)}"#
    }

    static func ecJWK(crv: String, publicKey raw: Data, privateKey d: Data, extra: String = "") -> String {
        let width = raw.count / 2
        let x = base64URL(raw.prefix(width))
        let y = base64URL(raw.suffix(width))
        return #"{"kty":"EC","crv":"\#(crv)","x":"\#(x)","y":"\#(y)","d":"\#(base64URL(d))"\#(extra)}"#
    }

    static func p256JWK(extra: String = "") -> String {
        ecJWK(
            crv: "P-256",
            publicKey: p256.publicKey.rawRepresentation,
            privateKey: p256.rawRepresentation,
            extra: extra
        )
    }

    static func p384JWK(extra: String = "") -> String {
        ecJWK(
            crv: "P-384",
            publicKey: p384.publicKey.rawRepresentation,
            privateKey: p384.rawRepresentation,
            extra: extra
        )
    }

    static func p521JWK(extra: String = "") -> String {
        ecJWK(
            crv: "P-521",
            publicKey: p521.publicKey.rawRepresentation,
            privateKey: p521.rawRepresentation,
            extra: extra
        )
    }

    static func x25519JWK(extra: String = "") -> String {
        let x = base64URL(x25519.publicKey.rawRepresentation)
        return #"{"kty":"OKP","crv":"X25519","x":"\#(x)","d":"\#(base64URL(x25519.rawRepresentation))"\#(extra)}"#
    }

    /// Every decryption key above, in one JWKS.
    static var jwks: String {
        let oct = [16, 24, 32, 48, 64].map { octJWK($0) }
        let keys = oct + [rsaJWK(), p256JWK(), p384JWK(), p521JWK(), x25519JWK()]
        return #"{"keys":[\#(keys.joined(separator: ","))]}"#
    }

    /// The encrypter's view of the same keys.
    static func encryptionKey(for algorithm: String, encryption: String) -> EncryptionKey {
        let cekByteCount = [
            "A128GCM": 16, "A192GCM": 24, "A256GCM": 32, "A128CBC-HS256": 32, "A192CBC-HS384": 48,
            "A256CBC-HS512": 64,
        ][encryption]!
        switch algorithm {
        case "dir": return .symmetric(Data(secret(cekByteCount)))
        case "A128KW", "A128GCMKW": return .symmetric(Data(secret(16)))
        case "A192KW", "A192GCMKW": return .symmetric(Data(secret(24)))
        case "A256KW", "A256GCMKW": return .symmetric(Data(secret(32)))
        default: return .rsa(rsa.publicKey)
        }
    }
}

/// Reads the INTEGERs of a PKCS#1 RSAPrivateKey (RFC 8017 §A.1.2), for turning swift-crypto's DER into a JWK in
/// tests. Minimal DER: definite lengths, no validation beyond what the test keys need.
enum RSAPrivateKeyDER {
    /// n, e, d, p, q, dp, dq, qi, each without leading zero bytes.
    static func members(_ der: [UInt8]) -> [[UInt8]] {
        var index = 0
        func length() -> Int {
            let first = Int(der[index])
            index += 1
            guard first & 0x80 != 0 else {
                return first
            }
            var value = 0
            for _ in 0..<(first & 0x7F) {
                value = value << 8 | Int(der[index])
                index += 1
            }
            return value
        }
        index += 1  // SEQUENCE
        _ = length()
        var integers: [[UInt8]] = []
        while index < der.count {
            index += 1  // INTEGER
            let count = length()
            integers.append(Array(der[index..<(index + count)].drop { $0 == 0 }))
            index += count
        }
        // version, then the eight members.
        return Array(integers.dropFirst().prefix(8))
    }
}
