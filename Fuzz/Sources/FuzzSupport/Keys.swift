import CAuthJWT

#if canImport(Glibc)
import Glibc
#endif

/// The key sets the targets verify against, loaded once through the C API as nginx loads auth_jwt_key_file.
public enum FuzzKeys {
    /// Every key type the module supports, from a JWKS (with kids) and from PEM (kid-less), plus the RFC
    /// examples' keys.
    public nonisolated(unsafe) static let all: OpaquePointer = {
        let keySet = ajwt_keyset_create()!
        for file in [Fixtures.jwks, Fixtures.pem] + Fixtures.rfcKeys {
            let bytes = Array(file.utf8)
            var error = [CChar](repeating: 0, count: 256)
            let added = ajwt_keyset_add(keySet, bytes, bytes.count, &error, error.count)
            let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            require(added > 0, "fixture key file refused: \(message)")
        }
        // Freed at exit, before LeakSanitizer's check (atexit handlers run in reverse order of registration), as
        // nginx frees key sets with their cycle. LeakSanitizer cannot follow the pointers Swift keeps in
        // multi-payload enums such as VerificationKey.Material (the case lives in the pointer's spare bits): a live
        // key set was reported as 58-70 leaked Curve25519 key buffers whenever no stale plain copy of the pointers
        // happened to remain in memory, e.g. on every run from a fresh working corpus. Freed, anything left is a
        // real leak of ajwt_keyset_free.
        atexit { ajwt_keyset_free(FuzzKeys.all) }
        return keySet
    }()

    /// The secret of the JWKS's oct key "hs".
    public static var hmacSecret: [UInt8] { Fixtures.hmacSecret }

    /// The instant the raw-token corpus is valid at.
    public static var now: Int64 { Fixtures.now }

    /// One valid token per algorithm and key source.
    public static let probeTokens: [[UInt8]] = Fixtures.probeTokens.map { Array($0.utf8) }
}
