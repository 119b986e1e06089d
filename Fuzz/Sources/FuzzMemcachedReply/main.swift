// ajwt_mc_frame_gets and ajwt_mc_frame_line on what a memcached connection delivered: the module's pipelined
// connections hand every reply to them, replies of several commands back to back, split at any byte. A framing
// that is done covers a prefix of the buffer, its items lie inside it, in key order, and framing that prefix alone
// gives the same answer; one that wants more asks for more than the buffer holds, and every prefix of a whole reply
// wants more too. In the structured mode the target writes a reply from the input's keys and values, which must
// come back exactly.
//
// Input: one flags byte, then up to (flags & 7) keys, each a length byte and its bytes, then the buffer.
//   flags bit 3     structured: the buffer's bytes are the values of a reply written for the keys
//   flags bit 4     max_value 16 instead of 65536
//   flags bit 5     the buffer goes to ajwt_mc_frame_line instead

import CAuthJWT
import FuzzSupport

enum Reply {
    struct Framed: Equatable {
        let framing: UInt32
        let length: UInt64
        let items: [[UInt8]?]
        let flags: [UInt64]
        let cas: [UInt64]
    }

    static func frameGets(_ buffer: UnsafeRawBufferPointer, keys: [[UInt8]], maxValue: Int) -> Framed {
        let joined = keys.flatMap { $0 }
        return joined.withUnsafeBufferPointer { storage in
            var offset = 0
            let cKeys = keys.map { key -> ajwt_str_t in
                defer { offset += key.count }
                return ajwt_str_t(data: storage.baseAddress.map { $0 + offset }, len: key.count)
            }
            var items = [ajwt_mc_item_t](
                repeating: ajwt_mc_item_t(value: ajwt_str_t(data: nil, len: 0), flags: 7, cas: 7), count: keys.count)
            var length: UInt64 = 0
            let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            let framing = ajwt_mc_frame_gets(
                ajwt_str_t(data: base, len: buffer.count), cKeys, keys.count, maxValue, &items, &length)
            trace("gets framing \(framing.rawValue) length \(length)")
            var values: [[UInt8]?] = []
            var previousEnd = 0
            for item in items {
                guard let data = item.value.data else {
                    values.append(nil)
                    continue
                }
                require(framing == AJWT_MC_DONE, "an item outside a whole reply")
                let start = data - base!
                require(start >= previousEnd && start + item.value.len <= Int(length), "an item outside its reply")
                require(item.flags <= UInt64(UInt32.max), "flags beyond 32 bits")
                require(item.value.len <= maxValue, "an item over max_value")
                previousEnd = start + item.value.len
                values.append(Array(UnsafeBufferPointer(start: data, count: item.value.len)))
            }
            return Framed(
                framing: framing.rawValue, length: length, items: values, flags: items.map { $0.flags },
                cas: items.map { $0.cas })
        }
    }

    static func checkGets(_ buffer: UnsafeRawBufferPointer, keys: [[UInt8]], maxValue: Int) -> Framed {
        let framed = self.frameGets(buffer, keys: keys, maxValue: maxValue)
        switch ajwt_mc_framing_t(framed.framing) {
        case AJWT_MC_DONE:
            require(framed.length > 0 && framed.length <= UInt64(buffer.count), "a reply longer than the buffer")
            let reply = UnsafeRawBufferPointer(rebasing: buffer[..<Int(framed.length)])
            let alone = self.frameGets(reply, keys: keys, maxValue: maxValue)
            require(alone.framing == framed.framing && alone.length == framed.length, "the reply alone frames otherwise")
            require(alone.items == framed.items, "the reply alone has other items")
            for end in [0, Int(framed.length) / 2, Int(framed.length) - 1] {
                let prefix = self.frameGets(
                    UnsafeRawBufferPointer(rebasing: buffer[..<end]), keys: keys, maxValue: maxValue)
                require(prefix.framing == AJWT_MC_AGAIN.rawValue, "a prefix of a whole reply is not partial")
                require(prefix.length > UInt64(end), "a partial reply asks for no more than it has")
            }
        case AJWT_MC_AGAIN:
            require(framed.length > UInt64(buffer.count), "wants no more than it has")
        case AJWT_MC_TOO_LONG:
            require(framed.length > UInt64(maxValue), "too long within max_value")
        case AJWT_MC_INVALID:
            break
        default:
            require(false, "unknown framing \(framed.framing)")
        }
        return framed
    }

    static func fuzz(_ input: UnsafeRawBufferPointer) {
        guard !input.isEmpty else {
            return
        }
        let flags = input[0]
        var position = 1
        var keys: [[UInt8]] = []
        while keys.count < Int(flags & 7), position < input.count {
            let end = min(position + 1 + Int(input[position]), input.count)
            keys.append(Array(input[(position + 1)..<end]))
            position = end
        }
        let buffer = UnsafeRawBufferPointer(rebasing: input[position...])
        let maxValue = flags & 0x10 != 0 ? 16 : 65536

        if flags & 0x20 != 0 {
            var length: UInt64 = 0
            let framing = ajwt_mc_frame_line(
                ajwt_str_t(data: buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), len: buffer.count), &length)
            if framing == AJWT_MC_DONE {
                require(length > 0 && length <= UInt64(buffer.count) && buffer[Int(length) - 1] == 0x0A, "a line")
            } else if framing == AJWT_MC_AGAIN {
                require(length > UInt64(buffer.count), "wants no more than it has")
            }
            return
        }

        guard flags & 0x08 != 0 else {
            _ = self.checkGets(buffer, keys: keys, maxValue: maxValue)
            return
        }

        // Structured: an item for every other key, its value the next bytes of the buffer.
        let usable = keys.allSatisfy { key in !key.isEmpty && key.allSatisfy { $0 > 0x20 && $0 != 0x7F } }
            && Set(keys).count == keys.count
        guard usable else {
            return
        }
        var reply: [UInt8] = []
        var expected: [[UInt8]?] = []
        var rest = buffer[...]
        for (i, key) in keys.enumerated() {
            guard i % 2 == 0 else {
                expected.append(nil)
                continue
            }
            let value = Array(rest.prefix(40))
            rest = rest.dropFirst(value.count)
            reply += Array("VALUE ".utf8) + key + Array(" \(i) \(value.count) \(i * 1000)\r\n".utf8) + value
                + Array("\r\n".utf8)
            expected.append(value)
        }
        reply += Array("END\r\nEND\r\n".utf8)
        let framed = reply.withUnsafeBytes { self.checkGets($0, keys: keys, maxValue: maxValue) }
        if expected.contains(where: { ($0?.count ?? 0) > maxValue }) {
            require(framed.framing == AJWT_MC_TOO_LONG.rawValue, "an item over max_value is not too long")
        } else {
            require(framed.framing == AJWT_MC_DONE.rawValue, "a well-formed reply is refused")
            require(framed.length == UInt64(reply.count - 5), "a well-formed reply's length")
            require(framed.items == expected, "a well-formed reply's items")
        }
    }
}

runFuzzer { data, size in
    Reply.fuzz(UnsafeRawBufferPointer(fuzzInput: data, count: size))
    return 0
}
