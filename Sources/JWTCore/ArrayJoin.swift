extension JSONLookup {
    /// NGINX Plus's form of an array claim for variables: the elements of the JSON array `array` (its text, as
    /// `value(at:in:ignoringCase:)` returns it) separated by commas, strings unescaped, numbers, booleans and
    /// `null` as their JSON text, without spaces. `["a","b\u002c",1,true]` gives `a,b,,1,true`.
    ///
    /// The result is never longer than `array` (brackets, quotes and escapes only shrink), so `output` needs at
    /// most `array.count` bytes; if it is smaller, the result is cut short.
    ///
    /// - Returns: the number of bytes written, or `nil` if an element is an object or an array (the variable then
    ///   keeps the JSON text), or if `array` is not one JSON array.
    public static func joinElements(
        of array: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int? {
        var written = 0
        func write(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                guard written < output.count else {
                    return
                }
                output[written] = byte
                written += 1
            }
        }
        do {
            // The whole text first: one array and nothing after it.
            var document = JSONScanner(array)
            let value = try document.scanDocument()
            guard value.kind == .array else {
                return nil
            }
            var scanner = JSONScanner(value.bytes)
            let contentNesting = try scanner.enterContainer(nesting: 0)
            var isFirst = true
            var needsSeparator = false
            while let element = try scanner.scanElement(isFirst: &isFirst, nesting: contentNesting) {
                if needsSeparator {
                    write(CollectionOfOne(UInt8(ascii: ",")))
                }
                needsSeparator = true
                switch element.kind {
                case .array, .object:
                    return nil
                case .string:
                    write(UnescapedBytes(element.bytes))
                case .number, .true, .false, .null:
                    write(element.bytes)
                }
            }
        } catch {
            return nil
        }
        return written
    }
}
