import ArgumentParser
import Foundation
import JWTIssuer

struct Encrypt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encrypt a claims set (or, with --nested, a signed token) and print the compact JWE.",
        discussion: """
            The key is the recipient's: a JWK or JWKS (oct k for dir, A*KW and A*GCMKW; RSA or EC public or \
            private, whose public part is used) or a PEM key. With --nested the plaintext is a compact JWS, and \
            the header gets "cty": "JWT" (a nested JWT, auth_jwt_type nested); otherwise it is the claims set \
            (auth_jwt_type encrypted). The alg defaults to the JWK's "alg", else dir for a secret, RSA-OAEP-256 \
            for RSA and ECDH-ES+A256KW for EC keys.
            """
    )

    @Option(name: .long, help: "The recipient's key file: JWK, JWKS or PEM.")
    var key: String

    @Option(name: .long, help: "Key management: dir, A128KW..A256KW, A128GCMKW..A256GCMKW, RSA-OAEP, RSA-OAEP-256, ECDH-ES[+A128KW..A256KW].")
    var alg: String?

    @Option(name: .long, help: "Content encryption: A128GCM, A192GCM, A256GCM, A128CBC-HS256, A192CBC-HS384, A256CBC-HS512.")
    var enc: String = "A256GCM"

    @Option(name: .long, help: "Key id for the header (default: the JWK's kid); selects the key in a JWKS.")
    var kid: String?

    @Option(name: .long, help: "Extra JOSE header members, as a JSON object.")
    var header: String?

    @Flag(name: .long, help: "The plaintext is a compact JWS: make a nested JWT.")
    var nested = false

    @Argument(help: "The claims set (or the JWS); \"-\" or nothing reads standard input.")
    var plaintext: String?

    func run() throws {
        let loaded = try LoadedEncryptionKey(file: key, kid: kid)
        let algorithm = alg ?? loaded.alg ?? Self.defaultAlgorithm(for: loaded.key)
        let encrypter = try TokenEncrypter(loaded.key, algorithm: algorithm, encryption: enc, keyID: kid ?? loaded.kid)
        let members = try header.map { try jsonObject($0, what: "--header") } ?? [:]
        let text = argumentOrStandardInput(plaintext).trimmingCharacters(in: .whitespacesAndNewlines)
        if nested {
            print(try encrypter.nest(text, header: members))
        } else {
            print(try encrypter.encrypt(Data(try jsonObjectText(text, what: "claims").utf8), header: members))
        }
    }

    private static func defaultAlgorithm(for key: EncryptionKey) -> String {
        let algorithms = key.algorithms
        for preferred in ["dir", "RSA-OAEP-256", "ECDH-ES+A256KW"] where algorithms.contains(preferred) {
            return preferred
        }
        return algorithms.first ?? "dir"
    }
}
