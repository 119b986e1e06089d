import Crypto
import CryptoExtras
import Foundation

/// A JWE `enc` (RFC 7518 §5.1), as the encrypter needs it.
struct ContentEncryption {
    let name: String
    let keyByteCount: Int
    let ivByteCount: Int

    static let all: [ContentEncryption] = [
        ContentEncryption(name: "A128GCM", keyByteCount: 16, ivByteCount: 12),
        ContentEncryption(name: "A192GCM", keyByteCount: 24, ivByteCount: 12),
        ContentEncryption(name: "A256GCM", keyByteCount: 32, ivByteCount: 12),
        ContentEncryption(name: "A128CBC-HS256", keyByteCount: 32, ivByteCount: 16),
        ContentEncryption(name: "A192CBC-HS384", keyByteCount: 48, ivByteCount: 16),
        ContentEncryption(name: "A256CBC-HS512", keyByteCount: 64, ivByteCount: 16),
    ]

    var isGCM: Bool { self.name.hasSuffix("GCM") }

    /// Encrypts `plaintext` with `cek` and `iv`, authenticating `aad`: the ciphertext and the tag.
    func seal(_ plaintext: Data, cek: Data, iv: Data, aad: Data) throws -> (ciphertext: Data, tag: Data) {
        if self.isGCM {
            let box = try AES.GCM.seal(
                plaintext,
                using: SymmetricKey(data: cek),
                nonce: try AES.GCM.Nonce(data: iv),
                authenticating: aad
            )
            return (box.ciphertext, box.tag)
        }
        // RFC 7518 §5.2.2.1: MAC_KEY is the first half of the CEK, ENC_KEY the second; the tag is the first half of
        // HMAC(MAC_KEY, AAD || IV || ciphertext || AL), AL being the AAD's length in bits as 64 bits big-endian.
        let half = cek.count / 2
        let macKey = SymmetricKey(data: cek.prefix(half))
        let encryptionKey = SymmetricKey(data: cek.suffix(half))
        let ciphertext = try AES._CBC.encrypt(plaintext, using: encryptionKey, iv: .init(ivBytes: iv))
        var macInput = aad + iv + ciphertext
        withUnsafeBytes(of: UInt64(aad.count * 8).bigEndian) { macInput.append(contentsOf: $0) }
        let mac: Data
        switch self.keyByteCount {
        case 32: mac = Data(HMAC<SHA256>.authenticationCode(for: macInput, using: macKey))
        case 48: mac = Data(HMAC<SHA384>.authenticationCode(for: macInput, using: macKey))
        default: mac = Data(HMAC<SHA512>.authenticationCode(for: macInput, using: macKey))
        }
        return (ciphertext, mac.prefix(half))
    }
}

/// Encrypts compact JWE (RFC 7516 §7.1) for one recipient key with one `alg` and one `enc`: what `jwtctl` and an auth
/// server use to mint encrypted and nested tokens.
///
/// Written apart from the module's decryption (JWTCore): it shares none of its code, so that a misreading of the
/// RFCs cannot cancel out between the two; both are tested against published vectors and Crypt::JWT's tokens.
public struct TokenEncrypter {
    public let key: EncryptionKey
    public let algorithm: String
    public let encryption: String
    /// The `kid` header member, naming the recipient's key.
    public let keyID: String?

    private let content: ContentEncryption

    /// An encrypter for `key` with `algorithm` (JWE `alg`) and `encryption` (JWE `enc`), refusing a pair the key
    /// cannot serve (a secret of the wrong length, an RSA key for ECDH-ES, ...).
    public init(
        _ key: EncryptionKey,
        algorithm: String,
        encryption: String,
        keyID: String? = nil
    ) throws(SigningKeyError) {
        guard let content = ContentEncryption.all.first(where: { $0.name == encryption }) else {
            throw SigningKeyError("unsupported enc \(encryption)")
        }
        guard key.algorithms.contains(algorithm) else {
            throw SigningKeyError(
                "alg \(algorithm) cannot be used with this key (use one of \(key.algorithms.joined(separator: ", ")))"
            )
        }
        if algorithm == "dir", case .symmetric(let secret) = key, secret.count != content.keyByteCount {
            throw SigningKeyError("dir with \(encryption) needs a \(content.keyByteCount)-byte key")
        }
        self.key = key
        self.algorithm = algorithm
        self.encryption = encryption
        self.keyID = keyID
        self.content = content
    }

    /// The compact JWE of `plaintext`. The protected header is `header`'s members with `alg`, `enc`, `kid` (when
    /// the encrypter has one) and the key management's own members (`epk`, `iv`, `tag`, `apu`, `apv`) set.
    public func encrypt(
        _ plaintext: Data,
        header: [String: Any] = [:],
        partyUInfo: Data? = nil,
        partyVInfo: Data? = nil
    ) throws -> String {
        var members = header
        members["alg"] = self.algorithm
        members["enc"] = self.encryption
        if let keyID = self.keyID {
            members["kid"] = keyID
        }
        if let partyUInfo {
            members["apu"] = partyUInfo.base64URLEncoded
        }
        if let partyVInfo {
            members["apv"] = partyVInfo.base64URLEncoded
        }
        let (cek, encryptedKey) = try self.contentEncryptionKey(
            header: &members,
            partyUInfo: partyUInfo ?? Data(),
            partyVInfo: partyVInfo ?? Data()
        )
        let headerText = try JSONSerialization.data(
            withJSONObject: members,
            options: [.sortedKeys, .withoutEscapingSlashes]
        )
        let protected = headerText.base64URLEncoded
        let iv = Self.randomBytes(self.content.ivByteCount)
        let sealed = try self.content.seal(plaintext, cek: cek, iv: iv, aad: Data(protected.utf8))
        return [
            protected, encryptedKey.base64URLEncoded, iv.base64URLEncoded, sealed.ciphertext.base64URLEncoded,
            sealed.tag.base64URLEncoded,
        ].joined(separator: ".")
    }

    /// A nested JWT (RFC 7519 §5.2): the compact JWS `jws` encrypted, with `cty` "JWT".
    public func nest(_ jws: String, header: [String: Any] = [:]) throws -> String {
        var members = header
        members["cty"] = "JWT"
        return try self.encrypt(Data(jws.utf8), header: members)
    }

    /// The CEK and the JWE Encrypted Key, adding to the header what the recipient needs to recover the CEK.
    private func contentEncryptionKey(
        header: inout [String: Any],
        partyUInfo: Data,
        partyVInfo: Data
    ) throws -> (cek: Data, encryptedKey: Data) {
        let cekByteCount = self.content.keyByteCount
        switch (self.key, self.algorithm) {
        case (.symmetric(let secret), "dir"):
            return (secret, Data())
        case (.symmetric(let kek), "A128KW"), (.symmetric(let kek), "A192KW"), (.symmetric(let kek), "A256KW"):
            let cek = Self.randomBytes(cekByteCount)
            return (cek, try AES.KeyWrap.wrap(SymmetricKey(data: cek), using: SymmetricKey(data: kek)))
        case (.symmetric(let kek), "A128GCMKW"), (.symmetric(let kek), "A192GCMKW"), (.symmetric(let kek), "A256GCMKW"):
            let cek = Self.randomBytes(cekByteCount)
            let iv = Self.randomBytes(12)
            let box = try AES.GCM.seal(cek, using: SymmetricKey(data: kek), nonce: try AES.GCM.Nonce(data: iv))
            header["iv"] = iv.base64URLEncoded
            header["tag"] = box.tag.base64URLEncoded
            return (cek, box.ciphertext)
        case (.rsa(let publicKey), "RSA-OAEP"):
            let cek = Self.randomBytes(cekByteCount)
            return (cek, try publicKey.encrypt(cek, padding: .PKCS1_OAEP))
        case (.rsa(let publicKey), "RSA-OAEP-256"):
            let cek = Self.randomBytes(cekByteCount)
            return (cek, try publicKey.encrypt(cek, padding: .PKCS1_OAEP_SHA256))
        default:
            return try self.agree(header: &header, partyUInfo: partyUInfo, partyVInfo: partyVInfo)
        }
    }

    /// ECDH-ES (RFC 7518 §4.6): an ephemeral key on the recipient's curve, its public part in `epk`; the agreed
    /// secret through Concat KDF is the CEK (`ECDH-ES`) or wraps a random CEK (`ECDH-ES+A*KW`).
    private func agree(
        header: inout [String: Any],
        partyUInfo: Data,
        partyVInfo: Data
    ) throws -> (cek: Data, encryptedKey: Data) {
        let sharedSecret: SharedSecret
        switch self.key {
        case .p256(let recipient):
            let ephemeral = P256.KeyAgreement.PrivateKey()
            header["epk"] = Self.ecJWK(crv: "P-256", x963: ephemeral.publicKey.x963Representation)
            sharedSecret = try ephemeral.sharedSecretFromKeyAgreement(with: recipient)
        case .p384(let recipient):
            let ephemeral = P384.KeyAgreement.PrivateKey()
            header["epk"] = Self.ecJWK(crv: "P-384", x963: ephemeral.publicKey.x963Representation)
            sharedSecret = try ephemeral.sharedSecretFromKeyAgreement(with: recipient)
        case .p521(let recipient):
            let ephemeral = P521.KeyAgreement.PrivateKey()
            header["epk"] = Self.ecJWK(crv: "P-521", x963: ephemeral.publicKey.x963Representation)
            sharedSecret = try ephemeral.sharedSecretFromKeyAgreement(with: recipient)
        case .x25519(let recipient):
            let ephemeral = Curve25519.KeyAgreement.PrivateKey()
            header["epk"] = [
                "kty": "OKP", "crv": "X25519", "x": ephemeral.publicKey.rawRepresentation.base64URLEncoded,
            ]
            sharedSecret = try ephemeral.sharedSecretFromKeyAgreement(with: recipient)
        default:
            throw SigningKeyError("alg \(self.algorithm) cannot be used with this key")
        }
        let z = sharedSecret.withUnsafeBytes { Data($0) }
        if self.algorithm == "ECDH-ES" {
            let cek = Self.concatKDF(
                z: z,
                byteCount: self.content.keyByteCount,
                algorithmID: self.encryption,
                partyUInfo: partyUInfo,
                partyVInfo: partyVInfo
            )
            return (cek, Data())
        }
        let wrapByteCount = Int(self.algorithm.suffix(5).prefix(3))! / 8
        let kek = Self.concatKDF(
            z: z,
            byteCount: wrapByteCount,
            algorithmID: self.algorithm,
            partyUInfo: partyUInfo,
            partyVInfo: partyVInfo
        )
        let cek = Self.randomBytes(self.content.keyByteCount)
        return (cek, try AES.KeyWrap.wrap(SymmetricKey(data: cek), using: SymmetricKey(data: kek)))
    }

    /// Concat KDF (NIST SP 800-56A §5.8.1) with SHA-256, as RFC 7518 §4.6.2 fixes its inputs.
    static func concatKDF(z: Data, byteCount: Int, algorithmID: String, partyUInfo: Data, partyVInfo: Data) -> Data {
        func lengthPrefixed(_ data: Data) -> Data {
            bigEndian(UInt32(data.count)) + data
        }
        func bigEndian(_ value: UInt32) -> Data {
            Data([UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
        }
        let otherInfo =
            lengthPrefixed(Data(algorithmID.utf8)) + lengthPrefixed(partyUInfo) + lengthPrefixed(partyVInfo)
            + bigEndian(UInt32(byteCount * 8))
        var output = Data()
        var counter: UInt32 = 1
        while output.count < byteCount {
            output += Data(SHA256.hash(data: bigEndian(counter) + z + otherInfo))
            counter += 1
        }
        return output.prefix(byteCount)
    }

    private static func ecJWK(crv: String, x963: Data) -> [String: String] {
        // x963: 0x04 || X || Y, each coordinate of the curve's width.
        let width = (x963.count - 1) / 2
        return [
            "kty": "EC", "crv": crv, "x": Data(x963.dropFirst().prefix(width)).base64URLEncoded,
            "y": Data(x963.suffix(width)).base64URLEncoded,
        ]
    }

    private static func randomBytes(_ count: Int) -> Data {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Data($0) }
    }
}
