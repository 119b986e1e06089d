// swift-tools-version:6.1
//
// The reference auth server: login, logout, logout everywhere and refresh over HTTP (Hummingbird 2), writing the
// session records ngx_http_auth_jwt_module reads. A package of its own, so that the module's build, tests and CI
// never compile the HTTP server stack; it reaches the root package's session store (SessionStore), token
// verifier (JWTCore) and signing keys (JWTIssuer) by path.
import PackageDescription

let package = Package(
    name: "auth-server",
    products: [
        .executable(name: "auth-server", targets: ["AuthServer"])
    ],
    dependencies: [
        // The root package. Named explicitly: a path dependency's identity is otherwise its directory's name,
        // which differs between checkouts.
        .package(name: "nginx-auth-jwt", path: "../.."),
        // No default traits: neither swift-configuration nor full Foundation is needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Already in Hummingbird's closure: SIGHUP (key rotation) as an async sequence, and the service the key
        // maintenance runs as.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // libxcrypt's crypt_rn and crypt_gensalt_rn: bcrypt ($2b$), from Debian's libcrypt-dev.
        .systemLibrary(
            name: "CCrypt",
            pkgConfig: "libxcrypt",
            providers: [.apt(["libcrypt-dev"])]
        ),
        .target(
            name: "AuthServerCore",
            dependencies: [
                "CCrypt",
                .product(name: "JWTCore", package: "nginx-auth-jwt"),
                .product(name: "JWTIssuer", package: "nginx-auth-jwt"),
                .product(name: "SessionCore", package: "nginx-auth-jwt"),
                .product(name: "SessionStore", package: "nginx-auth-jwt"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Generating RSA and Ed25519 signing keys.
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "AuthServer",
            dependencies: [
                "AuthServerCore",
                .product(name: "JWTCore", package: "nginx-auth-jwt"),
                .product(name: "JWTIssuer", package: "nginx-auth-jwt"),
                .product(name: "SessionStore", package: "nginx-auth-jwt"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "AuthServerTests",
            dependencies: [
                "AuthServerCore",
                .product(name: "JWTCore", package: "nginx-auth-jwt"),
                .product(name: "JWTIssuer", package: "nginx-auth-jwt"),
                .product(name: "SessionCore", package: "nginx-auth-jwt"),
                .product(name: "SessionStore", package: "nginx-auth-jwt"),
                .product(name: "Hummingbird", package: "hummingbird"),
                // Opening nested tokens independently of JWTCore (AES key wrap, AES-GCM).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
