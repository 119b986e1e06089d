import Crypto
import CryptoExtras
import Foundation
import JWTIssuer
import Testing

@testable import JWTCore

/// Unpadded base64url, for building tokens in tests: JWTIssuer's encoder (Foundation's base64), independent of the
/// core's decoder.
func base64URL(_ bytes: some Sequence<UInt8>) -> String {
    Data(bytes).base64URLEncoded
}

func base64URL(_ text: String) -> String {
    base64URL(Array(text.utf8))
}

/// Builds a compact JWS from a header and payload (JSON text), signing `header.payload` with `sign`.
func makeToken(header: String, payload: String, sign: ([UInt8]) throws -> [UInt8]) rethrows -> String {
    let signingInput = base64URL(header) + "." + base64URL(payload)
    return signingInput + "." + base64URL(try sign(Array(signingInput.utf8)))
}

/// A key set holding the keys of `files`.
func makeKeySet(_ files: String...) throws -> KeySet {
    let keys = KeySet()
    for file in files {
        _ = try Array(file.utf8).withUnsafeBytes { try keys.add(contentsOf: $0) }
    }
    return keys
}

/// The error loading `file` throws, or `nil`.
func keyFileError(_ file: String) -> String? {
    do {
        _ = try makeKeySet(file)
        return nil
    } catch {
        return (error as? KeyFileError)?.description ?? "\(error)"
    }
}

/// A time before every RFC example's `exp`.
let earlyNow: Int64 = 1_300_000_000

/// Verifies `token` against `keys`, returning the decoded header and payload.
@discardableResult
func verify(
    _ token: String,
    with keys: KeySet,
    now: Int64 = earlyNow,
    leeway: Int64 = 0
) throws(VerificationError)
    -> (header: String, payload: String)
{
    let tokenBytes = Array(token.utf8)
    var scratch = [UInt8](repeating: 0, count: Verifier.scratchSize(forTokenLength: tokenBytes.count))
    let result = tokenBytes.withUnsafeBytes { token in
        scratch.withUnsafeMutableBytes { scratch in
            Result { () throws(VerificationError) -> (header: String, payload: String) in
                let verified = try Verifier(keys: keys).verify(token, scratch: scratch, now: now, leeway: leeway)
                return (
                    String(decoding: verified.header, as: UTF8.self), String(decoding: verified.payload, as: UTF8.self)
                )
            }
        }
    }
    return try result.get()
}

/// Keys generated once for the tests that sign their own tokens.
enum TestKeys {
    static let hmacSecret = [UInt8](repeating: 0x5A, count: 64)
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let p256 = P256.Signing.PrivateKey()
    static let p384 = P384.Signing.PrivateKey()
    static let p521 = P521.Signing.PrivateKey()
    static let ed25519 = Curve25519.Signing.PrivateKey()

    static func hmacJWK(_ secret: [UInt8] = hmacSecret, extra: String = "") -> String {
        #"{"kty":"oct","k":"\#(base64URL(secret))"\#(extra)}"#
    }

    static func rsaJWK(extra: String = "") -> String {
        let primitives = try! rsa.publicKey.getKeyPrimitives()
        let modulus = base64URL(primitives.modulus)
        let exponent = base64URL(primitives.publicExponent)
        return #"{"kty":"RSA","n":"\#(modulus)","e":"\#(exponent)"\#(extra)}"#
    }

    static func p256JWK(extra: String = "") -> String {
        let point = Array(p256.publicKey.rawRepresentation)
        return
            #"{"kty":"EC","crv":"P-256","x":"\#(base64URL(point[..<32]))","y":"\#(base64URL(point[32...]))"\#(extra)}"#
    }

    static func ed25519JWK(extra: String = "") -> String {
        #"{"kty":"OKP","crv":"Ed25519","x":"\#(base64URL(ed25519.publicKey.rawRepresentation))"\#(extra)}"#
    }

    static func hs256(_ secret: [UInt8] = hmacSecret) -> ([UInt8]) -> [UInt8] {
        { Array(HMAC<SHA256>.authenticationCode(for: $0, using: SymmetricKey(data: secret))) }
    }

    static func hs512(_ secret: [UInt8] = hmacSecret) -> ([UInt8]) -> [UInt8] {
        { Array(HMAC<SHA512>.authenticationCode(for: $0, using: SymmetricKey(data: secret))) }
    }

    static func rs256(_ input: [UInt8]) -> [UInt8] {
        Array(try! rsa.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
    }

    static func ps256(_ input: [UInt8]) -> [UInt8] {
        Array(try! rsa.signature(for: SHA256.hash(data: input), padding: .PSS).rawRepresentation)
    }

    static func es256(_ input: [UInt8]) -> [UInt8] {
        Array(try! p256.signature(for: input).rawRepresentation)
    }

    static func es384(_ input: [UInt8]) -> [UInt8] {
        Array(try! p384.signature(for: input).rawRepresentation)
    }

    static func es512(_ input: [UInt8]) -> [UInt8] {
        Array(try! p521.signature(for: input).rawRepresentation)
    }

    static func eddsa(_ input: [UInt8]) -> [UInt8] {
        Array(try! ed25519.signature(for: input))
    }
}
