// swift-tools-version:6.1
//
// libFuzzer targets over the C API of ajwt.h, kept in a nested package so that the root package's build, tests
// and CI never see the fuzzing flags. The targets only build with the fuzzer runtime; build and run them with
//
//     make fuzz-smoke          # or: make fuzz FUZZ_SECONDS=300
//
// (Fuzz/run does the build: swift build -c release -Xswiftc -sanitize=fuzzer,address ...). The root package's
// targets are compiled again here with the same flags, so the core itself is instrumented, not only the harness.
import PackageDescription

let package = Package(
    name: "nginx-auth-jwt-fuzz",
    dependencies: [
        // The root package. Named explicitly: a path dependency's identity is otherwise its directory's name,
        // which differs between checkouts.
        .package(name: "nginx-auth-jwt", path: ".."),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver, which the sanitizer runtime defines.
        .target(name: "CFuzzDriver"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CFuzzDriver",
                .product(name: "AuthJWT", package: "nginx-auth-jwt"),
            ]
        ),
        // One executable per fuzz target; Fuzz/run builds and runs them.
        .executableTarget(name: "FuzzVerifyToken", dependencies: ["FuzzSupport"]),
        .executableTarget(
            name: "FuzzSignedToken",
            dependencies: ["FuzzSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .executableTarget(name: "FuzzKeyFile", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "FuzzSession", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "FuzzMemcachedReply", dependencies: ["FuzzSupport"]),
        .executableTarget(
            name: "FuzzOpenToken",
            dependencies: ["FuzzSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
    ]
)
