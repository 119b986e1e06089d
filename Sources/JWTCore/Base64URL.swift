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
    /// Works four characters (three bytes) at a time: a table per position in the group gives each character's
    /// six bits already shifted into place, so a group is four lookups ORed together, and bit 31 (set by any
    /// character outside the alphabet) is tested once at the end.
    ///
    /// - Returns: the number of bytes written, or `nil` if `encoded` is not canonical base64url or
    ///   `output` is too small. `output` may be partly written on failure.
    static func decode(_ encoded: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let count = decodedCount(ofEncodedCount: encoded.count), count <= output.count else {
            return nil
        }
        guard count > 0, let input = encoded.baseAddress, let outputBase = output.baseAddress else {
            return 0
        }
        return Self.groupTables.withUnsafeBufferPointer { tables -> Int? in
            let tables = tables.baseAddress!
            @inline(__always)
            func group(_ offset: Int, _ characters: Int) -> UInt32 {
                var bits: UInt32 = 0
                for index in 0..<characters {
                    let byte = Int(input.load(fromByteOffset: offset + index, as: UInt8.self))
                    bits |= tables[index << 8 | byte]
                }
                return bits
            }
            var invalid: UInt32 = 0
            var read = 0
            var written = 0
            let wholeGroupsEnd = encoded.count & ~3
            // A group's three bytes go out in one four-byte store while the fourth byte has room (the next group
            // overwrites it); a last group at the very end of the buffer, byte by byte.
            let storeGroups = min(encoded.count / 4, max(output.count - 1, 0) / 3)
            for _ in 0..<storeGroups {
                let bits = group(read, 4)
                invalid |= bits
                outputBase.storeBytes(of: (bits << 8).bigEndian, toByteOffset: written, as: UInt32.self)
                read &+= 4
                written &+= 3
            }
            while read < wholeGroupsEnd {
                let bits = group(read, 4)
                invalid |= bits
                Self.store(bits, byteCount: 3, at: outputBase + written)
                read += 4
                written += 3
            }
            // The last 2 or 3 characters carry 1 or 2 bytes; the bits left over are padding, which a canonical
            // encoder leaves zero.
            let tail = encoded.count - read
            if tail > 0 {
                let bits = group(read, tail)
                let paddingMask: UInt32 = tail == 2 ? 0x00_FFFF : 0x00_00FF
                invalid |= bits | (bits & paddingMask == 0 ? 0 : Self.invalidBit)
                Self.store(bits, byteCount: tail - 1, at: outputBase + written)
                written += tail - 1
            }
            return invalid & Self.invalidBit == 0 ? written : nil
        }
    }

    /// Writes the first `byteCount` bytes of a group's 24 bits, most significant first.
    @inline(__always)
    private static func store(_ bits: UInt32, byteCount: Int, at output: UnsafeMutableRawPointer) {
        for index in 0..<byteCount {
            output.storeBytes(of: UInt8(truncatingIfNeeded: bits >> (16 - 8 * index)), toByteOffset: index, as: UInt8.self)
        }
    }

    /// Set in a table entry, and so in a group's bits, by a byte outside the alphabet.
    private static let invalidBit: UInt32 = 1 << 31

    /// Four tables of 256 entries, one per position in a group of four characters: the character's six bits
    /// shifted to their place in the group's 24 bits, or `invalidBit`.
    private static let groupTables: [UInt32] = (0..<4).flatMap { position in
        (0...255).map { byte -> UInt32 in
            guard let sextet = Self.sextet(of: UInt8(byte)) else {
                return Self.invalidBit
            }
            return UInt32(sextet) << (18 - 6 * position)
        }
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
