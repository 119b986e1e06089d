import Testing

@testable import AuthServerCore

@Suite("bcrypt through libxcrypt")
struct BcryptTests {
    @Test("a hash verifies its password and no other")
    func roundTrip() throws {
        let hash = try Bcrypt.hash("s3cret pass", cost: 4)
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(hash.utf8.count == 60)
        #expect(Bcrypt.isHash(hash))
        #expect(Bcrypt.cost(of: hash) == 4)
        #expect(Bcrypt.verify(Array("s3cret pass".utf8), against: hash))
        #expect(!Bcrypt.verify(Array("s3cret pasS".utf8), against: hash))
        #expect(!Bcrypt.verify(Array("s3cret pas".utf8), against: hash))
        #expect(!Bcrypt.verify([], against: hash))
    }

    @Test("every hash has its own salt")
    func salts() throws {
        #expect(try Bcrypt.hash("same", cost: 4) != Bcrypt.hash("same", cost: 4))
    }

    // Vectors of the crypt_blowfish test suite (Openwall), made by another implementation.
    @Test(
        "known vectors",
        arguments: [
            ("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"),
            ("$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "U*U*"),
            ("$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "U*U*U"),
            (
                "$2b$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
                "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            ),
        ]
    )
    func vectors(_ hash: String, _ password: String) {
        #expect(Bcrypt.verify(Array(password.utf8), against: hash))
        #expect(!Bcrypt.verify(Array((password + "x").utf8), against: hash))
    }

    @Test("passwords bcrypt would cut or cannot take are refused, never matched")
    func unusablePasswords() throws {
        let long = String(repeating: "a", count: 72)
        let hash = try Bcrypt.hash(long, cost: 4)
        // bcrypt reads 72 bytes: a longer password would match the hash of its first 72.
        #expect(!Bcrypt.verify(Array((long + "b").utf8), against: hash))
        #expect(throws: Bcrypt.HashError.self) { try Bcrypt.hash(long + "b", cost: 4) }
        #expect(throws: Bcrypt.HashError.self) { try Bcrypt.hash("", cost: 4) }
        #expect(throws: Bcrypt.HashError.self) { try Bcrypt.hash("a\u{0}b", cost: 4) }
        let short = try Bcrypt.hash("a", cost: 4)
        #expect(!Bcrypt.verify(Array("a".utf8) + [0, UInt8(ascii: "b")], against: short))
    }

    @Test("costs out of range are refused")
    func costs() {
        #expect(throws: Bcrypt.HashError.self) { try Bcrypt.hash("x", cost: 3) }
        #expect(throws: Bcrypt.HashError.self) { try Bcrypt.hash("x", cost: 32) }
    }

    @Test(
        "what is not a bcrypt hash never verifies",
        arguments: [
            "", "x", "$1$saltsalt$abcdefghijklmnopqrstuv",
            "$2b$03$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
            "$2x$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
            "$2b$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBu",
            "$2b$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBu!",
        ]
    )
    func notHashes(_ text: String) {
        #expect(!Bcrypt.isHash(text))
        #expect(!Bcrypt.verify(Array("U*U".utf8), against: text))
    }

    @Test("constant-time comparison")
    func comparison() {
        #expect(constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!constantTimeEquals(Array("abc".utf8), Array("ab".utf8)))
        #expect(!constantTimeEquals([], Array("a".utf8)))
        #expect(constantTimeEquals([], []))
    }
}
