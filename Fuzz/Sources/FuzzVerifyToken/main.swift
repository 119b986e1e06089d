// ajwt_verify on raw bytes, against a key set holding every key type the module supports (oct, RSA, EC
// P-256/384/521, Ed25519; from a JWKS and from PEM; and the RFC examples' keys), then ajwt_json_get and
// ajwt_json_unescape on the header and payload of whatever verified. The corpus holds a valid token of every
// algorithm, so mutations reach the header parser, the key selection and every signature check.

import CAuthJWT
import FuzzSupport

enum VerifyToken {
    static let claimPaths: [[[UInt8]]] = [
        [], ["sub"], ["exp"], ["aud"], ["tokenid"], ["org", "name"], ["org", "tags"], ["esc"], ["emoji"],
        ["http://example.com/is_root"],
    ].map { $0.map { Array($0.utf8) } }

    static let headerPaths: [[[UInt8]]] = [["alg"], ["kid"], ["typ"]].map { $0.map { Array($0.utf8) } }

    static func fuzz(_ token: UnsafeRawBufferPointer) {
        let scratch = ExactBuffer(count: ajwt_scratch_size(token.count))
        var verified = ajwt_token_t()
        var reason: UnsafePointer<CChar>?
        let status = ajwt_verify(
            FuzzKeys.all,
            token.baseAddress?.assumingMemoryBound(to: UInt8.self),
            token.count,
            scratch.pointer,
            scratch.count,
            FuzzKeys.now,
            0,
            &verified,
            &reason
        )
        trace("\(String(cString: ajwt_status_name(status))) \(reason.map { String(cString: $0) } ?? "")")
        checkReason(status, reason, allowed: [AJWT_OK, AJWT_INVALID_TOKEN, AJWT_TOKEN_EXPIRED])
        guard status == AJWT_OK else {
            return
        }
        let buffer = ajwt_str_t(data: scratch.pointer, len: scratch.count)
        require(contains(buffer, verified.header) && contains(buffer, verified.payload), "spans outside scratch")
        for path in self.headerPaths {
            inspect(verified.header, path: path)
        }
        for path in self.claimPaths {
            inspect(verified.payload, path: path)
        }
    }
}

runFuzzer { data, size in
    VerifyToken.fuzz(UnsafeRawBufferPointer(fuzzInput: data, count: size))
    return 0
}
