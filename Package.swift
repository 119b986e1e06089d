// swift-tools-version:6.1
//
// The Swift half of ngx_http_auth_jwt_module: a pure core (JWTCore), the session decisions (SessionCore), the
// session store's ring (MemcachedRing), a thin C bridge (AuthJWT, the only code that touches C pointers, built as
// the static archive the nginx module links), and jwtctl.
import PackageDescription

let package = Package(
    name: "nginx-auth-jwt",
    products: [
        .library(name: "AuthJWT", type: .static, targets: ["AuthJWT"]),
        .executable(name: "jwtctl", targets: ["jwtctl"]),
        // For auth servers written in Swift (examples/auth-server): the verifier, the session store, and signing.
        .library(name: "JWTCore", targets: ["JWTCore"]),
        .library(name: "SessionCore", targets: ["SessionCore"]),
        .library(name: "SessionStore", targets: ["SessionStore"]),
        .library(name: "JWTIssuer", targets: ["JWTIssuer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // The hand-written C ABI header: the single source of truth for the module/core boundary.
        .target(name: "CAuthJWT"),
        // Pure Swift; it takes from CAuthJWT only the header's limits (AJWT_MAX_*), so both sides read one definition.
        .target(
            name: "JWTCore",
            dependencies: [
                "CAuthJWT",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // libmemcached and its connection pool (libmemcachedutil), for the session store.
        .systemLibrary(
            name: "CLibMemcached",
            pkgConfig: "libmemcached",
            providers: [.apt(["libmemcached-dev"])]
        ),
        // Which memcached server holds a key: libmemcached's ketama placement, without libmemcached.
        .target(
            name: "MemcachedRing",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Every session and revocation outcome, with one reason vocabulary: the module (through AuthJWT), jwtctl and
        // auth servers (through SessionStore) decide with it. Pure Swift, no I/O.
        .target(name: "SessionCore", dependencies: ["JWTCore"]),
        .target(name: "SessionStore", dependencies: ["CLibMemcached", "MemcachedRing", "SessionCore"]),
        // The module's archive: no libmemcached in its closure (the module does its own memcached I/O).
        // memcached's text-protocol reply framing, for the module's pipelined connections. Pure Swift.
        .target(name: "MemcachedProtocol"),
        .target(
            name: "AuthJWT",
            dependencies: ["CAuthJWT", "JWTCore", "MemcachedRing", "MemcachedProtocol", "SessionCore"]
        ),
        // Signing keys (JWK, JWKS, PEM) and JWS signing, for jwtctl and auth servers. Uses Foundation, so it stays
        // out of AuthJWT's closure and so out of the module.
        .target(
            name: "JWTIssuer",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "jwtctl",
            dependencies: [
                "CAuthJWT",
                "AuthJWT",
                "JWTCore",
                "SessionCore",
                "SessionStore",
                "JWTIssuer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fixtures/: JWE tokens minted by Perl's Crypt::JWT (make-jwe-fixtures.pl), read through #filePath.
        .testTarget(
            name: "JWTCoreTests",
            dependencies: [
                "CAuthJWT", "AuthJWT", "JWTCore", "MemcachedRing", "SessionCore", "SessionStore", "JWTIssuer",
                "MemcachedProtocol",
            ],
            exclude: ["Fixtures"]
        ),
    ]
)
