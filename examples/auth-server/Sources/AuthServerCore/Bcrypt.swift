import CCrypt

#if canImport(Glibc)
import Glibc
#endif

/// bcrypt password hashes (`$2b$`), through libxcrypt.
///
/// libxcrypt's bcrypt is the OpenBSD algorithm (the `crypt_blowfish` implementation): its time depends on the cost
/// alone, never on the password, and it draws salts from the kernel's CSPRNG (`getrandom`).
public enum Bcrypt {
    /// The cost new hashes get unless told otherwise: 2^12 rounds.
    public static let defaultCost = 12

    /// The costs bcrypt accepts.
    public static let costs = 4...31

    /// bcrypt reads at most 72 bytes of a password: longer ones are refused rather than silently cut, so that two
    /// passwords sharing their first 72 bytes never both match.
    public static let maximumPasswordLength = 72

    /// The length of every bcrypt hash: `$2b$` + two cost digits + `$` + 22 salt + 31 hash characters.
    static let hashLength = 60

    /// Why a password cannot be hashed.
    public struct HashError: Error, Hashable, CustomStringConvertible {
        public let description: String
    }

    /// A new hash of `password` with a fresh random salt, for the users file.
    public static func hash(_ password: String, cost: Int = Bcrypt.defaultCost) throws(HashError) -> String {
        guard self.costs.contains(cost) else {
            throw HashError(
                description: "the bcrypt cost must be from \(self.costs.lowerBound) to \(self.costs.upperBound)"
            )
        }
        guard self.isUsable(password: Array(password.utf8)) else {
            throw HashError(description: "a password is 1 to \(self.maximumPasswordLength) bytes, without NUL")
        }
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        // No random bytes given: libxcrypt reads them from the kernel.
        guard crypt_gensalt_rn("$2b$", UInt(cost), nil, 0, &setting, Int32(setting.count)) != nil else {
            throw HashError(description: "cannot make a bcrypt salt (errno \(errno))")
        }
        guard let hash = self.crypt(Array(password.utf8), setting: setting), hash.utf8.count == self.hashLength else {
            throw HashError(description: "bcrypt failed (errno \(errno))")
        }
        return hash
    }

    /// Whether `password` is the one `hash` was made from. `false` for a password bcrypt cannot take (too long,
    /// with NUL) and for a hash that is not bcrypt's; the comparison takes the same time wherever the hashes differ.
    public static func verify(_ password: [UInt8], against hash: String) -> Bool {
        // An unusable password is hashed all the same, so that the answer takes as long.
        let usable = self.isUsable(password: password)
        guard self.isHash(hash),
            let computed = self.crypt(usable ? password : Array("-".utf8), setting: Array(hash.utf8CString))
        else {
            return false
        }
        return constantTimeEquals(Array(computed.utf8), Array(hash.utf8)) && usable
    }

    /// Whether `text` has the shape of a bcrypt hash libxcrypt verifies: `$2a$`, `$2b$` or `$2y$`, a two-digit
    /// cost in range, and 53 characters of bcrypt's base64.
    public static func isHash(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == self.hashLength, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
            [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
            bytes[6] == UInt8(ascii: "$"), let cost = Int(String(decoding: bytes[4..<6], as: UTF8.self)),
            self.costs.contains(cost)
        else {
            return false
        }
        return bytes[7...].allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "/"):
                return true
            default:
                return false
            }
        }
    }

    /// The cost a bcrypt hash was made with, or `nil` when it is not one.
    public static func cost(of hash: String) -> Int? {
        guard self.isHash(hash) else {
            return nil
        }
        return Int(String(decoding: Array(hash.utf8)[4..<6], as: UTF8.self))
    }

    private static func isUsable(password: [UInt8]) -> Bool {
        !password.isEmpty && password.count <= self.maximumPasswordLength && !password.contains(0)
    }

    /// crypt_ra: reentrant, with its work area (about 32 KiB) allocated per call and freed here.
    private static func crypt(_ phrase: [UInt8], setting: [CChar]) -> String? {
        let phrase = phrase.map { CChar(bitPattern: $0) } + [0]
        var data: UnsafeMutableRawPointer?
        var size: Int32 = 0
        defer {
            // The work area held the password: wipe it before it goes back to malloc.
            if let data {
                explicit_bzero(data, Int(size))
            }
            free(data)
        }
        guard let result = crypt_ra(phrase, setting, &data, &size) else {
            return nil
        }
        // libxcrypt reports some failures as a hash starting with "*" rather than a null pointer.
        let text = String(cString: result)
        return text.hasPrefix("*") ? nil : text
    }
}

/// Whether `a` and `b` are equal, in a time that depends on their lengths only, never on where they differ.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt(bitPattern: a.count ^ b.count)
    for index in 0..<min(a.count, b.count) {
        difference |= UInt(a[index] ^ b[index])
    }
    return difference == 0
}
