import ArgumentParser
import Foundation
import JWTIssuer

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign a claims set and print the compact JWS.",
        discussion: """
            The key is a JWK or JWKS with private members (oct k; RSA n,e,d,p,q; EC crv,x,y,d; OKP Ed25519 x,d) \
            or a PEM private key (PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY); --secret signs with HMAC. \
            The algorithm defaults from the key (oct HS256, RSA RS256, P-256 ES256, P-384 ES384, P-521 ES512, \
            Ed25519 EdDSA); a JWK's "alg" is its default too.
            """
    )

    @Option(name: .long, help: "Private key file: JWK, JWKS or PEM.")
    var key: String?

    @Option(name: .long, help: "HMAC secret (UTF-8, at least 32 bytes).")
    var secret: String?

    @Option(name: .long, help: "HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA.")
    var alg: String?

    @Option(name: .long, help: "Key id for the header (default: the JWK's kid); selects the key in a JWKS.")
    var kid: String?

    @Option(name: .long, help: "Extra JOSE header members, as a JSON object.")
    var header: String?

    @Argument(help: "The claims set, a JSON object; \"-\" or nothing reads standard input.")
    var claims: String?

    func validate() throws {
        guard (key == nil) != (secret == nil) else {
            throw ValidationError("give exactly one of --key and --secret")
        }
    }

    func run() throws {
        let loaded =
            if let secret {
                LoadedKey(key: try hmacKey(Data(secret.utf8)), kid: nil, alg: nil)
            } else {
                try LoadedKey(file: key!, kid: kid)
            }
        let signer = try TokenSigner(loaded, algorithm: alg, keyID: kid)
        let payload = try jsonObjectText(argumentOrStandardInput(claims), what: "claims")
        let members = try header.map { try jsonObject($0, what: "--header") } ?? [:]
        print(try signer.sign(payload: Data(payload.utf8), header: members))
    }
}

/// Parses a JSON object, or fails with exit status 2.
func jsonObject(_ text: String, what: String) throws -> [String: Any] {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw Failure.usage("\(what) must be a JSON object")
    }
    return object
}

/// Checks that a text is a JSON object and returns it as given (so claim order and number spelling stay).
func jsonObjectText(_ text: String, what: String) throws -> String {
    _ = try jsonObject(text, what: what)
    return text
}
