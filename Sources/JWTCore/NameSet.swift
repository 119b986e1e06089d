/// The member names of a JSON object read from a configuration file (`auth_jwt_revocation_list_sub`,
/// `auth_jwt_revocation_list_kid`), decoded once into a hashed set: a lookup costs one hash of the value and
/// one comparison or so, however many names the file lists.
///
/// Built at configuration time and immutable: requests only read it.
public final class NameSet: Sendable {
    /// The decoded names, one after the other.
    private let bytes: [UInt8]
    /// Where each name is in `bytes`.
    private let names: [Range<Int>]
    /// Open addressing, linear probing: 1 + the position of a name in `names`, 0 for an empty slot. The table is
    /// a power of two at least twice as large as the set.
    private let table: [Int32]

    /// The number of names.
    public var count: Int {
        self.names.count
    }

    /// Reads `object`, one strict JSON text (as a token's: valid UTF-8, no duplicate names) that must be an
    /// object; its values are not looked at. Not bound by `AJWT_MAX_REQUIRE_VALUE_LEN` or
    /// `AJWT_MAX_REQUIRE_ELEMENTS`: only by what a document may hold (`JSONScanner.maximumDocumentCount`).
    public init(object text: UnsafeRawBufferPointer) throws(NameSetError) {
        let object: JSONSpan
        do {
            object = try JSONScanner.validate(text)
        } catch {
            throw .invalidJSON(error.explanation)
        }
        guard object.kind == .object else {
            throw .notAnObject
        }
        var bytes: [UInt8] = []
        var names: [Range<Int>] = []
        var members = JSONSkimmer(container: object.bytes)
        while let member = members.nextMember() {
            let start = bytes.count
            bytes.append(contentsOf: UnescapedBytes(member.name.escaped))
            names.append(start..<bytes.count)
        }
        guard names.count < Int(Int32.max) / 2 else {
            throw .tooLarge
        }
        var capacity = 16
        while capacity < 2 * names.count {
            capacity *= 2
        }
        var table = [Int32](repeating: 0, count: capacity)
        bytes.withUnsafeBytes { bytes in
            for (position, range) in names.enumerated() {
                var slot = Self.hash(UnsafeRawBufferPointer(rebasing: bytes[range])) & (capacity - 1)
                while table[slot] != 0 {
                    slot = (slot + 1) & (capacity - 1)
                }
                table[slot] = Int32(position + 1)
            }
        }
        self.bytes = bytes
        self.names = names
        self.table = table
    }

    /// Whether the set has the name `name`, decoded bytes.
    public func contains(_ name: UnsafeRawBufferPointer) -> Bool {
        self.bytes.withUnsafeBytes { bytes in
            self.table.withUnsafeBufferPointer { table in
                let mask = table.count - 1
                var slot = Self.hash(name) & mask
                while table[slot] != 0 {
                    let range = self.names[Int(table[slot]) - 1]
                    if JSONName.bytesEqual(UnsafeRawBufferPointer(rebasing: bytes[range]), name) {
                        return true
                    }
                    slot = (slot + 1) & mask
                }
                return false
            }
        }
    }

    /// Whether the set has the name that the contents of a JSON string (escaped, as the scanner finds them)
    /// decode to.
    func contains(string contents: UnsafeRawBufferPointer) -> Bool {
        guard contents.contains(UInt8(ascii: "\\")) else {
            return self.contains(contents)
        }
        // Unescaping never grows a string.
        return withUnsafeTemporaryAllocation(byteCount: contents.count, alignment: 1) { decoded in
            let count = JSONLookup.unescape(contents, into: decoded)
            return self.contains(UnsafeRawBufferPointer(rebasing: decoded[..<count]))
        }
    }

    /// SipHash, seeded per process (nginx's workers inherit the master's seed): names from tokens cannot be
    /// chosen to collide.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }
}

/// Why a file's JSON could not become a `NameSet`; the description is for `nginx -t`.
public enum NameSetError: Error, Hashable, CustomStringConvertible {
    case invalidJSON(String)
    case notAnObject
    case tooLarge

    public var description: String {
        switch self {
        case .invalidJSON(let explanation): return "not valid JSON: \(explanation)"
        case .notAnObject: return "not a JSON object (its member names are the values listed)"
        case .tooLarge: return "too many names"
        }
    }
}
