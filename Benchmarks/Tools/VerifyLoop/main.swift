// A deterministic driver for instruction counts: calls ajwt_verify (or, for the floor, swift-crypto's HMAC alone) on
// one fixture token N times, for valgrind's callgrind, which counts instructions and calls exactly where the shared
// machine's timings are noise. valgrind 3.19 cannot read the DWARF 5 Swift emits: run a copy without debug
// information (symbols stay):
//
//     objcopy --strip-debug .build/release/VerifyLoop /tmp/VerifyLoop
//     valgrind --tool=callgrind --toggle-collect=ajwt_verify /tmp/VerifyLoop HS256 200
//     valgrind --tool=callgrind --toggle-collect=ajwt_verify /tmp/VerifyLoop HS256 1200
//     valgrind --tool=callgrind '--toggle-collect=*rawHMACFloor*' /tmp/VerifyLoop HMAC 1200
//
// Making the fixtures verifies each token once more, so per call is the difference of two runs' totals over the
// difference of their N; so are calls to malloc (callgrind_annotate --tree=caller). Arguments: ALG (HS256, RS256,
// PS256, ES256, EdDSA, or HMAC for the floor) and N (default 1000).

import CAuthJWT
import Crypto
import Fixtures

let arguments = CommandLine.arguments
let name = arguments.count > 1 ? arguments[1] : "HS256"
let count = arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000
let fixtures = Fixtures()

/// The floor: a copy of an HMAC keyed once, updated with the signing input and compared, as the core does it.
@inline(never)
func rawHMACFloor(_ keyed: HMAC<SHA256>, _ fixture: AlgorithmFixture) -> Bool {
    var authenticator = keyed
    authenticator.update(data: fixture.signingInput.raw)
    return authenticator.finalize() == fixture.signature.raw
}

/// For comparison only: the same MAC through swift-crypto's concrete SHA256 API, pads absorbed once.
@inline(never)
func sha256HMAC(_ inner: SHA256, _ outer: SHA256, _ fixture: AlgorithmFixture) -> Bool {
    var innerHash = inner
    innerHash.update(bufferPointer: fixture.signingInput.raw)
    var outerHash = outer
    innerHash.finalize().withUnsafeBytes { outerHash.update(bufferPointer: $0) }
    return outerHash.finalize().withUnsafeBytes { $0.elementsEqual(fixture.signature.raw) }
}

if name == "SHA" {
    let key = fixtures.hmacKey.withUnsafeBytes { Array($0) }
    var inner = SHA256()
    var outer = SHA256()
    inner.update(data: key.map { $0 ^ 0x36 } + [UInt8](repeating: 0x36, count: 64 - key.count))
    outer.update(data: key.map { $0 ^ 0x5C } + [UInt8](repeating: 0x5C, count: 64 - key.count))
    for _ in 0..<count {
        precondition(sha256HMAC(inner, outer, fixtures.hs256))
    }
} else if name == "HMAC" {
    let keyed = HMAC<SHA256>(key: fixtures.hmacKey)
    for _ in 0..<count {
        precondition(rawHMACFloor(keyed, fixtures.hs256))
    }
} else {
    guard let fixture = fixtures.all.first(where: { $0.alg == name }) else {
        fatalError("unknown algorithm \(name)")
    }
    var out = ajwt_token_t()
    var reason: UnsafePointer<CChar>?
    for _ in 0..<count {
        let status = ajwt_verify(
            fixture.keySet, fixture.token.pointer, fixture.token.count, fixture.scratch.pointer,
            fixture.scratch.count, verifyNow, 0, &out, &reason
        )
        precondition(status == AJWT_OK)
    }
}
print("\(name): \(count) iterations, token \(fixtures.hs256.token.count) bytes")
