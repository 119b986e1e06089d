// ajwt_open on signed, encrypted and nested tokens, against a key set holding every decryption key type (oct of
// every length, RSA, EC P-256/384/521, X25519: the keys of the Crypt::JWT fixtures in Tests/JWTCoreTests/Fixtures)
// beside the signing keys of FuzzKeys.all. Two modes:
//   raw         the input is the token: mutations of the corpus's JWE (every alg/enc pair, encrypted and nested)
//               reach the segment split, the header and epk parsers, the length checks, key selection and every
//               key management and content decryption;
//   structured  the input is a JWE protected header (JSON text) and a plaintext, which this target encrypts with
//               AES-128-GCM under the set's "fuzz-dir" key, so that whatever header the fuzzer writes is
//               authenticated: when it says dir and A128GCM the plaintext decrypts, and the claims validator and a
//               nested token's inner JWS are what gets fuzzed.
//
// Input: one flags byte, then the token (raw) or the header JSON, 0xFF, the plaintext (structured).
//   flags bits 0-1  type: signed, encrypted, nested, encrypted
//         bit  2    mode: raw, structured
//
// Checked besides "no crash": the status is one ajwt_open may return; a reason iff refused, static printable
// ASCII; spans inside the scratch buffer; a signed type never accepts five segments, an encrypted or nested type
// never three.

import CAuthJWT
import Crypto
import FoundationEssentials
import FuzzSupport

#if canImport(Glibc)
import Glibc
#endif

enum OpenToken {
    /// Tests/JWTCoreTests/Fixtures, found from this file (Fuzz/Sources/FuzzOpenToken/main.swift).
    static let fixtures: String = {
        var path = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        path.removeLast(4)
        return path.joined(separator: "/") + "/Tests/JWTCoreTests/Fixtures/"
    }()

    /// The structured mode's key: dir, A128GCM.
    static let directKey = [UInt8](repeating: 0x42, count: 16)

    /// FuzzKeys.all's signing keys, the fixtures' decryption keys and signers, and the structured mode's key.
    nonisolated(unsafe) static let keys: OpaquePointer = {
        let keySet = ajwt_keyset_create()!
        ajwt_keyset_add_set(keySet, FuzzKeys.all)
        let direct = #"{"kty":"oct","kid":"fuzz-dir","use":"enc","k":"\#(OpenToken.encode(OpenToken.directKey))"}"#
        let files = ["jwe-keys.json", "jws-keys.json"].map {
            Array(FileManager.default.contents(atPath: OpenToken.fixtures + $0) ?? Data())
        }
        for bytes in files + [Array(direct.utf8)] {
            var error = [CChar](repeating: 0, count: 256)
            require(ajwt_keyset_add(keySet, bytes, bytes.count, &error, error.count) > 0, "fixture keys refused")
        }
        atexit { ajwt_keyset_free(OpenToken.keys) }
        return keySet
    }()

    static let types: [ajwt_type_t] = [AJWT_TYPE_SIGNED, AJWT_TYPE_ENCRYPTED, AJWT_TYPE_NESTED, AJWT_TYPE_ENCRYPTED]

    static func fuzz(_ input: UnsafeRawBufferPointer) {
        guard let flags = input.first else {
            return
        }
        let type = self.types[Int(flags & 3)]
        let rest = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        if flags & 4 == 0 {
            self.open(Array(rest), type: type)
            return
        }
        let separator = rest.firstIndex(of: 0xFF) ?? rest.endIndex
        let header = UnsafeRawBufferPointer(rebasing: rest[rest.startIndex..<separator])
        let plaintext = separator < rest.endIndex ? Array(rest[(separator + 1)...]) : []
        let protected = self.encode(Array(header))
        let nonce = try! AES.GCM.Nonce(data: [UInt8](repeating: 0, count: 12))
        let box = try! AES.GCM.seal(
            plaintext,
            using: SymmetricKey(data: self.directKey),
            nonce: nonce,
            authenticating: Array(protected.utf8)
        )
        let segments = [Array(nonce), Array(box.ciphertext), Array(box.tag)].map { self.encode($0) }
        let token = ([protected, ""] + segments).joined(separator: ".")
        self.open(Array(token.utf8), type: type)
    }

    static func encode(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.withUnsafeBytes { base64URL($0) }, as: UTF8.self)
    }

    static func open(_ token: [UInt8], type: ajwt_type_t) {
        let scratch = ExactBuffer(count: ajwt_scratch_size(token.count))
        var opened = ajwt_token_t()
        var reason: UnsafePointer<CChar>?
        let status = token.withUnsafeBufferPointer { token in
            ajwt_open(
                self.keys, type, token.baseAddress, token.count, scratch.pointer, scratch.count, FuzzKeys.now, 0,
                &opened, &reason
            )
        }
        let explanation = reason.map { String(cString: $0) } ?? ""
        trace("\(type.rawValue) \(String(cString: ajwt_status_name(status))) \(explanation)")
        checkReason(status, reason, allowed: [AJWT_OK, AJWT_INVALID_TOKEN, AJWT_TOKEN_EXPIRED])
        guard status == AJWT_OK else {
            return
        }
        let dots = token.filter { $0 == UInt8(ascii: ".") }.count
        require(type == AJWT_TYPE_SIGNED ? dots == 2 : dots == 4, "type \(type.rawValue) opened \(dots + 1) segments")
        let buffer = ajwt_str_t(data: scratch.pointer, len: scratch.count)
        require(contains(buffer, opened.header) && contains(buffer, opened.payload), "spans outside scratch")
        inspect(opened.header, path: [Array("alg".utf8)])
        inspect(opened.payload, path: [Array("exp".utf8)])
    }
}

runFuzzer { data, size in
    OpenToken.fuzz(UnsafeRawBufferPointer(fuzzInput: data, count: size))
    return 0
}
