import CAuthJWT
import Testing

@testable import AuthJWT
@testable import MemcachedProtocol

/// Frames `reply` as the answer to `gets keys...` through the C ABI: the framing, its length, and the items found
/// (key index → value text, flags, cas).
private func frameGets(
    _ reply: String, keys: [String], maxValue: Int = 65536
) -> (ajwt_mc_framing_t, UInt64, [Int: (String, UInt64, UInt64)]) {
    let keyBytes = keys.map { Array($0.utf8) }
    let joined = keyBytes.flatMap { $0 }
    return Array(reply.utf8).withUnsafeBufferPointer { buffer in
        joined.withUnsafeBufferPointer { keyStorage in
            var offset = 0
            let cKeys = keyBytes.map { key -> ajwt_str_t in
                defer { offset += key.count }
                return ajwt_str_t(data: keyStorage.baseAddress.map { $0 + offset }, len: key.count)
            }
            var items = [ajwt_mc_item_t](
                repeating: ajwt_mc_item_t(value: ajwt_str_t(data: nil, len: 0), flags: 0, cas: 0), count: keys.count)
            var length: UInt64 = 0
            let framing = ajwt_mc_frame_gets(
                ajwt_str_t(data: buffer.baseAddress, len: buffer.count), cKeys, keys.count, maxValue, &items, &length)
            var found: [Int: (String, UInt64, UInt64)] = [:]
            for (i, item) in items.enumerated() where item.value.data != nil {
                found[i] = (
                    String(decoding: UnsafeBufferPointer(start: item.value.data, count: item.value.len), as: UTF8.self),
                    item.flags, item.cas
                )
            }
            return (framing, length, found)
        }
    }
}

@Suite struct MemcachedReplyTests {
    @Test func noItem() {
        let (framing, length, found) = frameGets("END\r\n", keys: ["s-1"])
        #expect(framing == AJWT_MC_DONE)
        #expect(length == 5)
        #expect(found.isEmpty)
    }

    @Test func itemsOfSeveralKeysInOrder() {
        let reply = "VALUE s-1 3 2 77\r\n{}\r\nVALUE revoked:sub:bob 0 1 9\r\n1\r\nEND\r\n"
        let (framing, length, found) = frameGets(reply, keys: ["s-1", "revoked:jti:x", "revoked:sub:bob"])
        #expect(framing == AJWT_MC_DONE)
        #expect(length == UInt64(reply.utf8.count))
        #expect(found.count == 2)
        #expect(found[0]?.0 == "{}" && found[0]?.1 == 3 && found[0]?.2 == 77)
        #expect(found[2]?.0 == "1" && found[2]?.2 == 9)
    }

    @Test func theNextReplyIsLeftAlone() {
        let (framing, length, _) = frameGets("END\r\nVALUE s-2 0 1 1\r\nx\r\nEND\r\n", keys: ["s-1"])
        #expect(framing == AJWT_MC_DONE)
        #expect(length == 5)
    }

    @Test func anEmptyItemIsAnItem() {
        let (framing, _, found) = frameGets("VALUE k 0 0 1\r\n\r\nEND\r\n", keys: ["k"])
        #expect(framing == AJWT_MC_DONE)
        #expect(found[0]?.0 == "")
    }

    @Test func everyPrefixOfAReplyWantsMore() {
        let reply = "VALUE s-1 0 11 5\r\n{\"a\":\"xyz\"}\r\nEND\r\n"
        for end in 0..<reply.utf8.count {
            let prefix = String(decoding: Array(reply.utf8)[..<end], as: UTF8.self)
            let (framing, need, _) = frameGets(prefix, keys: ["s-1"])
            #expect(framing == AJWT_MC_AGAIN, "prefix of \(end) bytes")
            #expect(need > UInt64(end), "prefix of \(end) bytes needs more than it has")
        }
    }

    @Test(arguments: [
        "HELLO\r\n",
        "SERVER_ERROR out of memory\r\n",
        "VALUE s-2 0 2 1\r\n{}\r\nEND\r\n",  // a key not asked
        "VALUE s-1 0 2 1\r\n{}\r\nVALUE s-1 0 2 1\r\n{}\r\nEND\r\n",  // a key twice
        "VALUE s-1 0 1 1\r\n{}\r\nEND\r\n",  // data longer than announced
        "VALUE s-1 4294967296 2 1\r\n{}\r\nEND\r\n",  // flags over 32 bits
        "VALUE s-1 0 2 99999999999999999999999\r\n{}\r\nEND\r\n",
        "VALUE s-1 0 2\r\n{}\r\nEND\r\n",  // no cas
        "VALUE s-1  0 2 1\r\n{}\r\nEND\r\n",
        "END\n",
        "\r\n",
    ])
    func refused(_ reply: String) {
        #expect(frameGets(reply, keys: ["s-1"]).0 == AJWT_MC_INVALID)
    }

    @Test func aLineWithoutEndPastTheLongestIsRefused() {
        #expect(frameGets(String(repeating: "V", count: 100_000), keys: ["s-1"]).0 == AJWT_MC_INVALID)
    }

    @Test func anItemOverTheLimitSaysItsLength() {
        let (framing, length, _) = frameGets("VALUE s-1 0 70000 1\r\n", keys: ["s-1"])
        #expect(framing == AJWT_MC_TOO_LONG)
        #expect(length == 70000)
    }

    @Test func lines() {
        func frame(_ text: String) -> (ajwt_mc_framing_t, UInt64) {
            var length: UInt64 = 0
            let framing = Array(text.utf8).withUnsafeBufferPointer {
                ajwt_mc_frame_line(ajwt_str_t(data: $0.baseAddress, len: $0.count), &length)
            }
            return (framing, length)
        }
        #expect(frame("STORED\r\nEXISTS\r\n") == (AJWT_MC_DONE, 8))
        #expect(frame("NOT_FOU") == (AJWT_MC_AGAIN, 8))
        #expect(frame("CLIENT_ERROR bad data chunk\r\n").0 == AJWT_MC_INVALID)
        #expect(frame("ERROR\r\n").0 == AJWT_MC_INVALID)
        #expect(frame(String(repeating: "x", count: 64)).0 == AJWT_MC_INVALID)
    }
}
