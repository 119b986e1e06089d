import SessionCore

/// The module's own session decision (SessionCore's `SessionRecord.decide`), so that this server refuses exactly what
/// nginx refuses, with the same status: expired, another device or none (the fingerprint compared in constant
/// time), idle, unreadable.
enum SessionDecision {
    /// Why nginx would refuse a request with `fingerprint` (empty: none) on `record` at `now`, or `nil`.
    static func refusal(of record: [UInt8], fingerprint: String, now: Int64) -> SessionError? {
        let fingerprint = Array(fingerprint.utf8)
        let result = record.withUnsafeBytes { record in
            fingerprint.withUnsafeBytes { fingerprint in
                withUnsafeTemporaryAllocation(
                    byteCount: SessionRecord.scratchSize(forRecordLength: record.count),
                    alignment: MemoryLayout<UInt64>.alignment
                ) { scratch in
                    // No touch: this server writes last_access_time itself.
                    Result { () throws(SessionError) in
                        _ = try SessionRecord.decide(
                            record,
                            fingerprint: fingerprint,
                            now: now,
                            touch: .max,
                            scratch: scratch
                        )
                    }
                }
            }
        }
        guard case .failure(let refusal) = result else {
            return nil
        }
        return refusal
    }
}
