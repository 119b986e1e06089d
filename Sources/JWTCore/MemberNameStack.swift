/// Where a member name's escaped contents lie in the document being scanned, and whether they hold an escape.
package struct MemberName {
    var start: UInt32
    /// The end offset; the top bit says whether the name holds an escape (offsets stay below 2^31).
    private var endAndEscape: UInt32

    init(start: UInt32, end: UInt32, hasEscape: Bool) {
        self.start = start
        self.endAndEscape = end | (hasEscape ? 1 << 31 : 0)
    }

    var end: UInt32 { self.endAndEscape & ~(1 << 31) }
    var count: UInt32 { self.end &- self.start }
    var hasEscape: Bool { self.endAndEscape & (1 << 31) != 0 }

    /// The name's length (modulo 256) and first seven bytes, as one word.
    @inline(__always)
    func prefixWord(in document: UnsafeRawBufferPointer) -> UInt64 {
        let count = Int(self.count)
        let start = Int(self.start)
        let lengthByte = UInt64(truncatingIfNeeded: count) << 56
        guard start + 8 <= document.count else {
            var word = lengthByte
            for index in 0..<min(count, 7) {
                word |= UInt64(document[start + index]) << (8 * index)
            }
            return word
        }
        // Eight bytes are there to read (the name's, then whatever follows it); the mask keeps the name's.
        let bytes = UInt64(littleEndian: document.loadUnaligned(fromByteOffset: start, as: UInt64.self))
        let mask: UInt64 = count >= 7 ? 0x00FF_FFFF_FFFF_FFFF : (1 << (8 * count)) - 1
        return lengthByte | bytes & mask
    }

    func name(in document: UnsafeRawBufferPointer) -> JSONName {
        JSONName(
            escaped: UnsafeRawBufferPointer(rebasing: document[Int(self.start)..<Int(self.end)]),
            hasEscape: self.hasEscape
        )
    }
}

/// The names of the members of the objects open during a scan, in caller-provided storage.
///
/// When an object closes, its names are checked for duplicates: pairwise for small objects (the usual header
/// or claims set has 2 to 10 members, so this is a handful of length comparisons), and for larger ones by
/// sorting by decoded bytes and comparing neighbours, so that a hostile object costs O(n log n) comparisons.
package struct MemberNameStack {
    /// Objects with at most this many members are checked pairwise: up to 120 comparisons, most of them of
    /// lengths alone.
    static let pairwiseLimit = 16

    private let storage: UnsafeMutableBufferPointer<MemberName>
    private(set) var count = 0

    init(storage: UnsafeMutableBufferPointer<MemberName>) {
        self.storage = storage
    }

    /// Enough entries for any document of `documentCount` bytes: every member takes at least 4 bytes (`"":0`).
    package static func capacity(forDocumentCount documentCount: Int) -> Int {
        documentCount / 4 + 1
    }

    /// Records `name`, a slice of `document`.
    @inline(__always)
    mutating func push(_ name: JSONName, in document: UnsafeRawBufferPointer) throws(JSONError) {
        guard self.count < self.storage.count, let base = document.baseAddress, let nameStart = name.escaped.baseAddress
        else {
            throw .tooLarge
        }
        // The scanner keeps documents under 2 GiB, so these offsets fit in 31 bits.
        let start = base.distance(to: nameStart)
        self.storage[self.count] = MemberName(
            start: UInt32(truncatingIfNeeded: start),
            end: UInt32(truncatingIfNeeded: start + name.escaped.count),
            hasEscape: name.hasEscape
        )
        self.count += 1
    }

    /// Removes the names recorded since the stack held `first` names, failing if two of them are equal.
    mutating func popNames(from first: Int, in document: UnsafeRawBufferPointer) throws(JSONError) {
        defer { self.count = first }
        let names = UnsafeMutableBufferPointer(rebasing: self.storage[first..<self.count])
        if names.count <= Self.pairwiseLimit {
            try Self.checkPairwise(names, in: document)
        } else {
            try Self.checkSorted(names, in: document)
        }
    }

    private static func checkPairwise(
        _ names: UnsafeMutableBufferPointer<MemberName>,
        in document: UnsafeRawBufferPointer
    ) throws(JSONError) {
        guard names.count > 1 else {
            return
        }
        // A name without escapes is its own bytes, so two such names can only be equal if their lengths and first
        // seven bytes are: one word per name holds those, and only words that match lead to comparing bytes.
        try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: names.count) { (words) throws(JSONError) in
            var hasEscape = false
            for index in names.indices {
                words[index] = names[index].prefixWord(in: document)
                hasEscape = hasEscape || names[index].hasEscape
            }
            for index in 1..<names.count {
                let word = words[index]
                for other in 0..<index where hasEscape || words[other] == word {
                    if names[index].name(in: document).equals(names[other].name(in: document)) {
                        throw .duplicateMemberName
                    }
                }
            }
        }
    }

    private static func checkSorted(
        _ names: UnsafeMutableBufferPointer<MemberName>,
        in document: UnsafeRawBufferPointer
    ) throws(JSONError) {
        func decoded(_ name: MemberName) -> UnescapedBytes {
            UnescapedBytes(name.name(in: document).escaped)
        }
        var names = names
        names.sort { decoded($0).lexicographicallyPrecedes(decoded($1)) }
        for index in names.indices.dropFirst() where names[index].name(in: document).equals(names[index - 1].name(in: document)) {
            throw .duplicateMemberName
        }
    }
}
