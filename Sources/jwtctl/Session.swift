import ArgumentParser
import AuthJWT
import CAuthJWT
import Foundation
import JWTCore
import SessionCore
import SessionStore

struct Session: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, show, check and delete session records in memcached, as an auth server does.",
        discussion: """
            A record is the JSON object auth_jwt_session reads: \
            {"fingerprint":...,"last_access_time":...,"session_idle_timeout":...,"expires_at":...}. \
            Servers are picked by consistent hashing (libketama compatible), as the module picks them.
            """,
        subcommands: [Create.self, Show.self, Check.self, Delete.self]
    )
}

/// The memcached servers to talk to.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "A memcached server, host:port ([IPv6]:port). Repeatable. (default: 127.0.0.1:11211)")
    var server: [String] = []

    @Option(name: .long, help: "Connect and I/O timeout, in milliseconds.")
    var timeout: UInt32 = 1000

    var servers: [String] {
        self.server.isEmpty ? ["127.0.0.1:11211"] : self.server
    }

    func makeStore() throws -> SessionStore {
        do {
            return try SessionStore(servers: self.servers, timeoutMilliseconds: self.timeout)
        } catch {
            throw Failure.usage(error.description)
        }
    }
}

/// Runs a store operation, mapping its refusal to exit status 2.
func storeOperation<Result>(_ body: () throws(SessionError) -> Result) throws -> Result {
    do {
        return try body()
    } catch {
        throw Failure.usage(error.description)
    }
}

/// The current time in seconds since the Epoch.
func currentTime() -> Int64 {
    Int64(Date().timeIntervalSince1970)
}

extension Session {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a session record (as an auth server does at login).",
            discussion: """
                The memcached entry expires at expires_at. memcached reads an expiry of 30 days (2592000) or less \
                as relative to now, so --expires-at must be a real Unix time.
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(name: .long, help: "The session key (as auth_jwt_session key= computes it).")
        var key: String

        @Option(name: .long, help: "The client fingerprint the session is bound to (default: none, no check).")
        var fingerprint: String?

        @Option(
            name: .long,
            parsing: .unconditional,
            help: "session_idle_timeout in seconds; -1 turns the idle check off."
        )
        var idleTimeout: Int64 = 1800

        @Option(
            name: .long,
            parsing: .unconditional,
            help: "expires_at, in seconds since the Epoch (default: now + --ttl)."
        )
        var expiresAt: Int64?

        @Option(name: .long, help: "Lifetime in seconds, when --expires-at is not given (default 86400).")
        var ttl: Int64?

        @Option(
            name: .long,
            parsing: .unconditional,
            help: "last_access_time, in seconds since the Epoch (default: now)."
        )
        var lastAccess: Int64?

        func validate() throws {
            guard idleTimeout >= -1 else { throw ValidationError("--idle-timeout must be -1 or at least 0") }
            guard expiresAt == nil || ttl == nil else {
                throw ValidationError("give --expires-at or --ttl, not both")
            }
            guard (ttl ?? 1) > 0 else { throw ValidationError("--ttl must be positive") }
        }

        func run() throws {
            let now = currentTime()
            let lastAccessTime = lastAccess ?? now
            let (expiry, overflow) = now.addingReportingOverflow(ttl ?? 86400)
            guard let expires = expiresAt ?? (overflow ? nil : expiry) else {
                throw Failure.usage("--ttl is too large")
            }
            var members: [String] = []
            if let fingerprint {
                members.append(#""fingerprint":"# + (try jsonString(fingerprint)))
            }
            members.append(#""last_access_time":\#(lastAccessTime)"#)
            members.append(#""session_idle_timeout":\#(idleTimeout)"#)
            members.append(#""expires_at":\#(expires)"#)
            let record = "{" + members.joined(separator: ",") + "}"
            let sessions = try store.makeStore()
            try storeOperation { () throws(SessionError) in
                try sessions.create(key: key, record: Array(record.utf8), expiresAt: expires)
            }
            print(record)
        }

        /// A JSON string literal.
        private func jsonString(_ text: String) throws -> String {
            let data = try JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed])
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the session record under a key (exit 1 if there is none)."
        )

        @OptionGroup var store: StoreOptions

        @Option(name: .long, help: "The session key.")
        var key: String

        func run() throws {
            let sessions = try store.makeStore()
            let record = try storeOperation { () throws(SessionError) in try sessions.record(forKey: key) }
            guard let record else {
                throw Failure.rejected("no session record")
            }
            print(String(decoding: record, as: UTF8.self))
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a session exactly as nginx does, touching it when due.",
            discussion: """
                Reads and touches the record as the module does, with the same decision (ajwt_session_decide). \
                Exit 0 printing OK; exit 1 printing "<STATUS>: <reason>" to standard error; exit 2 for usage errors.
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(name: .long, help: "The session key.")
        var key: String

        @Option(name: .long, help: "The request's fingerprint (default: none).")
        var fingerprint: String?

        @Option(
            name: .long,
            parsing: .unconditional,
            help: "Touch interval in seconds (auth_jwt_session touch=); half the idle timeout when sooner."
        )
        var touch: Int64 = 1

        @Option(
            name: .long,
            parsing: .unconditional,
            help: "The time to check at, in seconds since the Epoch (default: now)."
        )
        var now: Int64?

        func run() throws {
            let sessions = try store.makeStore()
            let key = Array(key.utf8)
            let fingerprint = Array((fingerprint ?? "").utf8)
            let time = now ?? currentTime()
            do {
                try key.withUnsafeBytes { key in
                    try fingerprint.withUnsafeBytes { fingerprint in
                        try sessions.check(key: key, fingerprint: fingerprint, now: time, touch: touch)
                    }
                }
            } catch let error as SessionError {
                throw Failure.rejected("\(String(cString: ajwt_status_name(error.status.cStatus))): \(error.reason)")
            }
            print("OK")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the session record under a key (as an auth server does at logout; exit 1 if none)."
        )

        @OptionGroup var store: StoreOptions

        @Option(name: .long, help: "The session key.")
        var key: String

        func run() throws {
            let sessions = try store.makeStore()
            let deleted = try storeOperation { () throws(SessionError) in try sessions.delete(key: key) }
            guard deleted else {
                throw Failure.rejected("no session record")
            }
        }
    }
}
