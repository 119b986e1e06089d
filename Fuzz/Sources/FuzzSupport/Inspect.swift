import CAuthJWT

#if canImport(Glibc)
import Glibc
#endif

/// Checks what the C API promises about a status and its reason.
public func checkReason(_ status: ajwt_status_t, _ reason: UnsafePointer<CChar>?, allowed: [ajwt_status_t]) {
    require(allowed.contains(status), "unexpected status \(status.rawValue)")
    require((status == AJWT_OK) == (reason == nil), "reason set iff refused (status \(status.rawValue))")
    if let reason {
        // Static ASCII text: a reason never carries token bytes or key material.
        let length = strlen(reason)
        require(length > 0, "empty reason")
        require(
            UnsafeBufferPointer(start: reason, count: length).allSatisfy { (0x20..<0x7F).contains(UInt8($0)) },
            "reason is not printable ASCII"
        )
    }
}

/// Whether `inner` lies within `outer`.
public func contains(_ outer: ajwt_str_t, _ inner: ajwt_str_t) -> Bool {
    guard inner.len > 0 else {
        return true
    }
    guard let outerStart = outer.data, let innerStart = inner.data else {
        return false
    }
    return innerStart >= outerStart && innerStart + inner.len <= outerStart + outer.len
}

/// Looks `path` up in `json` (a document ajwt_verify or ajwt_session_decide accepted) exactly and ignoring case,
/// and checks what ajwt_json_get and ajwt_json_unescape promise about the result.
public func inspect(_ json: ajwt_str_t, path: [[UInt8]]) {
    let exact = lookup(json, path: path, ignoreCase: false)
    let folded = lookup(json, path: path, ignoreCase: true)
    if exact.kind != AJWT_JSON_ABSENT {
        // An exact match wins over a case-insensitive one.
        require(
            folded.kind == exact.kind && folded.raw.data == exact.raw.data && folded.raw.len == exact.raw.len,
            "ignore_case lookup lost the exact match"
        )
    }
    for (kind, raw) in [exact, folded] {
        check(kind, raw, in: json)
    }
}

private func lookup(_ json: ajwt_str_t, path: [[UInt8]], ignoreCase: Bool)
    -> (kind: ajwt_json_type_t, raw: ajwt_str_t)
{
    var raw = ajwt_str_t(data: nil, len: 1)
    let kind = withNames(path) { names in
        ajwt_json_get(json, names.baseAddress, names.count, ignoreCase ? 1 : 0, &raw)
    }
    return (kind, raw)
}

/// Calls `body` with `path` as C spans.
private func withNames<R>(_ path: [[UInt8]], _ body: (UnsafeBufferPointer<ajwt_str_t>) -> R) -> R {
    // The names are copied into one buffer so that every span stays valid during the call.
    let flat = path.flatMap { $0 }
    return flat.withUnsafeBufferPointer { flat in
        var names: [ajwt_str_t] = []
        var offset = 0
        for name in path {
            names.append(ajwt_str_t(data: flat.baseAddress.map { $0 + offset }, len: name.count))
            offset += name.count
        }
        return names.withUnsafeBufferPointer(body)
    }
}

private func check(_ kind: ajwt_json_type_t, _ raw: ajwt_str_t, in json: ajwt_str_t) {
    guard kind != AJWT_JSON_ABSENT else {
        require(raw.data == nil && raw.len == 0, "absent value with bytes")
        return
    }
    require(contains(json, raw), "value outside the document")
    let bytes = UnsafeRawBufferPointer(start: raw.data, count: raw.len)
    switch kind {
    case AJWT_JSON_STRING:
        // Unescaping never grows a string, and a validated string decodes to well-formed UTF-8.
        let output = ExactBuffer(count: raw.len)
        let written = ajwt_json_unescape(raw, output.pointer)
        require(written <= raw.len, "unescape wrote \(written) bytes for \(raw.len)")
        let decoded = UnsafeRawBufferPointer(start: output.pointer, count: written)
        require(String(validating: decoded, as: UTF8.self) != nil, "unescaped string is not UTF-8")
    case AJWT_JSON_NUMBER:
        require(bytes.first.map { $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) } == true, "number text")
    case AJWT_JSON_TRUE:
        require(bytes.elementsEqual("true".utf8), "true text")
    case AJWT_JSON_FALSE:
        require(bytes.elementsEqual("false".utf8), "false text")
    case AJWT_JSON_NULL:
        require(bytes.elementsEqual("null".utf8), "null text")
    case AJWT_JSON_ARRAY, AJWT_JSON_OBJECT:
        require(bytes.first == UInt8(ascii: kind == AJWT_JSON_ARRAY ? "[" : "{"), "container text")
        // A container's text is a document of its own: the empty path yields it whole.
        var whole = ajwt_str_t()
        require(ajwt_json_get(raw, nil, 0, 0, &whole) == kind, "container text does not parse alone")
        require(whole.data == raw.data && whole.len == raw.len, "container text changed when parsed alone")
    default:
        require(false, "unknown JSON kind \(kind.rawValue)")
    }
}
