import Crypto
import CryptoExtras

/// Authenticated decryption of a JWE's ciphertext with its CEK (RFC 7516 §5.2 steps 14 to 16, RFC 7518 §5.2 and
/// §5.3). The Additional Authenticated Data is the ASCII of the protected header's base64url, as the token has it.
enum ContentDecryption {
    /// The parts of a token that the content encryption reads.
    struct Input {
        let additionalData: UnsafeRawBufferPointer
        let iv: UnsafeRawBufferPointer
        let ciphertext: UnsafeRawBufferPointer
        let tag: UnsafeRawBufferPointer
    }

    /// Decrypts `input` with `cek` under `encryption` into the start of `output`, and returns the plaintext's length;
    /// `nil` when the tag does not authenticate, the padding is wrong or `output` is too small. The caller checked
    /// the lengths of the IV and the tag against `encryption`.
    static func decrypt(
        _ input: Input,
        encryption: ContentEncryptionAlgorithm,
        cek: SymmetricKey,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        switch encryption {
        case .a128GCM, .a192GCM, .a256GCM:
            return Self.openGCM(input, cek: cek, into: output)
        case .a128CBCHS256:
            return Self.openCBC(input, cek: cek, hash: SHA256.self, into: output)
        case .a192CBCHS384:
            return Self.openCBC(input, cek: cek, hash: SHA384.self, into: output)
        case .a256CBCHS512:
            return Self.openCBC(input, cek: cek, hash: SHA512.self, into: output)
        }
    }

    /// Copies swift-crypto's plaintext into `output`; `nil` if it does not fit.
    private static func copy(_ plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard plaintext.count <= output.count else {
            return nil
        }
        output.copyMemory(from: plaintext)
        return plaintext.count
    }

    /// AES-GCM (RFC 7518 §5.3): swift-crypto checks the 128-bit tag before it releases any plaintext.
    private static func openGCM(_ input: Input, cek: SymmetricKey, into output: UnsafeMutableRawBufferPointer) -> Int? {
        guard let nonce = try? AES.GCM.Nonce(data: input.iv),
            let box = try? AES.GCM.SealedBox(nonce: nonce, ciphertext: input.ciphertext, tag: input.tag),
            let plaintext = try? AES.GCM.open(box, using: cek, authenticating: input.additionalData)
        else {
            return nil
        }
        return plaintext.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in Self.copy(bytes, into: output) }
    }

    /// AES-CBC with HMAC-SHA-2 (RFC 7518 §5.2.2.2): the first half of the CEK keys the HMAC over
    /// AAD || IV || ciphertext || AL (AL: the AAD's length in bits, 64 bits big-endian); the tag is the HMAC's first
    /// half, compared in constant time before anything is decrypted with the second half of the CEK.
    private static func openCBC<Hash: HashFunction>(
        _ input: Input,
        cek: SymmetricKey,
        hash: Hash.Type,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        cek.withUnsafeBytes { keyBytes -> Int? in
            let half = keyBytes.count / 2
            let macKey = SymmetricKey(data: UnsafeRawBufferPointer(rebasing: keyBytes[..<half]))
            let encryptionKey = SymmetricKey(data: UnsafeRawBufferPointer(rebasing: keyBytes[half...]))

            var authenticator = HMAC<Hash>(key: macKey)
            authenticator.update(data: input.additionalData)
            authenticator.update(data: input.iv)
            authenticator.update(data: input.ciphertext)
            withUnsafeBytes(of: (UInt64(input.additionalData.count) &* 8).bigEndian) {
                authenticator.update(data: $0)
            }
            let authentic = authenticator.finalize().withUnsafeBytes { mac in
                mac.count >= input.tag.count
                    && ConstantTime.equal(UnsafeRawBufferPointer(rebasing: mac[..<input.tag.count]), input.tag)
            }
            guard authentic, let iv = try? AES._CBC.IV(ivBytes: input.iv),
                let plaintext = try? AES._CBC.decrypt(input.ciphertext, using: encryptionKey, iv: iv)
            else {
                return nil
            }
            return plaintext.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in Self.copy(bytes, into: output) }
        }
    }
}
