import ArgumentParser
import CAuthJWT
import Foundation

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a token exactly as nginx does and print its claims.",
        discussion: """
            Builds the key set and verifies through the module's own C entry points (ajwt.h). \
            Exit 0 printing the payload JSON; exit 1 printing "<STATUS>: <reason>" to standard error; \
            exit 2 for usage or key-file errors.
            """
    )

    @Option(name: .long, help: "Key file: JWKS, JWK or PEM key(s), as auth_jwt_key_file reads it. Repeatable.")
    var key: [String] = []

    @Option(name: .long, help: "signed, encrypted or nested (auth_jwt_type); the key files then hold decryption keys too.")
    var type: TokenType = .signed

    @Option(name: .long, help: "Tolerance for exp and nbf, in seconds (auth_jwt_leeway).")
    var leeway: Int64 = 0

    @Option(name: .long, help: "The time to verify at, in seconds since the Epoch (default: now).")
    var now: Int64?

    @Argument(help: "The compact token; \"-\" or nothing reads standard input.")
    var token: String?

    func validate() throws {
        guard !key.isEmpty else { throw ValidationError("at least one --key is required") }
        guard leeway >= 0 else { throw ValidationError("--leeway must not be negative") }
    }

    func run() throws {
        let keys = ajwt_keyset_create()
        defer { ajwt_keyset_free(keys) }
        for path in key {
            let contents = try readFile(path)
            var error = [CChar](repeating: 0, count: 256)
            let added = contents.withUnsafeBytes { bytes in
                ajwt_keyset_add(
                    keys,
                    bytes.bindMemory(to: UInt8.self).baseAddress,
                    bytes.count,
                    &error,
                    error.count
                )
            }
            guard added >= 0 else {
                let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw Failure.usage("invalid key file \"\(path)\": \(message)")
            }
        }

        let compact = Array(argumentOrStandardInput(token).utf8)
        var scratch = [UInt8](repeating: 0, count: ajwt_scratch_size(compact.count))
        var verified = ajwt_token_t()
        var reason: UnsafePointer<CChar>?
        let time = now ?? Int64(Date().timeIntervalSince1970)
        let status = compact.withUnsafeBufferPointer { token in
            scratch.withUnsafeMutableBufferPointer { scratch in
                ajwt_open(
                    keys,
                    type.abi,
                    token.baseAddress,
                    token.count,
                    scratch.baseAddress,
                    scratch.count,
                    time,
                    leeway,
                    &verified,
                    &reason
                )
            }
        }
        guard status == AJWT_OK else {
            let name = String(cString: ajwt_status_name(status))
            throw Failure.rejected("\(name): \(reason.map { String(cString: $0) } ?? "rejected")")
        }
        // The spans point into scratch, which is alive here.
        let payload = scratch.withUnsafeBufferPointer { buffer in
            let start = verified.payload.data! - UnsafePointer(buffer.baseAddress!)
            return String(decoding: buffer[start..<start + verified.payload.len], as: UTF8.self)
        }
        print(payload)
    }
}

/// `--type`, as `auth_jwt_type` spells it.
enum TokenType: String, ExpressibleByArgument, CaseIterable {
    case signed, encrypted, nested

    var abi: ajwt_type_t {
        switch self {
        case .signed: return AJWT_TYPE_SIGNED
        case .encrypted: return AJWT_TYPE_ENCRYPTED
        case .nested: return AJWT_TYPE_NESTED
        }
    }
}
