/// Strict, unpadded base64url (RFC 4648 §5) as JWS compact serialization uses it (RFC 7515 §2).
///
/// Only the canonical encoding is accepted: no padding, no whitespace, no characters of the standard
/// alphabet (`+`, `/`), no impossible lengths, and no set bits in the unused tail of the last character.
/// A token with a non-canonical segment is malformed, so that every token has exactly one spelling.
enum Base64URL {
    /// The number of bytes `encodedCount` characters decode to, or `nil` for an impossible length.
    static func decodedCount(ofEncodedCount encodedCount: Int) -> Int? {
        switch encodedCount % 4 {
        case 0: return encodedCount / 4 * 3
        case 2: return encodedCount / 4 * 3 + 1
        case 3: return encodedCount / 4 * 3 + 2
        default: return nil
        }
    }

    /// Decodes `encoded` into the start of `output`.
    ///
    /// - Returns: the number of bytes written, or `nil` if `encoded` is not canonical base64url or
    ///   `output` is too small. `output` may be partly written on failure.
    static func decode(_ encoded: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let count = decodedCount(ofEncodedCount: encoded.count), count <= output.count else {
            return nil
        }
        var written = 0
        var accumulator: UInt32 = 0
        var pendingBits = 0
        for character in encoded {
            guard let sextet = sextet(of: character) else {
                return nil
            }
            accumulator = (accumulator << 6) | UInt32(sextet)
            pendingBits += 6
            if pendingBits >= 8 {
                pendingBits -= 8
                output[written] = UInt8(truncatingIfNeeded: accumulator >> UInt32(pendingBits))
                written += 1
            }
        }
        // The leftover 2 or 4 bits are padding; a canonical encoder leaves them zero.
        let leftover = accumulator & ((1 << UInt32(pendingBits)) - 1)
        return leftover == 0 ? written : nil
    }

    /// The 6-bit value of a base64url character, or `nil` for any other byte.
    private static func sextet(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}

extension Base64URL {
    /// Decodes `encoded` into a new array; for configuration-time use (key files), never on the request path.
    static func decode(_ encoded: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(encoded)
        guard let count = decodedCount(ofEncodedCount: input.count) else {
            return nil
        }
        var output = [UInt8](repeating: 0, count: count)
        let written = input.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { output in decode(input, into: output) }
        }
        return written == count ? output : nil
    }
}
