import AuthJWT
import CAuthJWT
import Foundation
import Testing

@testable import JWTCore

/// ajwt_open() and ajwt_keyset_check_type() through the C ABI, as the nginx module calls them.
@Suite("JWE: the C ABI")
struct JWEABITests {
    /// A C key set holding `files`; released by the caller.
    static func keySet(_ files: String...) -> OpaquePointer {
        let set = ajwt_keyset_create()!
        for file in files {
            var err = [CChar](repeating: 0, count: 256)
            let added = Array(file.utf8).withUnsafeBufferPointer {
                ajwt_keyset_add(set, $0.baseAddress, $0.count, &err, err.count)
            }
            precondition(added > 0, String(cString: err))
        }
        return set
    }

    struct Outcome {
        let status: ajwt_status_t
        let reason: String?
        let header: String
        let payload: String
    }

    static func open(_ token: String, _ type: ajwt_type_t, _ set: OpaquePointer, now: Int64 = earlyNow) -> Outcome {
        let bytes = Array(token.utf8)
        var scratch = [UInt8](repeating: 0xA5, count: ajwt_scratch_size(bytes.count))
        // Set to a static string first, to see ajwt_open() clear it on success.
        let unset = UnsafeRawPointer(("unset" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
        func text(_ span: ajwt_str_t) -> String {
            guard let data = span.data else {
                return ""
            }
            return String(decoding: UnsafeBufferPointer(start: data, count: span.len), as: UTF8.self)
        }
        return bytes.withUnsafeBufferPointer { token in
            scratch.withUnsafeMutableBufferPointer { scratch in
                var out = ajwt_token_t()
                var reason: UnsafePointer<CChar>? = unset
                let status = ajwt_open(
                    set,
                    type,
                    token.baseAddress,
                    token.count,
                    scratch.baseAddress,
                    scratch.count,
                    now,
                    0,
                    &out,
                    &reason
                )
                // The spans point into scratch: read them while it is there.
                return Outcome(
                    status: status,
                    reason: reason.map { String(cString: $0) },
                    header: status == AJWT_OK ? text(out.header) : "",
                    payload: status == AJWT_OK ? text(out.payload) : ""
                )
            }
        }
    }

    static func checkType(_ set: OpaquePointer, _ type: ajwt_type_t) -> String? {
        var err = [CChar](repeating: 0x7F, count: 512)
        guard ajwt_keyset_check_type(set, type, &err, err.count) != 0 else {
            return nil
        }
        return String(cString: err)
    }

    @Test func opensEveryTypeThroughTheABI() throws {
        let set = Self.keySet(EncryptionTestKeys.jwks, TestKeys.rsaJWK(extra: #","use":"sig""#))
        defer { ajwt_keyset_free(set) }
        let claims = #"{"sub":"abi","exp":1400000000}"#
        let jws = makeToken(header: #"{"alg":"RS256"}"#, payload: claims, sign: TestKeys.rs256)
        let pair = JWEPair(algorithm: "ECDH-ES+A256KW", encryption: "A256CBC-HS512", curve: "X25519")
        let jwe = try pair.encrypter().encrypt(Data(claims.utf8))
        let nested = try pair.encrypter().nest(jws)

        let signed = Self.open(jws, AJWT_TYPE_SIGNED, set)
        #expect(signed.status == AJWT_OK && signed.reason == nil && signed.payload == claims)
        let encrypted = Self.open(jwe, AJWT_TYPE_ENCRYPTED, set)
        #expect(encrypted.status == AJWT_OK && encrypted.payload == claims)
        #expect(encrypted.header.contains(#""alg":"ECDH-ES+A256KW""#))
        let opened = Self.open(nested, AJWT_TYPE_NESTED, set)
        #expect(opened.status == AJWT_OK && opened.payload == claims && opened.header == #"{"alg":"RS256"}"#)

        // Each type refuses the others' tokens.
        #expect(Self.open(jwe, AJWT_TYPE_SIGNED, set).status == AJWT_INVALID_TOKEN)
        #expect(Self.open(jws, AJWT_TYPE_ENCRYPTED, set).status == AJWT_INVALID_TOKEN)
        #expect(Self.open(jws, AJWT_TYPE_NESTED, set).status == AJWT_INVALID_TOKEN)
        #expect(Self.open(jwe, AJWT_TYPE_NESTED, set).reason == "JWE header has no cty JWT: not a nested token")
        #expect(Self.open(nested, AJWT_TYPE_ENCRYPTED, set).status == AJWT_INVALID_TOKEN)
        // ajwt_verify() is the signed type.
        #expect(
            Self.open(jwe, AJWT_TYPE_SIGNED, set).reason
                == "an encrypted token (JWE) where a signed token (JWS) is expected"
        )

        // Expiry is TOKEN_EXPIRED, for every type.
        #expect(Self.open(jwe, AJWT_TYPE_ENCRYPTED, set, now: 1_400_000_000).status == AJWT_TOKEN_EXPIRED)
        #expect(Self.open(nested, AJWT_TYPE_NESTED, set, now: 1_400_000_000).status == AJWT_TOKEN_EXPIRED)
    }

    @Test func decryptionFailuresHaveOneStaticReason() throws {
        let set = Self.keySet(EncryptionTestKeys.jwks)
        defer { ajwt_keyset_free(set) }
        let token = try JWEPair(algorithm: "RSA-OAEP", encryption: "A128GCM", curve: "").encrypter()
            .encrypt(Data(#"{"sub":"abi"}"#.utf8))
        var reasons: Set<String> = []
        for index in 1...4 {
            var bytes = segmentBytes(index, of: token)
            bytes[0] ^= 0x40
            let outcome = Self.open(
                replacingSegment(index, of: token, with: base64URL(bytes)),
                AJWT_TYPE_ENCRYPTED,
                set
            )
            #expect(outcome.status == AJWT_INVALID_TOKEN)
            reasons.insert(outcome.reason ?? "")
        }
        #expect(reasons == ["the token could not be decrypted"])
    }

    @Test func refusesBadArguments() {
        let set = Self.keySet(EncryptionTestKeys.jwks)
        defer { ajwt_keyset_free(set) }
        #expect(Self.open("a.b.c.d.e", ajwt_type_t(rawValue: 7), set).reason == "invalid arguments to ajwt_open")
        var reason: UnsafePointer<CChar>?
        var out = ajwt_token_t()
        #expect(ajwt_open(nil, AJWT_TYPE_ENCRYPTED, nil, 0, nil, 0, 0, 0, &out, &reason) == AJWT_INVALID_TOKEN)
        #expect(reason.map { String(cString: $0) } == "invalid arguments to ajwt_open")
        #expect(Self.checkType(set, ajwt_type_t(rawValue: 9)) == "unknown token type")
        var err = [CChar](repeating: 0, count: 64)
        #expect(ajwt_keyset_check_type(nil, AJWT_TYPE_SIGNED, &err, err.count) == -1)
    }

    /// The scratch size covers the largest case: a nested token whose plaintext is nearly all of it.
    @Test func theScratchSizeCoversEveryType() {
        #expect(ajwt_scratch_size(1000) >= 3 * 1000)
        #expect(ajwt_scratch_size(1000) >= TokenOpener.scratchSize(forTokenLength: 1000))
        #expect(ajwt_scratch_size(Int(AJWT_MAX_TOKEN_LEN) * 4) == ajwt_scratch_size(Int(AJWT_MAX_TOKEN_LEN)))
    }

    @Test func checksTheTypesASetServes() {
        let signing = Self.keySet(TestKeys.rsaJWK())
        let decrypting = Self.keySet(EncryptionTestKeys.rsa.pemRepresentation)
        let unmarked = Self.keySet(TestKeys.hmacJWK(), EncryptionTestKeys.rsaJWK(), TestKeys.p256JWK())
        let both = Self.keySet(TestKeys.rsaJWK(), EncryptionTestKeys.rsaJWK())
        defer { [signing, decrypting, unmarked, both].forEach { ajwt_keyset_free($0) } }

        #expect(Self.checkType(signing, AJWT_TYPE_SIGNED) == nil)
        #expect(Self.checkType(signing, AJWT_TYPE_ENCRYPTED)?.hasPrefix("no key for decryption") == true)
        #expect(Self.checkType(decrypting, AJWT_TYPE_SIGNED)?.hasPrefix("no key for signature verification") == true)
        #expect(Self.checkType(decrypting, AJWT_TYPE_ENCRYPTED) == nil)
        #expect(Self.checkType(unmarked, AJWT_TYPE_SIGNED) == nil)
        #expect(Self.checkType(unmarked, AJWT_TYPE_ENCRYPTED) == nil)
        #expect(Self.checkType(unmarked, AJWT_TYPE_NESTED)?.contains(#"mark each oct key with "use""#) == true)
        #expect(Self.checkType(both, AJWT_TYPE_NESTED) == nil)
        // Truncated to the caller's buffer, and NUL-terminated.
        var small = [CChar](repeating: 0x7F, count: 8)
        #expect(ajwt_keyset_check_type(signing, AJWT_TYPE_ENCRYPTED, &small, small.count) == -1)
        #expect(String(cString: small) == "no key ")
    }

    @Test func keySetsCountAndLackKidsAcrossRoles() throws {
        let set = Self.keySet(EncryptionTestKeys.octJWK(16, extra: #","use":"enc","kid":"e""#), TestKeys.hmacJWK())
        defer { ajwt_keyset_free(set) }
        #expect(ajwt_keyset_count(set) == 2)
        func lacks(_ token: String) -> Int32 {
            Array(token.utf8).withUnsafeBufferPointer { ajwt_keyset_lacks_kid(set, $0.baseAddress, $0.count) }
        }
        let pair = JWEPair(algorithm: "A128KW", encryption: "A128GCM", curve: "")
        #expect(lacks(try pair.encrypter(keyID: "e").encrypt(Data("{}".utf8))) == 0)
        #expect(lacks(try pair.encrypter(keyID: "new").encrypt(Data("{}".utf8))) == 1)
    }
}
