// swift-tools-version:6.1
//
// Micro-benchmarks of the Swift core (ordo-one/benchmark), kept in a nested package so that the root package's
// build, tests and CI never see the benchmark dependency. Run from the repository root with
//
//     swift package --package-path Benchmarks benchmark
//
// The core is reached through the root package's AuthJWT product, over the C ABI of ajwt.h (CAuthJWT), as nginx
// calls it.
//
// Timings on a shared machine are noise; instruction counts are not. VerifyLoop calls ajwt_verify in a loop for
// valgrind's callgrind (see its main.swift), and callgrind-nginx (beside this file) counts the instructions an nginx
// worker spends per request in each of a few locations, so that what the module adds over a bare location reads
// exactly:
//
//     swift build --package-path Benchmarks -c release --product VerifyLoop
//     Benchmarks/callgrind-nginx
import PackageDescription

let package = Package(
    name: "nginx-auth-jwt-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        // The root package. Named explicitly: a path dependency's identity is otherwise its directory's name,
        // which differs between checkouts.
        .package(name: "nginx-auth-jwt", path: ".."),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Tokens and key sets, shared by the benchmarks and the instruction-count driver.
        .target(
            name: "Fixtures",
            dependencies: [
                .product(name: "AuthJWT", package: "nginx-auth-jwt"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            path: "Benchmarks/Fixtures"
        ),
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                "Fixtures",
                .product(name: "AuthJWT", package: "nginx-auth-jwt"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // ajwt_verify in a loop, for valgrind --tool=callgrind (instruction counts, not timings). Outside
        // Benchmarks/, where the benchmark plugin would run it as a benchmark.
        .executableTarget(
            name: "VerifyLoop",
            dependencies: [
                "Fixtures",
                .product(name: "AuthJWT", package: "nginx-auth-jwt"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tools/VerifyLoop"
        ),
    ]
)
