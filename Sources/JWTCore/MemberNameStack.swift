/// Where a member name's escaped contents lie in the document being scanned.
struct MemberName {
    var start: UInt32
    var end: UInt32
}

/// The names of the members of the objects open during a scan, in caller-provided storage.
///
/// When an object closes, its names are sorted by their decoded bytes and adjacent names compared, so finding
/// duplicates costs O(n log n) comparisons even in a hostile header, and nothing is allocated for objects of
/// up to 20 members (the standard library sorts those by insertion).
struct MemberNameStack {
    private let storage: UnsafeMutableBufferPointer<MemberName>
    private(set) var count = 0

    init(storage: UnsafeMutableBufferPointer<MemberName>) {
        self.storage = storage
    }

    /// Enough entries for any document of `documentCount` bytes: every member takes at least 4 bytes (`"":0`).
    static func capacity(forDocumentCount documentCount: Int) -> Int {
        documentCount / 4 + 1
    }

    /// Records the name `name`, a slice of `document`.
    mutating func push(_ name: UnsafeRawBufferPointer, in document: UnsafeRawBufferPointer) throws(JSONError) {
        guard self.count < self.storage.count, let base = document.baseAddress, let nameStart = name.baseAddress
        else {
            throw .tooLarge
        }
        // The scanner keeps documents under 4 GiB, so these offsets fit.
        let start = base.distance(to: nameStart)
        self.storage[self.count] = MemberName(
            start: UInt32(truncatingIfNeeded: start),
            end: UInt32(truncatingIfNeeded: start + name.count)
        )
        self.count += 1
    }

    /// Removes the names recorded since the stack held `first` names, failing if two of them are equal.
    mutating func popNames(from first: Int, in document: UnsafeRawBufferPointer) throws(JSONError) {
        defer { self.count = first }
        var names = UnsafeMutableBufferPointer(rebasing: self.storage[first..<self.count])
        guard names.count > 1 else {
            return
        }
        func decoded(_ name: MemberName) -> UnescapedBytes {
            UnescapedBytes(UnsafeRawBufferPointer(rebasing: document[Int(name.start)..<Int(name.end)]))
        }
        names.sort { decoded($0).lexicographicallyPrecedes(decoded($1)) }
        for index in names.indices.dropFirst() where decoded(names[index - 1]).elementsEqual(decoded(names[index])) {
            throw .duplicateMemberName
        }
    }
}
