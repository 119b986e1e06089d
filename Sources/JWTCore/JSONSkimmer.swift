/// Reads the members or elements of a container in JSON text that the scanner validated earlier (a verified
/// token's header or payload, or an element of one), finding where each value starts and ends without
/// validating anything again: a claim policy reads a cached token's payload once per request, and this is that
/// read.
///
/// Given text that was never validated it stays inside it: every read is bounds-checked, every step advances,
/// and what it cannot read ends the walk (`nil`), so the answers are wrong but harmless.
struct JSONSkimmer {
    private let bytes: UnsafeRawBufferPointer
    private var index: Int

    /// A skimmer over the contents of `container`, the text of an object or an array.
    init(container: UnsafeRawBufferPointer) {
        self.bytes = container
        self.index = 1
    }

    /// The next member of an object, or `nil` after the last.
    mutating func nextMember() -> (name: JSONName, value: JSONSpan)? {
        guard self.skipSeparator(), self.peek() == UInt8(ascii: "\""), let name = self.skipString() else {
            return nil
        }
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: ":") else {
            return nil
        }
        self.index += 1
        self.skipWhitespace()
        guard let value = self.skipValue() else {
            return nil
        }
        return (name, value)
    }

    /// The next element of an array, or `nil` after the last.
    mutating func nextElement() -> JSONSpan? {
        guard self.skipSeparator() else {
            return nil
        }
        return self.skipValue()
    }

    // MARK: - Reading

    /// Moves to the next item: past whitespace and a comma; `false` at the container's end.
    private mutating func skipSeparator() -> Bool {
        self.skipWhitespace()
        if self.peek() == UInt8(ascii: ",") {
            self.index += 1
            self.skipWhitespace()
        }
        guard let byte = self.peek() else {
            return false
        }
        return byte != UInt8(ascii: "}") && byte != UInt8(ascii: "]")
    }

    private mutating func skipValue() -> JSONSpan? {
        let start = self.index
        guard let first = self.peek() else {
            return nil
        }
        let kind: JSONKind
        switch first {
        case UInt8(ascii: "\""):
            guard let string = self.skipString() else {
                return nil
            }
            return JSONSpan(kind: .string, bytes: string.escaped)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            kind = first == UInt8(ascii: "{") ? .object : .array
            guard self.skipContainer() else {
                return nil
            }
        case UInt8(ascii: "t"):
            kind = .true
            self.index += 4
        case UInt8(ascii: "f"):
            kind = .false
            self.index += 5
        case UInt8(ascii: "n"):
            kind = .null
            self.index += 4
        default:
            kind = .number
            while let byte = self.peek(), Self.isNumberByte(byte) {
                self.index += 1
            }
        }
        guard self.index > start, self.index <= self.bytes.count else {
            return nil
        }
        return JSONSpan(kind: kind, bytes: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]))
    }

    /// Past a string starting at the quote; its contents, still escaped.
    private mutating func skipString() -> JSONName? {
        let start = self.index + 1
        var position = start
        var hasEscape = false
        let count = self.bytes.count
        while position < count {
            let byte = self.bytes[position]
            if byte == UInt8(ascii: "\"") {
                self.index = position + 1
                return JSONName(escaped: UnsafeRawBufferPointer(rebasing: self.bytes[start..<position]), hasEscape: hasEscape)
            }
            if byte == UInt8(ascii: "\\") {
                hasEscape = true
                position += 1
            }
            position += 1
        }
        return nil
    }

    /// Past an object or array starting at its bracket: brackets counted, strings skipped.
    private mutating func skipContainer() -> Bool {
        var depth = 0
        var position = self.index
        let count = self.bytes.count
        while position < count {
            switch self.bytes[position] {
            case UInt8(ascii: "\""):
                self.index = position
                guard self.skipString() != nil else {
                    return false
                }
                position = self.index
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 {
                    self.index = position + 1
                    return true
                }
            default:
                break
            }
            position += 1
        }
        return false
    }

    private mutating func skipWhitespace() {
        while let byte = self.peek(),
            byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
        {
            self.index += 1
        }
    }

    @inline(__always)
    private func peek() -> UInt8? {
        self.index < self.bytes.count ? self.bytes[self.index] : nil
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
            || byte == UInt8(ascii: "E")
    }
}
