import CFuzzDriver

#if canImport(Glibc)
import Glibc
#endif

/// One fuzz input, as libFuzzer passes it to the callback.
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

/// Runs libFuzzer with the process's arguments, calling `body` once per input, and exits with libFuzzer's status.
///
/// SwiftPM links an executable's top-level code as `main`, so libFuzzer's own `main` is never used: this is how a
/// SwiftPM target becomes a fuzzer (see platform-notes: `<Target>_main` forwarding to `LLVMFuzzerRunDriver`).
public func runFuzzer(_ body: FuzzCallback) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, body))
}

/// Stops the fuzzer with a crash when an invariant of the API does not hold: libFuzzer saves the input.
public func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        fatalError("fuzz invariant violated: \(message())")
    }
}

/// With FUZZ_VERBOSE set, each input's outcome is printed: to see what a corpus file reaches.
public let verbose = getenv("FUZZ_VERBOSE") != nil

public func trace(_ message: @autoclosure () -> String) {
    if verbose {
        print(message())
    }
}

extension UnsafeRawBufferPointer {
    /// The fuzz input libFuzzer passed (its pointer may be NULL for an empty input).
    public init(fuzzInput data: UnsafePointer<UInt8>?, count: Int) {
        self.init(start: count == 0 ? nil : data, count: count)
    }
}

/// A heap buffer of exactly `count` bytes, so AddressSanitizer reports any write past what the API was given.
public struct ExactBuffer: ~Copyable {
    public let pointer: UnsafeMutablePointer<UInt8>?
    public let count: Int

    public init(count: Int) {
        self.count = count
        self.pointer = count > 0 ? UnsafeMutablePointer<UInt8>(OpaquePointer(malloc(count))) : nil
    }

    deinit {
        free(self.pointer)
    }

    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: self.pointer, count: self.count)
    }
}
