/// A JSON number literal, read for exact comparison: by its decimal value, never through a `Double`, so that
/// `9007199254740993` and `9007199254740992` differ and `0.1` is one tenth.
///
/// The literal is kept in place: its value is `0.d₁d₂d₃… × 10^pointPosition`, where the digits are the literal's
/// from its first nonzero one (a `.` among them is skipped).
struct JSONNumber {
    /// Exponents up to 999,999,999 in magnitude: far beyond any real claim, and small enough to add to a position
    /// without overflow.
    static let maximumExponentDigits = 9

    let isNegative: Bool
    /// A literal without fraction and exponent (kjdev, after jansson: an integer, never equal to a real).
    let isInteger: Bool
    /// The significant digits, from the first nonzero one; empty for zero. May hold a `.` and trailing zeros.
    let digits: UnsafeRawBufferPointer
    let pointPosition: Int

    var isZero: Bool { self.digits.isEmpty }

    /// Reads `literal`; throws for a literal outside JSON's grammar (only text verification did not see can hold
    /// one), or one whose exponent has more digits than `maximumExponentDigits`.
    init(_ literal: UnsafeRawBufferPointer) throws(Incomparable) {
        var reader = LiteralReader(literal)
        self.isNegative = reader.skip(UInt8(ascii: "-"))
        let significandStart = reader.position
        let integerDigits = reader.skipDigits()
        guard integerDigits > 0 else {
            throw Incomparable()
        }
        var isInteger = true
        if reader.skip(UInt8(ascii: ".")) {
            guard reader.skipDigits() > 0 else {
                throw Incomparable()
            }
            isInteger = false
        }
        let significandEnd = reader.position
        var exponent = 0
        if reader.skip(UInt8(ascii: "e")) || reader.skip(UInt8(ascii: "E")) {
            isInteger = false
            let isNegativeExponent = reader.skip(UInt8(ascii: "-"))
            if !isNegativeExponent {
                _ = reader.skip(UInt8(ascii: "+"))
            }
            let zeros = reader.skipZeros()
            let start = reader.position
            let count = reader.skipDigits()
            guard zeros + count > 0, count <= Self.maximumExponentDigits else {
                throw Incomparable()
            }
            for byte in literal[start..<reader.position] {
                exponent = exponent * 10 + Int(byte &- UInt8(ascii: "0"))
            }
            if isNegativeExponent {
                exponent = -exponent
            }
        }
        guard reader.position == literal.count else {
            throw Incomparable()
        }
        self.isInteger = isInteger

        // Leading zeros (and the point among them) say nothing of the value but move the point.
        var first = significandStart
        var leadingZeros = 0
        while first < significandEnd, literal[first] == UInt8(ascii: "0") || literal[first] == UInt8(ascii: ".") {
            if literal[first] == UInt8(ascii: "0") {
                leadingZeros += 1
            }
            first += 1
        }
        self.digits = UnsafeRawBufferPointer(rebasing: literal[first..<significandEnd])
        self.pointPosition = integerDigits - leadingZeros + exponent
    }

    /// Compares the values of two literals exactly: a negative result if `lhs` is smaller, zero if equal (`-0`
    /// equals `0`, `1.0` equals `1`, `1e2` equals `100`), positive if larger.
    static func compare(_ lhs: JSONNumber, _ rhs: JSONNumber) -> Int {
        let lhsSign = lhs.isZero ? 0 : (lhs.isNegative ? -1 : 1)
        let rhsSign = rhs.isZero ? 0 : (rhs.isNegative ? -1 : 1)
        guard lhsSign == rhsSign else {
            return lhsSign < rhsSign ? -1 : 1
        }
        guard lhsSign != 0 else {
            return 0
        }
        let magnitude = compareMagnitudes(lhs, rhs)
        return lhsSign > 0 ? magnitude : -magnitude
    }

    /// Compares two nonzero values' magnitudes.
    private static func compareMagnitudes(_ lhs: JSONNumber, _ rhs: JSONNumber) -> Int {
        // Both start with a nonzero digit, so the point's position orders them unless it is the same.
        if lhs.pointPosition != rhs.pointPosition {
            return lhs.pointPosition < rhs.pointPosition ? -1 : 1
        }
        var lhsDigits = SignificantDigits(lhs.digits)
        var rhsDigits = SignificantDigits(rhs.digits)
        while true {
            switch (lhsDigits.next(), rhsDigits.next()) {
            case (let left?, let right?):
                if left != right {
                    return left < right ? -1 : 1
                }
            case (nil, nil):
                return 0
            case (nil, let right?):
                // Trailing zeros do not make a value larger.
                return right == UInt8(ascii: "0") && rhsDigits.restIsZero() ? 0 : -1
            case (let left?, nil):
                return left == UInt8(ascii: "0") && lhsDigits.restIsZero() ? 0 : 1
            }
        }
    }
}

/// A cursor over a number literal.
private struct LiteralReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Moves past `byte` if it comes next.
    mutating func skip(_ byte: UInt8) -> Bool {
        guard self.position < self.bytes.count, self.bytes[self.position] == byte else {
            return false
        }
        self.position += 1
        return true
    }

    /// Moves past the decimal digits that come next, returning how many.
    mutating func skipDigits() -> Int {
        let start = self.position
        while self.position < self.bytes.count, self.bytes[self.position] &- UInt8(ascii: "0") < 10 {
            self.position += 1
        }
        return self.position - start
    }

    /// Moves past the zeros that come next, returning how many.
    mutating func skipZeros() -> Int {
        let start = self.position
        while self.skip(UInt8(ascii: "0")) {}
        return self.position - start
    }
}

/// The digits of a significand, the point skipped.
private struct SignificantDigits {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> UInt8? {
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            self.position += 1
            if byte != UInt8(ascii: ".") {
                return byte
            }
        }
        return nil
    }

    /// Whether every digit not read yet is a zero.
    mutating func restIsZero() -> Bool {
        while let digit = self.next() {
            if digit != UInt8(ascii: "0") {
                return false
            }
        }
        return true
    }
}
