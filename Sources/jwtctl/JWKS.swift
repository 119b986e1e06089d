import ArgumentParser
import Foundation
import JWTIssuer

struct JWKS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwks",
        abstract: "Print a JWKS for auth_jwt_key_file: an oct key for a secret, the public part of a PEM key."
    )

    @Option(name: .long, help: "HMAC secret (UTF-8, at least 32 bytes).")
    var secret: String?

    @Option(name: .long, help: "PEM key file, private or public (RSA, P-256/384/521, Ed25519).")
    var pem: String?

    @Option(name: .long, help: "The key's kid.")
    var kid: String?

    @Option(name: .long, help: "The key's alg, pinning it.")
    var alg: String?

    func validate() throws {
        guard (secret == nil) != (pem == nil) else {
            throw ValidationError("give exactly one of --secret and --pem")
        }
    }

    func run() throws {
        var jwk: [String: String]
        var algorithms: [String]
        if let secret {
            let key = try hmacKey(Data(secret.utf8))
            (jwk, algorithms) = (key.publicJWK, key.algorithms)
        } else {
            (jwk, algorithms) = try publicKey(pemFile: pem!)
        }
        if let alg {
            guard algorithms.contains(alg) else {
                throw Failure.usage(
                    "alg \(alg) does not fit this key (use one of \(algorithms.joined(separator: ", ")))"
                )
            }
            jwk["alg"] = alg
        }
        if let kid { jwk["kid"] = kid }
        let text = try JSONSerialization.data(
            withJSONObject: ["keys": [jwk]],
            options: [.sortedKeys, .withoutEscapingSlashes]
        )
        print(String(decoding: text, as: UTF8.self))
    }

    /// The public JWK of a PEM file's first private key, else of its first public key.
    private func publicKey(pemFile path: String) throws -> ([String: String], [String]) {
        let text = String(decoding: try readFile(path), as: UTF8.self)
        do {
            if let block = PEMBlock.first(in: text, labelSuffix: "PRIVATE KEY") {
                let key = try block.privateKey()
                return (key.publicJWK, key.algorithms)
            }
            if let block = PEMBlock.first(in: text, labelSuffix: "PUBLIC KEY") {
                let jwk = try block.publicJWK()
                return (jwk, algorithms(for: jwk))
            }
            throw Failure.usage("no PEM key in the file")
        } catch let failure as SigningKeyError {
            throw Failure.usage("\(path): \(failure.description)")
        } catch let failure as Failure {
            throw Failure.usage("\(path): \(failure.message)")
        }
    }

    private func algorithms(for jwk: [String: String]) -> [String] {
        switch (jwk["kty"], jwk["crv"]) {
        case ("RSA", _): ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
        case ("EC", "P-256"): ["ES256"]
        case ("EC", "P-384"): ["ES384"]
        case ("EC", "P-521"): ["ES512"]
        default: ["EdDSA"]
        }
    }
}
