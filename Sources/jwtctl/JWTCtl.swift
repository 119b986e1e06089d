// jwtctl: mint, verify and publish JSON Web Tokens the way the nginx module sees them.
//
// `verify` goes through the module's own C entry points (ajwt.h), so it decides exactly as nginx does.

import ArgumentParser
import Foundation
import JWTIssuer

@main
struct JWTCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwtctl",
        abstract: "Sign, verify and publish JSON Web Tokens as ngx_http_auth_jwt_module checks them.",
        discussion: """
            Exit status: 0 on success, 1 when a token is rejected (verify), 2 for usage and key errors.
            """,
        subcommands: [Sign.self, Encrypt.self, Verify.self, JWKS.self, Session.self, Revoke.self, Unrevoke.self]
    )

    /// Runs the command, mapping errors to the documented exit statuses: ArgumentParser's own usage
    /// errors exit 2 (not its default 64), as do key-file errors; a rejected token exits 1.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as Failure {
            FileHandle.standardError.write(Data((failure.message + "\n").utf8))
            Foundation.exit(failure.status)
        } catch let failure as SigningKeyError {
            FileHandle.standardError.write(Data((failure.description + "\n").utf8))
            Foundation.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// A failure with its exit status and message.
struct Failure: Error {
    var status: Int32
    var message: String

    /// A rejected token (exit 1).
    static func rejected(_ message: String) -> Failure { Failure(status: 1, message: message) }

    /// A usage, input or key error (exit 2).
    static func usage(_ message: String) -> Failure { Failure(status: 2, message: message) }
}

/// Reads a file's bytes, or fails with exit status 2 naming it.
func readFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw Failure.usage("cannot read \(path)")
    }
    return data
}

/// Reads a positional argument, or standard input when it is absent or "-", without surrounding whitespace.
func argumentOrStandardInput(_ argument: String?) -> String {
    let text: String
    if let argument, argument != "-" {
        text = argument
    } else {
        text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}
