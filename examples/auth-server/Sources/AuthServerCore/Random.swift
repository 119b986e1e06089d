import Foundation
import JWTIssuer

/// `count` bytes from the system CSPRNG (`getrandom(2)` on Linux), as unpadded base64url.
func randomToken(bytes count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64URLEncoded
}
