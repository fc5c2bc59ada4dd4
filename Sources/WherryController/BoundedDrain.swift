public import Logging
public import ServiceLifecycle
import Synchronization
import WherryModel

/// A service whose graceful shutdown is bounded: once graceful shutdown begins, the wrapped service has `limit` to
/// finish on its own (a reconcile loop lets the applies in flight finish); then it is cancelled and this service
/// returns when it has stopped, without an error. So a drain fits in the time the process is given to stop (a Pod's
/// `terminationGracePeriodSeconds`), leaving the rest for the services stopped after it.
public final class BoundedDrain: Service, Sendable {
    /// The service drained.
    public let service: any Service
    /// How long the drain may take once graceful shutdown begins.
    public let limit: Duration
    private let logger: Logger
    private let began = Mutex(false)

    public init(_ service: any Service, limit: Duration, logger: Logger = Logger(label: "wherry")) {
        self.service = service
        self.limit = limit
        self.logger = logger
    }

    /// Whether graceful shutdown has begun (a signal asked the process to stop).
    public var shutdownBegan: Bool { began.withLock { $0 } }

    /// What ended one of the two tasks of ``run()``.
    private enum Outcome: Sendable {
        case finished
        case overtime
        case cancelled
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask {
                try await self.service.run()
                return .finished
            }
            group.addTask {
                do {
                    try await gracefulShutdown()
                    self.began.withLock { $0 = true }
                    try await Task.sleep(for: self.limit)
                } catch {
                    return .cancelled
                }
                return .overtime
            }
            while let outcome = try await group.next() {
                switch outcome {
                case .finished:
                    group.cancelAll()
                    return
                case .overtime:
                    logger.warning(
                        "Graceful shutdown took too long; cancelling the work in flight",
                        metadata: ["wherry.limit_ms": "\(limit.inMilliseconds)"])
                    group.cancelAll()
                case .cancelled:
                    continue
                }
            }
        }
    }
}
