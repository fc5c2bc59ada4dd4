import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
public import WherryGit
import WherryModel

/// The controller's loop (`wherry run`): polls every repository with one `ls-remote` per `poll_interval`
/// (±10% jitter), hands each service whose branch moved to the ``Reconciler``, retries failures with backoff, and
/// takes triggers from outside (a webhook, a manual sync). At most `maxConcurrentServices` reconciles run at once;
/// triggers for a running service coalesce. On graceful shutdown polling stops, no new reconcile starts, and the
/// ones in flight finish before ``run()`` returns.
public final class ReconcileLoop: Service, Sendable {
    public let config: WherryConfig
    public let reconciler: Reconciler
    public let maxConcurrentServices: Int
    private let git: any GitSource
    private let environment: [String: String]?
    private let logger: Logger
    private let state = Mutex(LoopState())
    private let work: AsyncStream<Work>
    private let workInput: AsyncStream<Work>.Continuation
    private let origin = ContinuousClock.now
    private let notify: @Sendable (DeployNotification) -> Void
    private let metrics: ControllerMetrics

    /// One reconcile to run.
    struct Work: Sendable {
        var service: String
        var trigger: ReconcileTrigger
    }

    /// What the loop knows between reconciles.
    struct LoopState {
        var schedules: [String: ServiceSchedule] = [:]
        /// The commit each service last reconciled successfully at (applied or found up to date).
        var seen: [String: String] = [:]
        /// The last answer of `ls-remote` per repository key.
        var heads: [String: Result<String, GitError>] = [:]
        /// Repositories polled at least once.
        var polled: Set<String> = []
        /// The error last notified per failing service: a failure retried with the same error is told once.
        var notifiedError: [String: String] = [:]
        var stopping = false
    }

    public init(
        config: WherryConfig, reconciler: Reconciler, maxConcurrentServices: Int = 4,
        environment: [String: String]? = nil, logger: Logger = Logger(label: "wherry.loop"),
        metrics: ControllerMetrics = ControllerMetrics(),
        notify: @escaping @Sendable (DeployNotification) -> Void = { _ in }
    ) {
        self.notify = notify
        self.metrics = metrics
        self.config = config
        self.reconciler = reconciler
        self.maxConcurrentServices = max(1, maxConcurrentServices)
        git = reconciler.syncer.renderer.git
        self.environment = environment
        self.logger = logger
        (work, workInput) = AsyncStream.makeStream(of: Work.self)
    }

    /// Whether every repository was polled once (`/readyz`).
    public var isReady: Bool {
        state.withLock { state in
            Set(config.repositories.map(\.key)).subtracting(state.polled).isEmpty
        }
    }

    /// The last branch head seen per repository key.
    public var heads: [String: Result<String, GitError>] { state.withLock { $0.heads } }

    /// The schedule of every service (running, failures, next retry).
    public var schedules: [String: ServiceSchedule] { state.withLock { $0.schedules } }

    /// Asks for a reconcile of one service; `false` when no such service is configured.
    @discardableResult
    public func trigger(service name: String, _ trigger: ReconcileTrigger) -> Bool {
        guard config.services.contains(where: { $0.name == name }) else { return false }
        enqueue(name, trigger, newCommit: true)
        return true
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Polling stops at graceful shutdown; then no new work is taken.
                await cancelWhenGracefulShutdown { await self.poll() }
                self.stop()
            }
            group.addTask { await self.consume() }
        }
        logger.info("Reconcile loop stopped")
    }

    // MARK: - Polling

    private func poll() async {
        await withTaskGroup(of: Void.self) { group in
            for repository in config.repositories
            where config.services.contains(where: { $0.repository == repository.key }) {
                group.addTask { await self.poll(repository) }
            }
            group.addTask { await self.retryDueServices() }
        }
    }

    /// Polls one repository until cancelled.
    private func poll(_ repository: RepositoryConfig) async {
        let services = config.services.filter { $0.repository == repository.key }
        var logger = self.logger
        logger[metadataKey: "wherry.repo"] = "\(repository.displayName)"
        var failing = false
        while !Task.isCancelled {
            let head: Result<String, GitError>
            do {
                head = .success(try await git.resolve(try repository.gitRepository(environment: environment)))
            } catch let error as GitError {
                head = .failure(error)
            } catch {
                // The repository's credentials cannot be read: each service's reconcile reports it.
                head = .failure(
                    GitError(
                        kind: .authenticationFailed, operation: "credentials", remote: repository.displayName,
                        message: "\(error)"))
            }
            state.withLock { state in
                state.heads[repository.key] = head
                state.polled.insert(repository.key)
            }
            switch head {
            case .success(let commit):
                if failing { logger.notice("Repository reachable again") }
                failing = false
                for service in services where !service.suspend {
                    let isNew = state.withLock { $0.seen[service.name] != commit }
                    if isNew { enqueue(service.name, .poll, newCommit: true) }
                }
            case .failure(let error):
                // Said once per failure streak; the services keep what they applied.
                if !failing { logger.warning("Cannot poll the repository", metadata: ["wherry.error": "\(error)"]) }
                metrics.pollFailed(repository: repository.displayName)
                failing = true
            }
            let seconds = Double(max(1, config.pollInterval)) * Double.random(in: 0.9...1.1)
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        }
    }

    /// Starts due retries of failed services, checking once a second.
    private func retryDueServices() async {
        while !Task.isCancelled {
            let now = self.now
            let due = state.withLock { state in
                state.schedules.filter { _, schedule in
                    !schedule.running && schedule.failures > 0 && (schedule.retryAt ?? 0) <= now
                }.map(\.key)
            }
            for name in due.sorted() { enqueue(name, .retry, newCommit: false) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - Running

    private func enqueue(_ name: String, _ trigger: ReconcileTrigger, newCommit: Bool) {
        let now = self.now
        let start = state.withLock { state in
            !state.stopping
                && state.schedules[name, default: ServiceSchedule()].request(trigger, newCommit: newCommit, now: now)
        }
        if start { workInput.yield(Work(service: name, trigger: trigger)) }
    }

    /// Runs queued work, `maxConcurrentServices` at a time, until the queue ends; waits for what runs.
    private func consume() async {
        await withTaskGroup(of: Void.self) { group in
            var active = 0
            for await item in work {
                if state.withLock({ $0.stopping }) { break }
                if active >= maxConcurrentServices {
                    await group.next()
                    active -= 1
                }
                group.addTask { await self.execute(item) }
                active += 1
            }
        }
    }

    private func execute(_ item: Work) async {
        guard let service = config.services.first(where: { $0.name == item.service }) else { return }
        var resolved = state.withLock { $0.heads[service.repository] }
        if item.trigger == .webhook || item.trigger == .manual || resolved == nil {
            // Asked from outside: the branch may have moved since the last poll.
            resolved = nil
        }
        let started = ContinuousClock.now
        let outcome = await reconciler.reconcile(service, in: config, resolved: resolved, trigger: item.trigger)
        measure(outcome, service: service.name, duration: ContinuousClock.now - started)
        let succeeded: Bool?
        var commit: String?
        switch outcome {
        case .applied(let result, _):
            succeeded = true
            commit = result.commit
        case .upToDate(let revision, _):
            succeeded = true
            commit = revision
        case .failed:
            succeeded = false
        case .suspended, .cancelled:
            succeeded = nil
        }
        tell(outcome, service: service)
        let now = self.now
        let next = state.withLock { state -> ReconcileTrigger? in
            if let commit { state.seen[service.name] = commit }
            let next = state.schedules[service.name, default: ServiceSchedule()].finished(
                succeeded: succeeded, now: now, jitter: Double.random(in: -0.1...0.1))
            return state.stopping ? nil : next
        }
        if let next { workInput.yield(Work(service: service.name, trigger: next)) }
    }

    private func measure(_ outcome: ReconcileOutcome, service: String, duration: Duration) {
        switch outcome {
        case .applied(let result, _):
            metrics.reconciled(
                service: service, result: "succeeded", duration: duration, changes: result.changes.counts)
        case .upToDate:
            metrics.reconciled(service: service, result: "unchanged", duration: duration, changes: [:])
        case .failed:
            metrics.reconciled(service: service, result: "failed", duration: duration, changes: [:])
        case .suspended, .cancelled:
            break
        }
    }

    /// Notifies what changed or failed; not an unchanged poll, and a repeated failure only once.
    private func tell(_ outcome: ReconcileOutcome, service: ServiceConfig) {
        let repository = config.repository(for: service)?.displayName ?? service.repository
        switch outcome {
        case .applied(let result, _):
            state.withLock { $0.notifiedError[service.name] = nil }
            guard result.changes.hasChanges else { return }
            notify(
                DeployNotification(
                    service: service.name, repository: repository, revision: result.commit, succeeded: true,
                    changes: result.changes.counts))
        case .failed(let error):
            let message = error.description
            let repeated = state.withLock { state in
                defer { state.notifiedError[service.name] = message }
                return state.notifiedError[service.name] == message
            }
            guard !repeated else { return }
            let revision: String = if case .apply(_, let commit, _) = error { commit } else { "" }
            notify(
                DeployNotification(
                    service: service.name, repository: repository, revision: revision, succeeded: false,
                    error: message))
        case .upToDate:
            state.withLock { $0.notifiedError[service.name] = nil }
        case .suspended, .cancelled:
            break
        }
    }

    /// Stops taking work: polling has ended.
    private func stop() {
        state.withLock { $0.stopping = true }
        workInput.finish()
    }

    /// Seconds since the loop was made, on a monotonic clock.
    private var now: Double {
        (ContinuousClock.now - origin).inSeconds
    }
}
