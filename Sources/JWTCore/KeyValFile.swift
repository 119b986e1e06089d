/// kjdev/nginx-auth-jwt's `keyval` key format: a JSON object whose member names are key IDs and whose values are
/// PEM public keys, `{"k1": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"}`.
///
/// As kjdev restricts it, the values are PEM public keys only (the PEM types `KeyFile` reads, one block per
/// value); HMAC secrets belong in a JWKS `oct` key. Each key gets its member name as its `kid`, and no `alg`
/// pin. Keys keep the file's order.
enum KeyValFile {
    static func keys(in file: UnsafeRawBufferPointer) throws(KeyFileError) -> [VerificationKey] {
        let object: JSONSpan
        do {
            object = try JSONScanner.validate(file)
        } catch {
            throw KeyFileError("the keyval file is not valid JSON: \(error.explanation)")
        }
        guard object.kind == .object else {
            throw KeyFileError("the keyval file is not a JSON object of key IDs and PEM public keys")
        }
        var keys: [VerificationKey] = []
        var members = JSONSkimmer(container: object.bytes)
        while let member = members.nextMember() {
            let keyID = Array(UnescapedBytes(member.name.escaped))
            keys.append(try self.key(keyID, member.value))
        }
        guard !keys.isEmpty else {
            throw KeyFileError("the keyval file holds no key")
        }
        return keys
    }

    private static func key(_ keyID: [UInt8], _ value: JSONSpan) throws(KeyFileError) -> VerificationKey {
        let label = "key \"\(KeyFile.printable(keyID))\""
        let notPEM = KeyFileError(
            "\(label): not a PEM public key (keyval holds PEM public keys only; give an HMAC secret as a JWKS "
                + "\"oct\" key)"
        )
        guard value.kind == .string else {
            throw notPEM
        }
        let pem = Array(UnescapedBytes(value.bytes))
        let result = pem.withUnsafeBytes { pem in
            Result { () throws(KeyFileError) -> KeyFileKeys in
                guard PEM.containsBlock(pem) else {
                    throw notPEM
                }
                do throws(KeyFileError) {
                    return try PEM.keys(in: pem)
                } catch {
                    throw KeyFileError("\(label): \(error.description)")
                }
            }
        }
        let parsed = try result.get()
        guard parsed.decryption.isEmpty else {
            throw KeyFileError("\(label): PEM block 1 is a private key; keyval holds PEM public keys only")
        }
        guard parsed.count == 1, let key = parsed.verification.first else {
            throw KeyFileError("\(label): \(parsed.count) PEM blocks; one public key per key ID")
        }
        return VerificationKey(material: key.material, keyID: keyID, pinnedAlgorithm: nil)
    }
}
