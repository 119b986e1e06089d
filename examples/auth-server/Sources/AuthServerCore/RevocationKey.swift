/// A revocation key template (`--revoke-key`): the key of the revocation record written at logout for the access
/// token presented, with `{tokenId}` or `{sub}` replaced by that token's claim, such as `revoked:jti:{tokenId}`
/// (nginx: `auth_jwt_revocation key=revoked:jti:$jwt_claim_tokenId;`).
public struct RevocationKeyTemplate: Sendable, Hashable, CustomStringConvertible {
    /// The claims a template may name.
    enum Claim: String, CaseIterable, Sendable {
        case tokenID = "tokenId"
        case subject = "sub"
    }

    enum Part: Sendable, Hashable {
        case text(String)
        case claim(Claim)
    }

    let parts: [Part]
    public let description: String

    /// Parses a template: text with at least one `{tokenId}` or `{sub}`, and no other braces.
    public init(_ template: String) throws(ConfigurationError) {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else {
                throw Self.invalid(template)
            }
            guard let claim = Claim(rawValue: String(rest[rest.index(after: open)..<close])) else {
                throw Self.invalid(template)
            }
            if open > rest.startIndex {
                parts.append(.text(String(rest[..<open])))
            }
            parts.append(.claim(claim))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty {
            parts.append(.text(String(rest)))
        }
        guard parts.contains(where: { if case .claim = $0 { true } else { false } }) else {
            throw Self.invalid(template)
        }
        guard !template.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw ConfigurationError("revocation key \"\(template)\": no spaces or control characters")
        }
        self.parts = parts
        self.description = template
    }

    /// The key for a token's claims.
    func key(for claims: AccessClaims) -> String {
        self.parts.map { part in
            switch part {
            case .text(let text): text
            case .claim(.tokenID): claims.tokenID
            case .claim(.subject): claims.subject
            }
        }.joined()
    }

    private static func invalid(_ template: String) -> ConfigurationError {
        ConfigurationError(
            "revocation key \"\(template)\": name the token's claim as {tokenId} or {sub}, "
                + "such as revoked:jti:{tokenId}"
        )
    }
}
