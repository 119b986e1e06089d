// Micro-benchmarks of the core's request path, through the C ABI nginx calls (ajwt.h), beside the raw
// swift-crypto operations they rest on, so that the core's overhead reads as a ratio in one run.
//
// Names: "verify <ALG>" is ajwt_verify of a whole token; "crypto <ALG> ..." is the floor, the signature check alone
// over the same signing input and signature; "session ..." is ajwt_session_decide; "json ..." is ajwt_json_get.
// Every benchmark runs its operation 1000 times per sample (scalingFactor .kilo): the default output divides by
// 1000, so each table reads per operation, and the harness's own allocations (16 per sample, see "baseline")
// round away. --scale prints the per-sample (1000 operations) values instead. cpuTotal comes from the kernel's
// 10 ms ticks: it says nothing below a few microseconds per operation; read wallClock (its p0 on a noisy VM).

import Benchmark
import CAuthJWT
import Crypto
import CryptoExtras
import Fixtures

let benchmarks: @Sendable () -> Void = {
    let fixtures = Fixtures()
    let session = SessionFixture()

    let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .throughput]
    let fast = Benchmark.Configuration(
        metrics: metrics,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 1_000_000
    )
    // Signature checks take tens of microseconds, 1000 of them tens of milliseconds: a longer run for ~100 samples.
    let slow = Benchmark.Configuration(
        metrics: metrics,
        warmupIterations: 2,
        scalingFactor: .kilo,
        maxDuration: .seconds(4),
        maxIterations: 100
    )

    // What the harness itself costs per sample: read the others against it.
    Benchmark("baseline (empty loop)", configuration: fast) { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(index)
        }
    }

    // MARK: Whole verification, through ajwt_verify

    for fixture in fixtures.all {
        Benchmark("verify \(fixture.alg)", configuration: fixture.alg == "HS256" ? fast : slow) { benchmark in
            var out = ajwt_token_t()
            var reason: UnsafePointer<CChar>?
            for _ in benchmark.scaledIterations {
                let status = ajwt_verify(
                    fixture.keySet, fixture.token.pointer, fixture.token.count, fixture.scratch.pointer,
                    fixture.scratch.count, verifyNow, 0, &out, &reason
                )
                precondition(status == AJWT_OK)
                blackHole(out)
            }
        }
    }

    // MARK: The floor: the signature check alone, with swift-crypto

    let hs256 = fixtures.hs256
    Benchmark("crypto HS256 HMAC.isValidAuthenticationCode", configuration: fast) { benchmark in
        let key = fixtures.hmacKey
        for _ in benchmark.scaledIterations {
            let valid = HMAC<SHA256>.isValidAuthenticationCode(
                hs256.signature.raw,
                authenticating: hs256.signingInput.raw,
                using: key
            )
            precondition(valid)
        }
    }
    // What the core does instead: copy an HMAC keyed once at load time (HMACKey), update, finalize, compare.
    Benchmark("crypto HS256 pre-keyed HMAC copy", configuration: fast) { benchmark in
        let keyed = HMAC<SHA256>(key: fixtures.hmacKey)
        for _ in benchmark.scaledIterations {
            var authenticator = keyed
            authenticator.update(data: hs256.signingInput.raw)
            precondition(authenticator.finalize() == hs256.signature.raw)
        }
    }

    let rs256 = fixtures.rs256
    Benchmark("crypto RS256 _RSA verify", configuration: slow) { benchmark in
        let key = fixtures.rsaKey
        for _ in benchmark.scaledIterations {
            let signature = _RSA.Signing.RSASignature(rawRepresentation: rs256.signature.raw)
            let digest = SHA256.hash(data: rs256.signingInput.raw)
            precondition(key.isValidSignature(signature, for: digest, padding: .insecurePKCS1v1_5))
        }
    }

    let ps256 = fixtures.ps256
    Benchmark("crypto PS256 _RSA verify", configuration: slow) { benchmark in
        let key = fixtures.rsaKey
        for _ in benchmark.scaledIterations {
            let signature = _RSA.Signing.RSASignature(rawRepresentation: ps256.signature.raw)
            let digest = SHA256.hash(data: ps256.signingInput.raw)
            precondition(key.isValidSignature(signature, for: digest, padding: .PSS))
        }
    }

    let es256 = fixtures.es256
    Benchmark("crypto ES256 P256 verify", configuration: slow) { benchmark in
        let key = fixtures.p256Key
        for _ in benchmark.scaledIterations {
            let signature = try! P256.Signing.ECDSASignature(rawRepresentation: es256.signature.raw)
            precondition(key.isValidSignature(signature, for: es256.signingInput.raw))
        }
    }

    let eddsa = fixtures.eddsa
    Benchmark("crypto EdDSA Ed25519 verify", configuration: slow) { benchmark in
        let key = fixtures.ed25519Key
        for _ in benchmark.scaledIterations {
            precondition(key.isValidSignature(eddsa.signature.raw, for: eddsa.signingInput.raw))
        }
    }

    // MARK: The session decision, through ajwt_session_decide

    Benchmark("session decide, no touch due", configuration: fast) { benchmark in
        let now = SessionFixture.lastAccess + 10
        for _ in benchmark.scaledIterations {
            var update = ajwt_session_update_t()
            var reason: UnsafePointer<CChar>?
            let status = ajwt_session_decide(
                session.record.str, session.fingerprint.str, now, SessionFixture.touchInterval, session.out.pointer,
                session.out.count, &update, &reason
            )
            precondition(status == AJWT_OK && update.updated_len == 0)
        }
    }
    Benchmark("session decide, touch due", configuration: fast) { benchmark in
        let now = SessionFixture.lastAccess + 120
        for _ in benchmark.scaledIterations {
            var update = ajwt_session_update_t()
            var reason: UnsafePointer<CChar>?
            let status = ajwt_session_decide(
                session.record.str, session.fingerprint.str, now, SessionFixture.touchInterval, session.out.pointer,
                session.out.count, &update, &reason
            )
            precondition(status == AJWT_OK && update.updated_len > 0)
        }
    }

    // MARK: Claim lookup, through ajwt_json_get

    let tokenIdExact = Bytes(Array("tokenId".utf8))
    let tokenIdFolded = Bytes(Array("tokenid".utf8))
    for (name, path) in [("json get tokenId ignore-case (exact spelling)", tokenIdExact),
                         ("json get tokenid ignore-case (case-folded match)", tokenIdFolded)] {
        Benchmark(name, configuration: fast) { benchmark in
            var member = path.str
            var raw = ajwt_str_t()
            for _ in benchmark.scaledIterations {
                let kind = ajwt_json_get(fixtures.payload, &member, 1, 1, &raw)
                precondition(kind == AJWT_JSON_STRING)
                blackHole(raw)
            }
        }
    }
}
