/// Unpadded base64url (RFC 4648 §5), to build tokens from the fuzzer's JSON.
public func base64URL(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var output: [UInt8] = []
    output.reserveCapacity((bytes.count * 4 + 2) / 3)
    var index = 0
    while index < bytes.count {
        let chunk = bytes[index..<min(index + 3, bytes.count)]
        var value: UInt32 = 0
        for (offset, byte) in chunk.enumerated() {
            value |= UInt32(byte) << UInt32(16 - 8 * offset)
        }
        for sextet in 0...chunk.count {
            output.append(alphabet[Int((value >> UInt32(18 - 6 * sextet)) & 0x3F)])
        }
        index += 3
    }
    return output
}
