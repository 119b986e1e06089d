// The claim requirement half of ajwt.h (paths, operators, checks, Plus-style arrays), over JWTCore.
//
// Total like the rest of the bridge: NULL pointers, impossible lengths and unknown enum values yield an error result
// (NULL, -1, AJWT_JSON_ABSENT, AJWT_REQUIRE_INVALID), never a trap.

import CAuthJWT
import JWTCore

// MARK: - Paths

@c @implementation
public func ajwt_path_parse(
    _ text: UnsafePointer<UInt8>?,
    _ len: Int,
    _ err: UnsafeMutablePointer<CChar>?,
    _ errlen: Int
) -> OpaquePointer? {
    guard let bytes = UnsafeRawBufferPointer(cBytes: text, count: len) else {
        copyMessage("invalid arguments to ajwt_path_parse", into: err, capacity: errlen)
        return nil
    }
    do {
        let path = try ClaimPath(parsing: bytes)
        return OpaquePointer(Unmanaged.passRetained(path).toOpaque())
    } catch {
        copyMessage(error.description, into: err, capacity: errlen)
        return nil
    }
}

@c @implementation
public func ajwt_path_parse_nested(
    _ text: UnsafePointer<UInt8>?,
    _ len: Int,
    _ delimiter: ajwt_str_t,
    _ quote: ajwt_str_t,
    _ err: UnsafeMutablePointer<CChar>?,
    _ errlen: Int
) -> OpaquePointer? {
    guard let bytes = UnsafeRawBufferPointer(cBytes: text, count: len),
        let delimiter = UnsafeRawBufferPointer(delimiter), let quote = UnsafeRawBufferPointer(quote)
    else {
        copyMessage("invalid arguments to ajwt_path_parse_nested", into: err, capacity: errlen)
        return nil
    }
    do {
        let path = try ClaimPath(splitting: bytes, delimiter: delimiter, quote: quote)
        return OpaquePointer(Unmanaged.passRetained(path).toOpaque())
    } catch {
        copyMessage(error.description, into: err, capacity: errlen)
        return nil
    }
}

@c @implementation
public func ajwt_path_free(_ path: OpaquePointer?) {
    guard let path else {
        return
    }
    Unmanaged<ClaimPath>.fromOpaque(UnsafeRawPointer(path)).release()
}

@c @implementation
public func ajwt_json_get_path(
    _ json: ajwt_str_t,
    _ path: OpaquePointer?,
    _ raw: UnsafeMutablePointer<ajwt_str_t>?
) -> ajwt_json_type_t {
    raw?.pointee = ajwt_str_t(data: nil, len: 0)
    guard let document = UnsafeRawBufferPointer(json), let claimPath = ClaimPath.borrowing(path),
        let value = JSONLookup.value(at: claimPath, in: document)
    else {
        return AJWT_JSON_ABSENT
    }
    raw?.pointee = ajwt_str_t(value.bytes)
    return ajwt_json_type_t(value.kind)
}

// MARK: - Name sets

@c @implementation
public func ajwt_nameset_parse(
    _ json: UnsafePointer<UInt8>?,
    _ len: Int,
    _ err: UnsafeMutablePointer<CChar>?,
    _ errlen: Int
) -> OpaquePointer? {
    guard let bytes = UnsafeRawBufferPointer(cBytes: json, count: len) else {
        copyMessage("invalid arguments to ajwt_nameset_parse", into: err, capacity: errlen)
        return nil
    }
    do {
        let set = try NameSet(object: bytes)
        return OpaquePointer(Unmanaged.passRetained(set).toOpaque())
    } catch {
        copyMessage(error.description, into: err, capacity: errlen)
        return nil
    }
}

@c @implementation
public func ajwt_nameset_count(_ set: OpaquePointer?) -> Int {
    NameSet.borrowing(set)?.count ?? 0
}

@c @implementation
public func ajwt_nameset_free(_ set: OpaquePointer?) {
    guard let set else {
        return
    }
    Unmanaged<NameSet>.fromOpaque(UnsafeRawPointer(set)).release()
}

// MARK: - Requirements

@c @implementation
public func ajwt_op_parse(
    _ text: ajwt_str_t,
    _ op: UnsafeMutablePointer<ajwt_op_t>?,
    _ negate: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guard let op, let negate, let name = UnsafeRawBufferPointer(text),
        let (parsed, negated) = ClaimOperator.parse(name)
    else {
        return -1
    }
    op.pointee = ajwt_op_t(parsed)
    negate.pointee = negated ? 1 : 0
    return 0
}

// MARK: - Policies

@c @implementation
public func ajwt_policy_create() -> OpaquePointer? {
    OpaquePointer(Unmanaged.passRetained(ClaimPolicy()).toOpaque())
}

@c @implementation
public func ajwt_policy_free(_ policy: OpaquePointer?) {
    guard let policy else {
        return
    }
    Unmanaged<ClaimPolicy>.fromOpaque(UnsafeRawPointer(policy)).release()
}

@c @implementation
public func ajwt_policy_add(_ policy: OpaquePointer?, _ rq: UnsafePointer<ajwt_requirement_t>?) -> Int32 {
    guard let claimPolicy = ClaimPolicy.borrowing(policy), let rq = rq?.pointee,
        let claimPath = ClaimPath.borrowing(rq.path), let claimOperator = ClaimOperator(rq.op)
    else {
        return -1
    }
    let expected: ClaimPolicy.Expected
    if rq.names != nil {
        guard let names = NameSet.borrowing(rq.names) else {
            return -1
        }
        expected = .names(names)
    } else if rq.per_request != 0 || claimOperator == .match {
        expected = .perRequest(isJSON: rq.json != 0)
    } else {
        guard let text = UnsafeRawBufferPointer(rq.expected) else {
            return -1
        }
        expected = .literal(text, isJSON: rq.json != 0)
    }
    do {
        try claimPolicy.add(
            claimPath,
            onHeader: rq.on_header != 0,
            ClaimRequirement(claimOperator, negated: rq.negate != 0),
            expected: expected
        )
        return 0
    } catch {
        return -1
    }
}

@c @implementation
public func ajwt_policy_count(_ policy: OpaquePointer?) -> Int {
    ClaimPolicy.borrowing(policy)?.count ?? 0
}

@c @implementation
public func ajwt_policy_check(
    _ policy: OpaquePointer?,
    _ header: ajwt_str_t,
    _ payload: ajwt_str_t,
    _ values: UnsafePointer<ajwt_str_t>?,
    _ outcomes: UnsafeMutablePointer<ajwt_outcome_t>?
) -> Int {
    guard let claimPolicy = ClaimPolicy.borrowing(policy), let outcomes else {
        return 0
    }
    guard let header = UnsafeRawBufferPointer(header), let payload = UnsafeRawBufferPointer(payload) else {
        for position in 0..<claimPolicy.count {
            outcomes[position] = ajwt_outcome_t(outcome: AJWT_REQUIRE_INVALID, value: ajwt_str_t(data: nil, len: 0))
        }
        return 0
    }
    return claimPolicy.check(
        header: header,
        payload: payload,
        perRequest: { position in values.flatMap { UnsafeRawBufferPointer($0[position]) } },
        report: { position, outcome, value in
            outcomes[position] = ajwt_outcome_t(outcome: Int32(outcome), value: value.map(ajwt_str_t.init) ?? ajwt_str_t(data: nil, len: 0))
        }
    )
}

// MARK: - Plus-style arrays

@c @implementation
public func ajwt_json_join(_ raw: ajwt_str_t, _ out: UnsafeMutablePointer<UInt8>?) -> Int {
    guard let array = UnsafeRawBufferPointer(raw),
        let output = UnsafeMutableRawBufferPointer(cBytes: out, count: array.count),
        let written = JSONLookup.joinElements(of: array, into: output)
    else {
        // (size_t) -1: the caller keeps the JSON text.
        return -1
    }
    return written
}

// MARK: - Conversions

extension ClaimPath {
    /// The path behind an `ajwt_path_t *`, without taking ownership.
    fileprivate static func borrowing(_ pointer: OpaquePointer?) -> ClaimPath? {
        guard let pointer else {
            return nil
        }
        return Unmanaged<ClaimPath>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

extension NameSet {
    /// The set behind an `ajwt_nameset_t *`, without taking ownership.
    fileprivate static func borrowing(_ pointer: OpaquePointer?) -> NameSet? {
        guard let pointer else {
            return nil
        }
        return Unmanaged<NameSet>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

extension ClaimPolicy {
    /// The policy behind an `ajwt_policy_t *`, without taking ownership.
    fileprivate static func borrowing(_ pointer: OpaquePointer?) -> ClaimPolicy? {
        guard let pointer else {
            return nil
        }
        return Unmanaged<ClaimPolicy>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

extension Int32 {
    fileprivate init(_ outcome: ClaimPolicy.Outcome) {
        switch outcome {
        case .holds: self = AJWT_REQUIRE_HOLDS
        case .fails: self = AJWT_REQUIRE_FAILS
        case .invalid: self = AJWT_REQUIRE_INVALID
        case .deferred: self = AJWT_REQUIRE_DEFERRED
        }
    }
}

extension ClaimOperator {
    /// The operator of a C enum value; `nil` for a value the header does not define.
    fileprivate init?(_ op: ajwt_op_t) {
        switch op {
        case AJWT_OP_EQ: self = .equal
        case AJWT_OP_GT: self = .greaterThan
        case AJWT_OP_GE: self = .greaterThanOrEqual
        case AJWT_OP_LT: self = .lessThan
        case AJWT_OP_LE: self = .lessThanOrEqual
        case AJWT_OP_IN: self = .in
        case AJWT_OP_ANY: self = .any
        case AJWT_OP_MATCH: self = .match
        default: return nil
        }
    }
}

extension ajwt_op_t {
    fileprivate init(_ op: ClaimOperator) {
        switch op {
        case .equal: self = AJWT_OP_EQ
        case .greaterThan: self = AJWT_OP_GT
        case .greaterThanOrEqual: self = AJWT_OP_GE
        case .lessThan: self = AJWT_OP_LT
        case .lessThanOrEqual: self = AJWT_OP_LE
        case .in: self = AJWT_OP_IN
        case .any: self = AJWT_OP_ANY
        case .match: self = AJWT_OP_MATCH
        }
    }
}

extension ajwt_json_type_t {
    fileprivate init(_ kind: JSONKind) {
        switch kind {
        case .string: self = AJWT_JSON_STRING
        case .number: self = AJWT_JSON_NUMBER
        case .true: self = AJWT_JSON_TRUE
        case .false: self = AJWT_JSON_FALSE
        case .null: self = AJWT_JSON_NULL
        case .array: self = AJWT_JSON_ARRAY
        case .object: self = AJWT_JSON_OBJECT
        }
    }
}

// MARK: - JSON strings

@c @implementation
public func ajwt_json_string_decode(_ json: ajwt_str_t, _ out: UnsafeMutablePointer<UInt8>?) -> Int {
    guard let document = UnsafeRawBufferPointer(json),
        let output = UnsafeMutableRawBufferPointer(cBytes: out, count: document.count),
        let length = JSONLookup.decodeString(document, into: output)
    else {
        return -1
    }
    return length
}
