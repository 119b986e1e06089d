// The memcached reply framing of ajwt.h, over MemcachedProtocol.

import CAuthJWT
import MemcachedProtocol

@c @implementation
public func ajwt_mc_frame_gets(
    _ buf: ajwt_str_t,
    _ keys: UnsafePointer<ajwt_str_t>?,
    _ nkeys: Int,
    _ max_value: Int,
    _ items: UnsafeMutablePointer<ajwt_mc_item_t>?,
    _ length: UnsafeMutablePointer<UInt64>?
) -> ajwt_mc_framing_t {
    guard let buffer = UnsafeRawBufferPointer(buf), nkeys >= 0, nkeys == 0 || (keys != nil && items != nil) else {
        return AJWT_MC_INVALID
    }
    func clear() {
        for i in 0..<nkeys {
            items?[i] = ajwt_mc_item_t(value: ajwt_str_t(data: nil, len: 0), flags: 0, cas: 0)
        }
    }
    clear()
    let framing = MemcachedReply.frameGets(
        buffer,
        keyCount: nkeys,
        key: { UnsafeRawBufferPointer(keys![$0]) ?? UnsafeRawBufferPointer(start: nil, count: 0) },
        maxValue: max_value,
        found: { index, item in
            items![index] = ajwt_mc_item_t(
                value: ajwt_str_t(data: buf.data! + item.value.lowerBound, len: item.value.count),
                flags: item.flags,
                cas: item.cas
            )
        }
    )
    // Items are the reply's only once it is whole and valid.
    if case .done = framing {} else {
        clear()
    }
    return framing.cFraming(length)
}

@c @implementation
public func ajwt_mc_frame_line(_ buf: ajwt_str_t, _ length: UnsafeMutablePointer<UInt64>?) -> ajwt_mc_framing_t {
    guard let buffer = UnsafeRawBufferPointer(buf) else {
        return AJWT_MC_INVALID
    }
    return MemcachedReply.frameLine(buffer).cFraming(length)
}

extension MemcachedReply.Framing {
    fileprivate func cFraming(_ length: UnsafeMutablePointer<UInt64>?) -> ajwt_mc_framing_t {
        switch self {
        case .done(let bytes):
            length?.pointee = UInt64(bytes)
            return AJWT_MC_DONE
        case .again(let need):
            length?.pointee = UInt64(need)
            return AJWT_MC_AGAIN
        case .invalid:
            return AJWT_MC_INVALID
        case .tooLong(let announced):
            length?.pointee = announced
            return AJWT_MC_TOO_LONG
        }
    }
}
