internal import CAuthJWT

/// The limits of the C ABI header (ajwt.h), which is their single source of truth: the module and the core read
/// the same definitions. Only these constants come from the header; the core touches no C pointers.
package enum ABILimits {
    /// `AJWT_MAX_TOKEN_LEN`: the longest token accepted.
    static var maximumTokenLength: Int { Int(AJWT_MAX_TOKEN_LEN) }

    /// `AJWT_MAX_JSON_DEPTH`: the deepest nesting of arrays and objects in a header, a payload or a session record.
    static var maximumJSONDepth: Int { Int(AJWT_MAX_JSON_DEPTH) }

    /// `AJWT_MAX_SESSION_RECORD`: the longest session record read.
    package static var maximumSessionRecordLength: Int { Int(AJWT_MAX_SESSION_RECORD) }
}
