import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Encodes the JSON this server writes: records and response bodies. Sorted keys, so the bytes are stable.
func encodeJSON(_ value: some Encodable) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain structs of strings and integers cannot fail.
    return Array(try! encoder.encode(value))
}

/// A response with a JSON body.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
    var headers = headers
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: encodeJSON(value))))
}

/// Decodes JSON this server wrote, or `nil`.
func decodeJSON<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) -> Value? {
    try? JSONDecoder().decode(type, from: Data(bytes))
}
