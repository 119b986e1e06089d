// ajwt_verify on tokens whose signature is right: the fuzzer's bytes become the header and payload JSON, which
// this target base64url-encodes and signs with the HMAC secret of the key set's "hs" key, so that the JSON
// validator, the header parameters (alg, kid, crit, enc), the time claims and the claim lookups behind the
// signature check are what gets fuzzed, not base64. A second verification, of the same documents with JSON
// whitespace around them (the same JSON texts, RFC 8259 §2), must come to the same status; and the token cache's
// time check (ajwt_times_read once, ajwt_times_check per hit) on a payload that verified must agree with a full verification at every instant.
//
// Input: one flags byte, then the header JSON, 0xFF, the payload JSON, then the member names of a lookup path,
// each after a 0xFF (0xFF never occurs in UTF-8, so JSON loses nothing to the separator).
//   flags bits 0-1  signature: with the HMAC the header's text names (HS384, HS512, else HS256), with HS256,
//                   with HS512, or as the first with its last byte flipped (then it must never verify)
//         bits 2-3  now:    the corpus's instant, 0, Int64.max, Int64.min
//         bits 4-5  leeway: 0, 60, Int64.max, -1

import CAuthJWT
import Crypto
import FuzzSupport

enum SignedToken {
    static let nows: [Int64] = [FuzzKeys.now, 0, .max, .min]
    static let leeways: [Int64] = [0, 60, .max, -1]
    static let key = SymmetricKey(data: FuzzKeys.hmacSecret)

    enum Algorithm {
        case hs256, hs384, hs512

        /// The HMAC whose name the header's text holds, without parsing it.
        init(namedIn header: UnsafeRawBufferPointer) {
            func names(_ name: String) -> Bool {
                let name = Array(name.utf8)
                return header.indices.contains { header[$0...].starts(with: name) }
            }
            self = names("HS384") ? .hs384 : names("HS512") ? .hs512 : .hs256
        }
    }

    static func fuzz(_ input: UnsafeRawBufferPointer) {
        guard let flags = input.first else {
            return
        }
        let parts = input.dropFirst().split(separator: 0xFF, maxSplits: .max, omittingEmptySubsequences: false)
            .map { UnsafeRawBufferPointer(rebasing: $0) }
        let header = parts[0]
        let payload = parts.count > 1 ? parts[1] : UnsafeRawBufferPointer(start: nil, count: 0)
        let path = parts.dropFirst(2).map { Array($0) }
        let forged = flags & 3 == 3
        let algorithm: Algorithm =
            switch flags & 3 {
            case 1: .hs256
            case 2: .hs512
            default: Algorithm(namedIn: header)
            }
        let now = self.nows[Int(flags >> 2 & 3)]
        let leeway = self.leeways[Int(flags >> 4 & 3)]

        let token = self.token(header, payload, algorithm: algorithm, forged: forged)
        let scratch = ExactBuffer(count: ajwt_scratch_size(token.count))
        let (status, verified) = self.verify(token, scratch: scratch, now: now, leeway: leeway)

        let padded = self.token(
            Array(" \r\n".utf8) + header + Array("\t ".utf8),
            Array("\n".utf8) + payload + Array(" ".utf8),
            algorithm: algorithm,
            forged: forged
        )
        let paddedScratch = ExactBuffer(count: ajwt_scratch_size(padded.count))
        let paddedStatus = self.verify(padded, scratch: paddedScratch, now: now, leeway: leeway).status
        require(
            paddedStatus == status,
            "whitespace around the JSON changed \(status.rawValue) to \(paddedStatus.rawValue)"
        )

        guard status == AJWT_OK else {
            return
        }
        require(!forged, "a token with a wrong signature verified")
        // The decoded segments are exactly the bytes that were encoded.
        require(
            UnsafeRawBufferPointer(start: verified.header.data, count: verified.header.len).elementsEqual(header),
            "decoded header differs"
        )
        require(
            UnsafeRawBufferPointer(start: verified.payload.data, count: verified.payload.len).elementsEqual(payload),
            "decoded payload differs"
        )
        inspect(verified.payload, path: path)
        inspect(verified.header, path: path)

        // The token cache's check on a verified payload decides as a full verification would, at every instant
        // (which verifies into a scratch buffer of its own: the payload checked points into the first).
        let recheckScratch = ExactBuffer(count: ajwt_scratch_size(token.count))
        for now in self.nows {
            for leeway in self.leeways {
                var reason: UnsafePointer<CChar>?
                var times = ajwt_times_t()
                require(ajwt_times_read(verified.payload, &times, &reason) == AJWT_OK, "times of a verified payload")
                let cached = ajwt_times_check(&times, now, leeway, &reason)
                checkReason(cached, reason, allowed: [AJWT_OK, AJWT_INVALID_TOKEN, AJWT_TOKEN_EXPIRED])
                let full = self.verify(token, scratch: recheckScratch, now: now, leeway: leeway).status
                require(cached == full, "ajwt_times_check says \(cached.rawValue), ajwt_verify \(full.rawValue)")
            }
        }
    }

    /// `header.payload.signature`, signed with the fuzz key set's secret.
    static func token(
        _ header: some Collection<UInt8>,
        _ payload: some Collection<UInt8>,
        algorithm: Algorithm,
        forged: Bool
    ) -> [UInt8] {
        let signingInput =
            Array(header).withUnsafeBytes { base64URL($0) } + [UInt8(ascii: ".")]
            + Array(payload).withUnsafeBytes { base64URL($0) }
        var signature =
            switch algorithm {
            case .hs256: Array(HMAC<SHA256>.authenticationCode(for: signingInput, using: self.key))
            case .hs384: Array(HMAC<SHA384>.authenticationCode(for: signingInput, using: self.key))
            case .hs512: Array(HMAC<SHA512>.authenticationCode(for: signingInput, using: self.key))
            }
        if forged {
            signature[signature.count - 1] ^= 0x01
        }
        return signingInput + [UInt8(ascii: ".")] + signature.withUnsafeBytes { base64URL($0) }
    }

    static func verify(
        _ token: [UInt8],
        scratch: borrowing ExactBuffer,
        now: Int64,
        leeway: Int64
    ) -> (status: ajwt_status_t, verified: ajwt_token_t) {
        var verified = ajwt_token_t()
        var reason: UnsafePointer<CChar>?
        let status = ajwt_verify(
            FuzzKeys.all, token, token.count, scratch.pointer, scratch.count, now, leeway, &verified, &reason)
        trace("\(String(cString: ajwt_status_name(status))) \(reason.map { String(cString: $0) } ?? "")")
        checkReason(status, reason, allowed: [AJWT_OK, AJWT_INVALID_TOKEN, AJWT_TOKEN_EXPIRED])
        return (status, verified)
    }
}

runFuzzer { data, size in
    SignedToken.fuzz(UnsafeRawBufferPointer(fuzzInput: data, count: size))
    return 0
}
