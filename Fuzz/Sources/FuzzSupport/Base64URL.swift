import FoundationEssentials

/// Unpadded base64url (RFC 4648 §5), to build tokens from the fuzzer's JSON.
public func base64URL(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    Data(bytes).base64EncodedString().utf8.compactMap { character in
        switch character {
        case UInt8(ascii: "+"): UInt8(ascii: "-")
        case UInt8(ascii: "/"): UInt8(ascii: "_")
        case UInt8(ascii: "="): nil
        default: character
        }
    }
}
