import Foundation

/// One account of the users file.
public struct User: Sendable, Hashable {
    public let username: String
    /// A bcrypt hash (`auth-server hash-password` makes one).
    public let passwordHash: String
    /// Put in the access token's `roles` claim.
    public let roles: [String]
    /// Written into every session record of the user: seconds of inactivity allowed, `-1` for no idle check.
    public let sessionIdleTimeout: Int64
}

/// The users file: who may log in, with which password, roles and idle timeout.
///
///     {"users": [
///       {"username": "alice", "password_hash": "$2b$12$...", "roles": ["dev"], "session_idle_timeout": 1800}
///     ]}
///
/// `roles` defaults to none, `session_idle_timeout` to 1800 seconds. Usernames are 1 to 64 of `A-Z a-z 0-9 . _ @ -`:
/// they go into memcached keys (the per-user session index).
public struct UserDirectory: Sendable {
    public static let defaultIdleTimeout: Int64 = 1800
    static let maximumUsernameLength = 64

    private let users: [String: User]
    /// What a login for an unknown user hashes against, at the highest cost of the file's hashes, so that an
    /// unknown user and a wrong password take the same time.
    let decoyHash: String

    /// Why a users file was refused, naming the entry.
    public struct LoadError: Error, Hashable, CustomStringConvertible {
        public let description: String
    }

    public init(users: [User]) throws(LoadError) {
        var byName: [String: User] = [:]
        for user in users {
            guard Self.isValidUsername(user.username) else {
                throw LoadError(
                    description: "user \"\(user.username)\": a username is 1 to 64 of A-Z a-z 0-9 . _ @ -"
                )
            }
            guard Bcrypt.isHash(user.passwordHash) else {
                throw LoadError(description: "user \"\(user.username)\": password_hash is not a bcrypt hash ($2b$...)")
            }
            guard user.sessionIdleTimeout >= -1 else {
                throw LoadError(description: "user \"\(user.username)\": session_idle_timeout must be -1 or at least 0")
            }
            guard byName.updateValue(user, forKey: user.username) == nil else {
                throw LoadError(description: "user \"\(user.username)\" is listed twice")
            }
        }
        self.users = byName
        let cost = users.compactMap { Bcrypt.cost(of: $0.passwordHash) }.max() ?? Bcrypt.defaultCost
        do {
            self.decoyHash = try Bcrypt.hash("decoy password: never a user's", cost: cost)
        } catch {
            throw LoadError(description: "cannot make the decoy hash: \(error)")
        }
    }

    /// Reads a users file (format above).
    public init(contentsOf data: Data) throws(LoadError) {
        let file: UsersFile
        do {
            file = try JSONDecoder().decode(UsersFile.self, from: data)
        } catch {
            throw LoadError(description: "not a users file ({\"users\": [...]}): \(Self.describe(error))")
        }
        try self.init(
            users: file.users.map {
                User(
                    username: $0.username,
                    passwordHash: $0.passwordHash,
                    roles: $0.roles ?? [],
                    sessionIdleTimeout: $0.sessionIdleTimeout ?? Self.defaultIdleTimeout
                )
            }
        )
    }

    public init(file path: String) throws(LoadError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "cannot read \(path)")
        }
        do {
            try self.init(contentsOf: data)
        } catch {
            throw LoadError(description: "\(path): \(error.description)")
        }
    }

    public subscript(username: String) -> User? {
        self.users[username]
    }

    public var count: Int { self.users.count }

    /// The user whose password `password` is, or `nil`. Always hashes once, with a user's own hash or the decoy
    /// hash of the same cost, so that the time does not tell an unknown user from a wrong password.
    ///
    /// Blocks for the hash's time (about 0.25 s at cost 12): call it off the event loop.
    public func authenticate(username: String, password: [UInt8]) -> User? {
        let user = self.users[username]
        let matches = Bcrypt.verify(password, against: user?.passwordHash ?? self.decoyHash)
        return matches ? user : nil
    }

    static func isValidUsername(_ name: String) -> Bool {
        let bytes = name.utf8
        return (1...self.maximumUsernameLength).contains(bytes.count)
            && bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"),
                    UInt8(ascii: "-"):
                    return true
                default:
                    return false
                }
            }
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else {
            return "\(error)"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \"\(key.stringValue)\" at \(self.path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription) at \(self.path(context))"
        @unknown default:
            return "\(error)"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        guard !context.codingPath.isEmpty else {
            return "the top level"
        }
        return context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// The users file as JSON.
private struct UsersFile: Decodable {
    struct Entry: Decodable {
        var username: String
        var passwordHash: String
        var roles: [String]?
        var sessionIdleTimeout: Int64?

        enum CodingKeys: String, CodingKey {
            case username
            case passwordHash = "password_hash"
            case roles
            case sessionIdleTimeout = "session_idle_timeout"
        }
    }

    var users: [Entry]
}
