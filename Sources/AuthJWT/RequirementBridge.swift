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
public func ajwt_path_free(_ path: OpaquePointer?) {
    guard let path else {
        return
    }
    Unmanaged<ClaimPath>.fromOpaque(UnsafeRawPointer(path)).release()
}

@c @implementation
public func ajwt_path_get(
    _ json: ajwt_str_t,
    _ path: OpaquePointer?,
    _ raw: UnsafeMutablePointer<ajwt_str_t>?
) -> ajwt_json_type_t {
    raw?.pointee = ajwt_str_t(data: nil, len: 0)
    guard let claimPath = ClaimPath.borrowing(path), let document = UnsafeRawBufferPointer(json),
        let value = JSONLookup.value(at: claimPath, in: document)
    else {
        return AJWT_JSON_ABSENT
    }
    let start = value.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
    raw?.pointee = ajwt_str_t(data: start, len: value.bytes.count)
    return ajwt_json_type_t(value.kind)
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

@c @implementation
public func ajwt_require_check(
    _ json: ajwt_str_t,
    _ path: OpaquePointer?,
    _ op: ajwt_op_t,
    _ negate: Int32,
    _ expected: ajwt_str_t,
    _ expected_json: Int32
) -> Int32 {
    guard let claimPath = ClaimPath.borrowing(path), let document = UnsafeRawBufferPointer(json),
        let expectedBytes = UnsafeRawBufferPointer(expected), let claimOperator = ClaimOperator(op)
    else {
        return AJWT_REQUIRE_INVALID
    }
    let requirement = ClaimRequirement(claimOperator, negated: negate != 0)
    let outcome = requirement.check(
        claimPath,
        in: document,
        against: expectedBytes,
        expectedIsJSON: expected_json != AJWT_EXPECTED_STRING,
        expectedIsValidated: expected_json == AJWT_EXPECTED_VALIDATED
    )
    switch outcome {
    case .holds: return AJWT_REQUIRE_HOLDS
    case .fails: return AJWT_REQUIRE_FAILS
    case .invalid: return AJWT_REQUIRE_INVALID
    }
}

@c @implementation
public func ajwt_require_validate(_ expected: ajwt_str_t) -> Int32 {
    guard let bytes = UnsafeRawBufferPointer(expected) else {
        return -1
    }
    return ClaimRequirement.isValidExpected(bytes) ? 0 : -1
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
