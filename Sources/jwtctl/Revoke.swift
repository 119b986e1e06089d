import ArgumentParser
import Foundation
import JWTIssuer
import SessionCore
import SessionStore

struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Revoke tokens without a reload: write a revocation record that auth_jwt_revocation finds.",
        discussion: """
            KEY is the revocation key as auth_jwt_revocation key= computes it, such as revoked:jti:<jti> or \
            revoked:sub:<sub>. The record ({"revoked_at":<now>}) expires with the tokens it revokes: give \
            --until (seconds since the Epoch), --ttl, or --token (the token's exp, read WITHOUT verifying its \
            signature: it only sets when the revocation ends); a revocation that never expires needs \
            --forever. A time already past is refused (exit 2).
            """
    )

    @OptionGroup var store: StoreOptions

    @Argument(help: "The revocation key.")
    var key: String

    @Option(name: .long, parsing: .unconditional, help: "Expire the revocation at this time (seconds since the Epoch).")
    var until: Int64?

    @Option(name: .long, help: "Expire the revocation after this many seconds.")
    var ttl: Int64?

    @Option(name: .long, help: "Expire the revocation at this token's exp (its signature is not checked).")
    var token: String?

    @Flag(name: .long, help: "Never expire the revocation.")
    var forever = false

    func validate() throws {
        let lifetimes = [until != nil, ttl != nil, token != nil, forever].filter { $0 }.count
        guard lifetimes <= 1 else {
            throw ValidationError("give one of --until, --ttl, --token and --forever")
        }
        guard lifetimes == 1 else {
            throw ValidationError(
                "a revocation needs an end: --until, --ttl or --token (or --forever for one that never expires)"
            )
        }
        guard (ttl ?? 1) > 0 else {
            throw ValidationError("--ttl must be positive")
        }
    }

    func run() throws {
        let now = currentTime()
        let expiry = try self.expiry(now: now)
        if let expiry, !Revocation.isLive(until: expiry, now: now) {
            throw Failure.usage("the revocation would end at \(expiry), which is not after now (\(now)): not written")
        }
        let sessions = try store.makeStore()
        try storeOperation { () throws(SessionError) in
            try sessions.revoke(key: key, revokedAt: now, until: expiry ?? 0)
        }
        print(expiry.map { "revoked until \($0)" } ?? "revoked, without expiry")
    }

    /// When the revocation ends, in seconds since the Epoch; nil for never.
    private func expiry(now: Int64) throws -> Int64? {
        if let until {
            return until
        }
        if let ttl {
            let (expiry, overflow) = now.addingReportingOverflow(ttl)
            guard !overflow else {
                throw Failure.usage("--ttl is too large")
            }
            return expiry
        }
        if let token {
            return try Self.expiration(of: token)
        }
        return nil
    }

    /// A signed token's exp, read without verifying the token.
    static func expiration(of token: String) throws -> Int64 {
        let segments = token.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: ".",
            omittingEmptySubsequences: false
        )
        guard segments.count == 3, let payload = Data(base64URLEncoded: String(segments[1])),
            let claims = try? JSONSerialization.jsonObject(with: payload) as? [String: Any]
        else {
            throw Failure.usage("--token is not a signed JWT (three base64url segments with a JSON object payload)")
        }
        guard let exp = claims["exp"] as? NSNumber, !(exp is Bool), exp.doubleValue.isFinite,
            let seconds = Int64(exactly: exp.doubleValue.rounded(.down))
        else {
            throw Failure.usage("--token has no numeric exp claim: give --until or --ttl")
        }
        return seconds
    }
}

struct Unrevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a revocation record (exit 0 whether or not there was one; it says which)."
    )

    @OptionGroup var store: StoreOptions

    @Argument(help: "The revocation key.")
    var key: String

    func run() throws {
        let sessions = try store.makeStore()
        let deleted = try storeOperation { () throws(SessionError) in try sessions.delete(key: key) }
        print(deleted ? "unrevoked" : "not revoked (no record)")
    }
}
