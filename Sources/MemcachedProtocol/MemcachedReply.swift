/// The framing of memcached's text-protocol replies (memcached's protocol.txt), as the nginx module reads them back
/// from its pipelined connections: where one reply ends, and which items it holds. Pure: no I/O, no allocation.
///
/// Replies carry no request identifier, so a reply is matched to its command by order alone; a "gets" reply also
/// names its keys, which must be those asked, in the order asked.
public enum MemcachedReply {
    /// An item of a "gets" reply: its data's range in the buffer, its flags and its cas unique.
    public struct Item: Equatable, Sendable {
        public var value: Range<Int>
        public var flags: UInt64
        public var cas: UInt64
    }

    public enum Framing: Equatable, Sendable {
        /// A whole reply of this many bytes.
        case done(length: Int)
        /// Only part of a reply: the buffer needs at least this many bytes.
        case again(need: Int)
        /// Not a reply to the command.
        case invalid
        /// An item announced longer than the limit (its announced length): the reply is not read.
        case tooLong(UInt64)
    }

    /// memcached's longest key.
    public static let longestKey = 250
    /// The longest "VALUE <key> <flags> <bytes> <cas>\r\n" line.
    public static let longestValueLine = "VALUE  4294967295 18446744073709551615 18446744073709551615\r\n".utf8.count
        + longestKey
    /// The longest one-line reply taken as one ("STORED", "EXISTS", "NOT_FOUND").
    public static let longestLine = 64

    /// Frames the reply to `gets k1 ... kn` at the start of `buffer`: for each key that has an item, in the order
    /// asked, `VALUE <key> <flags> <bytes> <cas>\r\n<data>\r\n`; then `END\r\n`. `found(i, item)` is called for
    /// the items of the keys it holds (key i), before `.done`; an item longer than `maxValue` stops the framing.
    public static func frameGets(
        _ buffer: UnsafeRawBufferPointer,
        keyCount: Int,
        key: (Int) -> UnsafeRawBufferPointer,
        maxValue: Int,
        found: (Int, Item) -> Void
    ) -> Framing {
        var start = 0
        var next = 0
        while true {
            guard let newline = self.index(of: 0x0A, in: buffer, from: start) else {
                if buffer.count - start >= self.longestValueLine {
                    return .invalid
                }
                return .again(need: start + self.longestValueLine)
            }
            guard newline > start, buffer[newline - 1] == 0x0D else {
                return .invalid
            }
            let lineEnd = newline + 1
            if lineEnd - start == 5, buffer[start] == 0x45, buffer[start + 1] == 0x4E, buffer[start + 2] == 0x44 {
                return .done(length: lineEnd)  // "END\r\n"
            }
            guard lineEnd - start > 6, buffer[start] == 0x56, buffer[start + 1] == 0x41, buffer[start + 2] == 0x4C,
                buffer[start + 3] == 0x55, buffer[start + 4] == 0x45, buffer[start + 5] == 0x20
            else {
                return .invalid  // not "VALUE "
            }
            var position = start + 6

            // The key: one of those asked, after the last one matched.
            var index = next
            while index < keyCount {
                let asked = key(index)
                if lineEnd - position > asked.count, self.equal(buffer, at: position, asked),
                    buffer[position + asked.count] == 0x20
                {
                    break
                }
                index += 1
            }
            guard index < keyCount else {
                return .invalid
            }
            next = index + 1
            position += key(index).count + 1

            guard let (flags, afterFlags) = self.number(buffer, from: position, to: lineEnd, max: UInt64(UInt32.max)),
                buffer[afterFlags] == 0x20,
                let (length, afterLength) = self.number(buffer, from: afterFlags + 1, to: lineEnd, max: .max),
                buffer[afterLength] == 0x20,
                let (cas, afterCas) = self.number(buffer, from: afterLength + 1, to: lineEnd, max: .max),
                afterCas == lineEnd - 2
            else {
                return .invalid
            }
            guard length <= UInt64(max(maxValue, 0)) else {
                return .tooLong(length)
            }
            let count = Int(length)
            let dataEnd = lineEnd + count
            // The data, its "\r\n", and at least an "END\r\n" after it.
            guard buffer.count - lineEnd >= count + 7 else {
                return .again(need: dataEnd + 7)
            }
            guard buffer[dataEnd] == 0x0D, buffer[dataEnd + 1] == 0x0A else {
                return .invalid
            }
            found(index, Item(value: lineEnd..<dataEnd, flags: flags, cas: cas))
            start = dataEnd + 2
        }
    }

    /// Frames a one-line reply (to "cas": STORED, EXISTS, NOT_FOUND). An error reply (ERROR, CLIENT_ERROR,
    /// SERVER_ERROR) says the connection is not where this side thinks: invalid, as is a line past `longestLine`.
    public static func frameLine(_ buffer: UnsafeRawBufferPointer) -> Framing {
        guard let newline = self.index(of: 0x0A, in: buffer, from: 0) else {
            return buffer.count >= self.longestLine ? .invalid : .again(need: buffer.count + 1)
        }
        let length = newline + 1
        guard length <= self.longestLine, !self.contains(buffer, upTo: length, "ERROR") else {
            return .invalid
        }
        return .done(length: length)
    }

    private static func index(of byte: UInt8, in buffer: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < buffer.count, let base = buffer.baseAddress else {
            return nil
        }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var i = start
        while i < buffer.count {
            if bytes[i] == byte {
                return i
            }
            i &+= 1
        }
        return nil
    }

    private static func matches(
        _ buffer: UnsafeRawBufferPointer, at start: Int, upTo end: Int, _ text: StaticString
    ) -> Bool {
        guard end - start >= text.utf8CodeUnitCount else {
            return false
        }
        return text.withUTF8Buffer { self.equal(buffer, at: start, UnsafeRawBufferPointer($0)) }
    }

    private static func contains(_ buffer: UnsafeRawBufferPointer, upTo end: Int, _ text: StaticString) -> Bool {
        var start = 0
        while start + text.utf8CodeUnitCount <= end {
            if self.matches(buffer, at: start, upTo: end, text) {
                return true
            }
            start += 1
        }
        return false
    }

    private static func equal(_ buffer: UnsafeRawBufferPointer, at start: Int, _ bytes: UnsafeRawBufferPointer) -> Bool
    {
        var i = 0
        while i < bytes.count {
            if buffer[start + i] != bytes[i] {
                return false
            }
            i += 1
        }
        return true
    }

    /// A decimal number up to `max` starting at `start`, and where it ends (before `end`); nil if there is none or
    /// it is larger.
    private static func number(
        _ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int, max: UInt64
    ) -> (UInt64, Int)? {
        var value: UInt64 = 0
        var i = start
        while i < end, buffer[i] >= 0x30, buffer[i] <= 0x39 {
            let digit = UInt64(buffer[i] - 0x30)
            guard value <= (max - digit) / 10 else {
                return nil
            }
            value = value * 10 + digit
            i += 1
        }
        return i > start && i < end ? (value, i) : nil
    }
}
