import Foundation
import Testing

@testable import AuthServerCore

@Suite("The users file")
struct UserDirectoryTests {
    static let hash4 = "$2b$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e"
    static let hash5 = "$2b$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"

    @Test("entries with defaults")
    func parse() throws {
        let file = """
            {"users": [
              {"username": "alice", "password_hash": "\(Self.hash5)", "roles": ["dev", "admin"],
               "session_idle_timeout": 60},
              {"username": "bob.b@example-1_x", "password_hash": "\(Self.hash4)"}
            ]}
            """
        let users = try UserDirectory(contentsOf: Data(file.utf8))
        #expect(users.count == 2)
        #expect(
            users["alice"]
                == User(username: "alice", passwordHash: Self.hash5, roles: ["dev", "admin"], sessionIdleTimeout: 60)
        )
        let bob = try #require(users["bob.b@example-1_x"])
        #expect(bob.roles == [])
        #expect(bob.sessionIdleTimeout == UserDirectory.defaultIdleTimeout)
        #expect(users["carol"] == nil)
    }

    @Test("an unknown user is hashed against a decoy of the file's highest cost, and refused")
    func decoy() throws {
        let users = try UserDirectory(users: [
            User(username: "a", passwordHash: Self.hash4, roles: [], sessionIdleTimeout: 1),
            User(username: "b", passwordHash: Self.hash5, roles: [], sessionIdleTimeout: 1),
        ])
        #expect(Bcrypt.cost(of: users.decoyHash) == 5)
        #expect(users.authenticate(username: "nobody", password: Array("decoy password: never a user's".utf8)) == nil)
        #expect(
            users.authenticate(
                username: "b",
                password: Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
            )?.username == "b"
        )
        #expect(users.authenticate(username: "b", password: Array("wrong".utf8)) == nil)
    }

    @Test(
        "refused files name the problem",
        arguments: [
            ("", "not a users file"),
            ("[]", "not a users file"),
            (#"{"users": [{"username": "a"}]}"#, "missing \"password_hash\" at users.[0]"),
            (
                #"{"users": [{"username": "a", "password_hash": "x"}]}"#,
                "user \"a\": password_hash is not a bcrypt hash"
            ),
            (#"{"users": [{"username": "a b", "password_hash": "\#(hash4)"}]}"#, "user \"a b\": a username is"),
            (#"{"users": [{"username": "", "password_hash": "\#(hash4)"}]}"#, "user \"\": a username is"),
            (
                #"{"users": [{"username": "a", "password_hash": "\#(hash4)", "session_idle_timeout": -2}]}"#,
                "session_idle_timeout must be -1 or at least 0"
            ),
            (
                #"{"users": [{"username": "a", "password_hash": "\#(hash4)"},"#
                    + #"{"username": "a", "password_hash": "\#(hash4)"}]}"#,
                "user \"a\" is listed twice"
            ),
            (#"{"users": [{"username": "a", "password_hash": "\#(hash4)", "roles": "dev"}]}"#, "at users.[0].roles"),
        ]
    )
    func refused(_ file: String, _ message: String) {
        do {
            _ = try UserDirectory(contentsOf: Data(file.utf8))
            Issue.record("accepted \(file)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test("a file that cannot be read is named")
    func unreadable() {
        #expect(throws: UserDirectory.LoadError(description: "cannot read /nonexistent/users.json")) {
            try UserDirectory(file: "/nonexistent/users.json")
        }
    }
}
