import Crypto
import CryptoExtras

/// Recovering a token's content encryption key (CEK) with a decryption key (RFC 7516 §5.2 steps 6 to 11, RFC 7518
/// §4.2 to §4.7).
///
/// Every way this fails (an unwrap that does not authenticate, an OAEP decoding error, an agreement on a weak point,
/// a CEK of the wrong length) gives `nil`: the caller then carries on with a random CEK, so that a failure here and
/// a failure of the content's tag look and take the same (RFC 7516 §11.5).
enum KeyManagement {
    /// The CEK for `header`'s `enc`, recovered from `encryptedKey` with `key`, or `nil`.
    ///
    /// The caller checked `key.canDecrypt(header)` and the encrypted key's shape (empty for `dir` and `ECDH-ES`).
    static func contentEncryptionKey(
        for header: JWEHeader,
        encryptedKey: UnsafeRawBufferPointer,
        with key: DecryptionKey
    ) -> SymmetricKey? {
        let cek: SymmetricKey?
        switch (key.material, header.algorithm) {
        case (.symmetric(let secret), .direct):
            cek = secret
        case (.symmetric(let kek), .a128KW), (.symmetric(let kek), .a192KW), (.symmetric(let kek), .a256KW):
            cek = try? AES.KeyWrap.unwrap(encryptedKey, using: kek)
        case (.symmetric(let kek), .a128GCMKW), (.symmetric(let kek), .a192GCMKW), (.symmetric(let kek), .a256GCMKW):
            cek = Self.unwrapGCM(encryptedKey, header: header, using: kek)
        case (.rsa(let privateKey), .rsaOAEP):
            cek = (try? privateKey.decrypt(encryptedKey, padding: .PKCS1_OAEP)).map { SymmetricKey(data: $0) }
        case (.rsa(let privateKey), .rsaOAEP256):
            cek = (try? privateKey.decrypt(encryptedKey, padding: .PKCS1_OAEP_SHA256)).map { SymmetricKey(data: $0) }
        case (_, .ecdhES), (_, .ecdhESA128KW), (_, .ecdhESA192KW), (_, .ecdhESA256KW):
            cek = Self.agree(header: header, encryptedKey: encryptedKey, with: key.material)
        default:
            cek = nil
        }
        guard let cek, cek.bitCount == header.encryption.keyByteCount * 8 else {
            return nil
        }
        return cek
    }

    /// AES-GCM key wrap (RFC 7518 §4.7): the encrypted key is the CEK sealed under the key-encryption key, with the
    /// header's `iv` and `tag` and no additional data.
    private static func unwrapGCM(
        _ encryptedKey: UnsafeRawBufferPointer,
        header: JWEHeader,
        using kek: SymmetricKey
    ) -> SymmetricKey? {
        JWEHeader.withDecoded(header.keyWrapIV) { iv in
            JWEHeader.withDecoded(header.keyWrapTag) { tag in
                guard let nonce = try? AES.GCM.Nonce(data: iv),
                    let box = try? AES.GCM.SealedBox(nonce: nonce, ciphertext: encryptedKey, tag: tag),
                    let cek = try? AES.GCM.open(box, using: kek)
                else {
                    return nil
                }
                return SymmetricKey(data: cek)
            }
        }
    }

    /// ECDH-ES (RFC 7518 §4.6): the agreed secret Z between the key and the token's `epk`, through Concat KDF, is
    /// the CEK (`ECDH-ES`) or the key that unwraps it (`ECDH-ES+A*KW`).
    private static func agree(
        header: JWEHeader,
        encryptedKey: UnsafeRawBufferPointer,
        with material: DecryptionKey.Material
    ) -> SymmetricKey? {
        let sharedSecret: SharedSecret?
        switch (material, header.ephemeralKey) {
        case (.p256(let privateKey), .p256(let publicKey)?):
            sharedSecret = try? privateKey.sharedSecretFromKeyAgreement(with: publicKey)
        case (.p384(let privateKey), .p384(let publicKey)?):
            sharedSecret = try? privateKey.sharedSecretFromKeyAgreement(with: publicKey)
        case (.p521(let privateKey), .p521(let publicKey)?):
            sharedSecret = try? privateKey.sharedSecretFromKeyAgreement(with: publicKey)
        case (.x25519(let privateKey), .x25519(let publicKey)?):
            sharedSecret = try? privateKey.sharedSecretFromKeyAgreement(with: publicKey)
        default:
            sharedSecret = nil
        }
        guard let sharedSecret else {
            return nil
        }
        let wrapped = header.algorithm.wrappingKeyByteCount
        let derived: SymmetricKey? = sharedSecret.withUnsafeBytes { z in
            // A low-order X25519 point gives Z = 0 whatever the private key (RFC 7748 §6.1); swift-crypto returns it.
            guard !Self.isAllZero(z) else {
                return nil
            }
            return JWEHeader.withDecoded(header.partyUInfo) { partyUInfo in
                JWEHeader.withDecoded(header.partyVInfo) { partyVInfo in
                    ConcatKDF.deriveKey(
                        from: z,
                        byteCount: wrapped ?? header.encryption.keyByteCount,
                        // AlgorithmID: the enc for direct agreement, the alg when the result wraps the CEK.
                        algorithmID: wrapped == nil ? header.encryption.name : header.algorithm.name,
                        partyUInfo: partyUInfo,
                        partyVInfo: partyVInfo
                    )
                }
            }
        }
        guard let derived else {
            return nil
        }
        guard wrapped != nil else {
            return derived
        }
        return try? AES.KeyWrap.unwrap(encryptedKey, using: derived)
    }

    /// Whether every byte is zero, reading them all.
    private static func isAllZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var accumulated: UInt8 = 0
        for byte in bytes {
            accumulated |= byte
        }
        return accumulated == 0
    }
}
