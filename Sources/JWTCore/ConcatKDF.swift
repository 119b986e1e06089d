import Crypto

/// The Concat KDF of NIST SP 800-56A §5.8.1 with SHA-256, as ECDH-ES uses it (RFC 7518 §4.6.2).
///
/// swift-crypto offers ANSI X9.63 and HKDF derivations on a shared secret, not this one (X9.63 puts the counter
/// after Z, Concat KDF before it); this is the composition RFC 7518 spells out, over swift-crypto's SHA-256.
enum ConcatKDF {
    /// Derives `byteCount` bytes from the shared secret `z`:
    ///
    ///     K(i) = SHA-256(counter(i) || Z || OtherInfo), i = 1, 2, ...; the key is the first byteCount bytes
    ///     OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo
    ///
    /// where AlgorithmID, PartyUInfo and PartyVInfo are each a 32-bit big-endian length then the bytes (the `enc`
    /// name for direct agreement or the `alg` name for key wrapping; `apu`; `apv`, decoded), SuppPubInfo is the
    /// key length in bits as 32 bits big-endian, and SuppPrivInfo is empty.
    static func deriveKey(
        from z: UnsafeRawBufferPointer,
        byteCount: Int,
        algorithmID: StaticString,
        partyUInfo: UnsafeRawBufferPointer,
        partyVInfo: UnsafeRawBufferPointer
    ) -> SymmetricKey {
        let algorithm = UnsafeRawBufferPointer(start: algorithmID.utf8Start, count: algorithmID.utf8CodeUnitCount)
        let digestByteCount = SHA256.byteCount
        let rounds = (byteCount + digestByteCount - 1) / digestByteCount
        return withUnsafeTemporaryAllocation(byteCount: rounds * digestByteCount, alignment: 1) { output in
            for round in 0..<rounds {
                var hash = SHA256()
                Self.update(&hash, bigEndian: UInt32(round + 1))
                hash.update(bufferPointer: z)
                Self.update(&hash, bigEndian: UInt32(algorithm.count))
                hash.update(bufferPointer: algorithm)
                Self.update(&hash, bigEndian: UInt32(partyUInfo.count))
                hash.update(bufferPointer: partyUInfo)
                Self.update(&hash, bigEndian: UInt32(partyVInfo.count))
                hash.update(bufferPointer: partyVInfo)
                Self.update(&hash, bigEndian: UInt32(byteCount * 8))
                hash.finalize().withUnsafeBytes { digest in
                    UnsafeMutableRawBufferPointer(rebasing: output[(round * digestByteCount)...]).copyMemory(
                        from: digest
                    )
                }
            }
            let key = SymmetricKey(data: UnsafeRawBufferPointer(rebasing: output[..<byteCount]))
            output.initializeMemory(as: UInt8.self, repeating: 0)
            return key
        }
    }

    private static func update(_ hash: inout SHA256, bigEndian value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { hash.update(bufferPointer: $0) }
    }
}
