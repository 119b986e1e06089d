// ajwt_keyset_add on a key file's bytes (a JWKS, a single JWK, or PEM keys), as auth_jwt_key_file loads it;
// the same bytes as kjdev's keyval format, as a revocation list and as a nested claim name; then, when keys were added, ajwt_verify of a valid token (one of each algorithm's, picked by the input's
// bytes) against them, so that keys the fuzzer bent (kids, alg pins, odd RSA exponents, curve points) are used,
// not only parsed.

import CAuthJWT
import FuzzSupport

#if canImport(Glibc)
import Glibc
#endif

enum KeyFile {
    /// Error buffer sizes, so that truncation is exercised too.
    static let errorLengths = [0, 1, 2, 7, 64, 256]

    static func fuzz(_ file: UnsafeRawBufferPointer) {
        let keySet = ajwt_keyset_create()!
        defer { ajwt_keyset_free(keySet) }
        let error = ExactBuffer(count: self.errorLengths[file.count % self.errorLengths.count])
        let data = file.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let added = ajwt_keyset_add(keySet, data, file.count, error.pointer, error.count)
        trace(added < 0 && error.count > 0 ? String(cString: error.pointer!) : "added \(added)")
        self.otherReaders(file)

        guard added > 0 else {
            require(added == -1, "ajwt_keyset_add returned \(added)")
            require(ajwt_keyset_count(keySet) == 0, "a refused file added keys")
            if let message = error.pointer {
                // NUL-terminated within the buffer; printable ASCII, so no raw key bytes.
                let length = strnlen(message, error.count)
                require(length < error.count, "error message not NUL-terminated")
                require(
                    UnsafeBufferPointer(start: message, count: length).allSatisfy { (0x20..<0x7F).contains(UInt8($0)) },
                    "error message is not printable ASCII"
                )
            }
            return
        }
        require(ajwt_keyset_count(keySet) == Int(added), "count differs from the keys added")
        // Loading is deterministic: the same file adds the same keys again.
        require(ajwt_keyset_add(keySet, data, file.count, nil, 0) == added, "second load differs")
        require(ajwt_keyset_count(keySet) == 2 * Int(added), "count after the second load")

        // One probe per input, chosen by its bytes, keeps the target fast; the corpus covers them all.
        let probe = file.reduce(0) { $0 &+ Int($1) } % FuzzKeys.probeTokens.count
        for token in FuzzKeys.probeTokens[probe...probe] {
            let scratch = ExactBuffer(count: ajwt_scratch_size(token.count))
            var verified = ajwt_token_t()
            var reason: UnsafePointer<CChar>?
            let status = ajwt_verify(
                keySet, token, token.count, scratch.pointer, scratch.count, FuzzKeys.now, 0, &verified, &reason)
            checkReason(status, reason, allowed: [AJWT_OK, AJWT_INVALID_TOKEN])
        }
    }
}

extension KeyFile {
    /// The other configuration-time readers of a file's or a name's bytes: each refuses or accepts, never traps.
    static func otherReaders(_ file: UnsafeRawBufferPointer) {
        let data = file.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let keyVal = ajwt_keyset_create()!
        defer { ajwt_keyset_free(keyVal) }
        let added = ajwt_keyset_add_keyval(keyVal, data, file.count, nil, 0)
        require(added == -1 || (added > 0 && ajwt_keyset_count(keyVal) == Int(added)), "keyval added \(added)")
        if let names = ajwt_nameset_parse(data, file.count, nil, 0) {
            ajwt_nameset_free(names)
        }
        ".\"".utf8CString.withUnsafeBufferPointer { marks in
            marks.withMemoryRebound(to: UInt8.self) { marks in
                let delimiter = ajwt_str_t(data: marks.baseAddress, len: 1)
                let quote = ajwt_str_t(data: marks.baseAddress! + 1, len: 1)
                ajwt_path_free(ajwt_path_parse_nested(data, file.count, delimiter, quote, nil, 0))
            }
        }
    }
}

runFuzzer { data, size in
    KeyFile.fuzz(UnsafeRawBufferPointer(fuzzInput: data, count: size))
    return 0
}
