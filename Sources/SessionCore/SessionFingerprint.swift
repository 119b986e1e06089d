import JWTCore

/// Comparing a request's fingerprint with a session record's.
enum SessionFingerprint {
    /// Whether the escaped JSON string contents `escaped` decode to exactly the bytes of `presented`.
    ///
    /// The comparison does not stop at the first differing byte: every decoded byte of the record's fingerprint
    /// is compared (XOR, accumulated with OR), so its time depends on the lengths alone, never on where the
    /// request's fingerprint first differs. A length difference is a mismatch folded in at the end.
    ///
    /// - Parameter presented: the request's fingerprint; must not be empty.
    static func matches(escaped: UnsafeRawBufferPointer, presented: UnsafeRawBufferPointer) -> Bool {
        guard !presented.isEmpty else {
            return false
        }
        let lastIndex = presented.count - 1
        var difference: UInt8 = 0
        var decodedCount = 0
        for byte in UnescapedBytes(escaped) {
            // Past the end of the request's fingerprint, keep comparing (with its last byte) so that the loop
            // does the same work; the length check below makes the result a mismatch.
            difference |= byte ^ presented[min(decodedCount, lastIndex)]
            decodedCount &+= 1
        }
        let lengthDifference = UInt(bitPattern: decodedCount ^ presented.count)
        return (UInt(difference) | lengthDifference) == 0
    }
}
