import AuthServerCore
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// Runs beside the HTTP server: SIGHUP starts a key rotation; every second, keys whose last token has expired are
/// removed, and the scheduled rotation (`--rotate-every`) starts when due.
///
/// SIGHUP rather than an HTTP endpoint: only the server's owner (or root) can send it, and nothing new listens.
struct KeyMaintenance: Service {
    /// `nil` with a single `--signing-key`: SIGHUP is then logged and ignored.
    let keys: RotatingKeys?
    let logger: Logger
    /// Trapped before the server listens, so that no SIGHUP can find the default action (exit).
    let hangups: UnixSignalsSequence

    init(keys: RotatingKeys?, logger: Logger) async {
        self.keys = keys
        self.logger = logger
        self.hangups = await UnixSignalsSequence(trapping: .sighup)
    }

    func run() async throws {
        let hangups = self.hangups
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in hangups {
                        await self.rotate()
                    }
                }
                if self.keys != nil {
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .seconds(1))
                            await self.maintain()
                        }
                    }
                }
            }
        }
    }

    private func rotate() async {
        guard let keys = self.keys else {
            self.logger.warning("SIGHUP ignored: key rotation needs --keys-dir")
            return
        }
        do {
            let event = try await NIOThreadPool.singleton.runIfActive { try keys.rotate(now: Self.now()) }
            self.logger.notice("SIGHUP: \(event)")
        } catch {
            self.logger.error("SIGHUP: key rotation failed: \(error)")
        }
    }

    private func maintain() async {
        guard let keys = self.keys else {
            return
        }
        do {
            for event in try await NIOThreadPool.singleton.runIfActive({ try keys.maintain(now: Self.now()) }) {
                self.logger.notice("\(event)")
            }
        } catch {
            self.logger.error("key maintenance failed: \(error)")
        }
    }

    private static func now() -> Int64 {
        Int64(Date().timeIntervalSince1970)
    }
}
