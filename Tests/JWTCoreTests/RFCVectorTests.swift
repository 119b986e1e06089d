import Testing

@testable import JWTCore

/// A published JWS and the key that verifies it.
struct RFCVector: CustomTestStringConvertible, Sendable {
    let name: String
    let keyFile: String
    let token: String
    /// `nil` when the token is a JWT that must be accepted; otherwise the rejection expected once the signature
    /// verified (several RFC payloads are plain text, refused as JSON only after their signature checks).
    let expectedError: VerificationError?

    var testDescription: String { self.name }
}

enum RFCVectors {
    static let rfc7515Payload =
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

    static let rfc7520Payload =
        "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUg"
        + "cm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0"
        + "IGJlIHN3ZXB0IG9mZiB0by4"

    static let rfc7520RSAKey = """
        {"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig",
         "n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJ\
        mSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tp\
        e-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vn\
        iUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw",
         "e":"AQAB"}
        """

    static let all: [RFCVector] = [
        RFCVector(
            name: "RFC 7515 A.1 HS256",
            keyFile: """
                {"kty":"oct",
                 "k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}
                """,
            token: "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + rfc7515Payload
                + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            expectedError: nil
        ),
        RFCVector(
            name: "RFC 7515 A.2 RS256",
            keyFile: """
                {"kty":"RSA",
                 "n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0B\
                m4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5\
                z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7\
                aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
                 "e":"AQAB"}
                """,
            token: "eyJhbGciOiJSUzI1NiJ9." + rfc7515Payload
                + ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5juj"
                + "Gbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7"
                + "K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np"
                + "6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw",
            expectedError: nil
        ),
        RFCVector(
            name: "RFC 7515 A.3 ES256",
            keyFile: """
                {"kty":"EC","crv":"P-256",
                 "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
                """,
            token: "eyJhbGciOiJFUzI1NiJ9." + rfc7515Payload
                + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
            expectedError: nil
        ),
        RFCVector(
            name: "RFC 7515 A.4 ES512",
            keyFile: """
                {"kty":"EC","crv":"P-521",
                 "x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk",
                 "y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}
                """,
            token: "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA"
                + ".AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSw"
                + "FKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn",
            expectedError: .malformedPayload(.syntax)
        ),
        RFCVector(
            name: "RFC 7520 4.1 RS256",
            keyFile: rfc7520RSAKey,
            token: "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + rfc7520Payload
                + ".MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7"
                + "PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9"
                + "eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F"
                + "4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg",
            expectedError: .malformedPayload(.syntax)
        ),
        RFCVector(
            name: "RFC 7520 4.2 PS384",
            keyFile: rfc7520RSAKey,
            token: "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + rfc7520Payload
                + ".cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5d"
                + "DDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_i"
                + "jQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAA"
                + "jVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw",
            expectedError: .malformedPayload(.syntax)
        ),
        RFCVector(
            name: "RFC 7520 4.3 ES512",
            keyFile: """
                {"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521",
                 "x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",
                 "y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}
                """,
            token: "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + rfc7520Payload
                + ".AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtP"
                + "Bu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2",
            expectedError: .malformedPayload(.syntax)
        ),
        RFCVector(
            name: "RFC 7520 4.4 HS256",
            keyFile: """
                {"keys":[{"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256",
                          "k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"}]}
                """,
            token: "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9." + rfc7520Payload
                + ".s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0",
            expectedError: .malformedPayload(.syntax)
        ),
        RFCVector(
            name: "RFC 8037 A.4 Ed25519",
            keyFile: #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            token: "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
                + ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
            expectedError: .malformedPayload(.syntax)
        ),
    ]
}

@Suite("RFC 7515, RFC 7520 and RFC 8037 examples")
struct RFCVectorTests {
    @Test(arguments: RFCVectors.all)
    func verifiesPublishedSignature(_ vector: RFCVector) throws {
        let keys = try makeKeySet(vector.keyFile)
        if let expectedError = vector.expectedError {
            #expect(throws: expectedError) { try verify(vector.token, with: keys) }
        } else {
            try verify(vector.token, with: keys)
        }
    }

    @Test(arguments: RFCVectors.all)
    func rejectsAlteredSignature(_ vector: RFCVector) throws {
        let keys = try makeKeySet(vector.keyFile)
        var token = Array(vector.token.utf8)
        let signatureStart = try #require(token.lastIndex(of: UInt8(ascii: "."))) + 1
        token[signatureStart + 4] =
            token[signatureStart + 4] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: VerificationError.badSignature) {
            try verify(String(decoding: token, as: UTF8.self), with: keys)
        }
    }

    @Test func rfc7515HS256ExposesHeaderAndPayload() throws {
        let vector = RFCVectors.all[0]
        let token = try verify(vector.token, with: try makeKeySet(vector.keyFile))
        #expect(token.header == "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}")
        #expect(token.payload == "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}")
    }

    @Test func rfc7515HS256ExpiresAtItsExp() throws {
        let vector = RFCVectors.all[0]
        let keys = try makeKeySet(vector.keyFile)
        try verify(vector.token, with: keys, now: 1_300_819_379)
        #expect(throws: VerificationError.expired) { try verify(vector.token, with: keys, now: 1_300_819_380) }
    }
}
