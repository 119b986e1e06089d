/// The decoded bytes (UTF-8) of a JSON string's escaped contents, produced lazily without copying.
///
/// Member names are compared through this view, so `"alg"` and `"\u0061lg"` are the same name. It never
/// traps and never yields more bytes than it reads, even on contents a validator would reject: a malformed
/// escape yields the escaped character itself and a lone surrogate yields U+FFFD.
package struct UnescapedBytes: Sequence, IteratorProtocol {
    private let escaped: UnsafeRawBufferPointer
    private var position = 0
    /// Bytes of the current character still to be yielded, lowest byte first.
    private var pending: UInt32 = 0
    private var pendingCount = 0

    package init(_ escaped: UnsafeRawBufferPointer) {
        self.escaped = escaped
    }

    package mutating func next() -> UInt8? {
        if self.pendingCount > 0 {
            return self.takePending()
        }
        guard self.position < self.escaped.count else {
            return nil
        }
        let byte = self.escaped[self.position]
        self.position += 1
        guard byte == UInt8(ascii: "\\"), self.position < self.escaped.count else {
            return byte
        }
        let escape = self.escaped[self.position]
        self.position += 1
        switch escape {
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "u"):
            guard let unit = JSONEscape.hexQuad(in: self.escaped, at: self.position) else {
                return escape
            }
            self.position += 4
            self.setPending(self.scalar(startingWith: unit))
            return self.takePending()
        default:
            return escape
        }
    }

    /// The scalar a `\u` escape of `unit` begins, consuming the low half of a surrogate pair.
    private mutating func scalar(startingWith unit: UInt16) -> Unicode.Scalar {
        let replacement: Unicode.Scalar = "\u{FFFD}"
        if let scalar = Unicode.Scalar(unit) {
            return scalar
        }
        guard JSONEscape.isHighSurrogate(unit), let low = JSONEscape.lowSurrogate(in: self.escaped, at: self.position)
        else {
            return replacement
        }
        self.position += 6
        return Unicode.Scalar(JSONEscape.combine(high: unit, low: low)) ?? replacement
    }

    private mutating func setPending(_ scalar: Unicode.Scalar) {
        self.pending = 0
        self.pendingCount = 0
        for byte in scalar.utf8 {
            self.pending |= UInt32(byte) << UInt32(8 * self.pendingCount)
            self.pendingCount += 1
        }
    }

    private mutating func takePending() -> UInt8 {
        let byte = UInt8(truncatingIfNeeded: self.pending)
        self.pending >>= 8
        self.pendingCount -= 1
        return byte
    }
}

extension UnescapedBytes {
    /// Whether two escaped strings decode to the same bytes.
    static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        UnescapedBytes(lhs).elementsEqual(UnescapedBytes(rhs))
    }

    /// Whether the escaped string `escaped` decodes to `bytes`, optionally ignoring ASCII case.
    static func decode(
        _ escaped: UnsafeRawBufferPointer,
        equals bytes: some Sequence<UInt8>,
        ignoringCase: Bool = false
    )
        -> Bool
    {
        if ignoringCase {
            return UnescapedBytes(escaped).elementsEqual(bytes) { ASCII.lowercased($0) == ASCII.lowercased($1) }
        }
        return UnescapedBytes(escaped).elementsEqual(bytes)
    }

}

enum ASCII {
    /// The byte with ASCII letters in lowercase.
    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }
}

/// A member name as the scanner found it: its escaped contents, and whether they hold an escape.
///
/// Names compare by their decoded bytes, so `"alg"` and `"\u0061lg"` are the same name; a name without an escape
/// is its own decoding, so comparing two such names (nearly always the case) is comparing bytes.
package struct JSONName {
    let escaped: UnsafeRawBufferPointer
    let hasEscape: Bool

    init(escaped: UnsafeRawBufferPointer, hasEscape: Bool) {
        self.escaped = escaped
        self.hasEscape = hasEscape
    }

    /// The contents of a validated JSON string, compared as a name (a `kid`, an `alg`).
    init(string contents: UnsafeRawBufferPointer) {
        self.init(escaped: contents, hasEscape: contents.contains(UInt8(ascii: "\\")))
    }

    /// Whether this name and `other` decode to the same bytes.
    func equals(_ other: JSONName) -> Bool {
        if !self.hasEscape && !other.hasEscape {
            return Self.bytesEqual(self.escaped, other.escaped)
        }
        return UnescapedBytes.equal(self.escaped, other.escaped)
    }

    /// Whether this name decodes to `bytes`.
    @inline(__always)
    func equals(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if !self.hasEscape {
            return Self.bytesEqual(self.escaped, bytes)
        }
        return UnescapedBytes(self.escaped).elementsEqual(bytes)
    }

    /// Whether this name decodes to `name`.
    @inline(__always)
    package func equals(_ name: StaticString) -> Bool {
        self.equals(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// Whether this name decodes to `bytes`, ignoring ASCII case.
    func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !self.hasEscape else {
            return UnescapedBytes.decode(self.escaped, equals: bytes, ignoringCase: true)
        }
        guard self.escaped.count == bytes.count else {
            return false
        }
        for index in 0..<bytes.count where ASCII.lowercased(self.escaped[index]) != ASCII.lowercased(bytes[index]) {
            return false
        }
        return true
    }

    @inline(__always)
    static func bytesEqual(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else {
            return false
        }
        var index = 0
        while index < lhs.count {
            guard lhs[index] == rhs[index] else {
                return false
            }
            index += 1
        }
        return true
    }
}

/// Helpers for `\uXXXX` escapes, shared by the validator and the decoder.
enum JSONEscape {
    /// The code unit spelled by the four hex digits at `index`, or `nil`.
    static func hexQuad(in bytes: UnsafeRawBufferPointer, at index: Int) -> UInt16? {
        guard index >= 0, index <= bytes.count - 4 else {
            return nil
        }
        var unit: UInt16 = 0
        for offset in 0..<4 {
            guard let digit = hexDigitValue(bytes[index + offset]) else {
                return nil
            }
            unit = unit << 4 | digit
        }
        return unit
    }

    /// The low surrogate of a `\uXXXX` escape starting (at its backslash) at `index`, or `nil`.
    static func lowSurrogate(in bytes: UnsafeRawBufferPointer, at index: Int) -> UInt16? {
        guard index <= bytes.count - 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
            let unit = hexQuad(in: bytes, at: index + 2), isLowSurrogate(unit)
        else {
            return nil
        }
        return unit
    }

    static func isHighSurrogate(_ unit: UInt16) -> Bool { (0xD800...0xDBFF).contains(unit) }

    static func isLowSurrogate(_ unit: UInt16) -> Bool { (0xDC00...0xDFFF).contains(unit) }

    static func combine(high: UInt16, low: UInt16) -> UInt32 {
        0x10000 + (UInt32(high - 0xD800) << 10) + UInt32(low - 0xDC00)
    }

    private static func hexDigitValue(_ byte: UInt8) -> UInt16? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt16(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt16(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt16(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
