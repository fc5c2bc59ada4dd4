import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
public import WherryGit
import WherryModel

/// The controller's loop (`wherry run`): polls every repository with one `ls-remote` per `poll_interval`
/// (±10% jitter), hands each service whose branch moved to the ``Reconciler``, retries failures with backoff, and
/// takes triggers from outside (a webhook, a manual sync). At most `maxConcurrentServices` services apply at once
/// (requests in flight stay bounded by the client's concurrency); a service waiting for health holds no such slot,
/// so waits do not hold applies up. Triggers for a running service coalesce. On graceful shutdown polling stops, no new reconcile starts, and the
/// ones in flight finish before ``run()`` returns.
public final class ReconcileLoop: Service, Sendable {
    /// The config in force: the one it was made with, or the last ``reload(_:)`` gave it.
    public var config: WherryConfig { current.withLock { $0.config } }
    /// The config and its generation (each reload adds one: the pollers restart on the new config).
    let current: Mutex<(config: WherryConfig, generation: Int)>
    public let reconciler: Reconciler
    public let maxConcurrentServices: Int
    /// The apply slots (``maxConcurrentServices``) every reconcile takes from locate to its recorded inventory.
    let slots: AsyncSemaphore
    let git: any GitSource
    let environment: [String: String]?
    let logger: Logger
    let state = Mutex(LoopState())
    private let origin = ContinuousClock.now
    private let notify: @Sendable (DeployNotification) -> Void
    /// Where watchers of the event stream hear what happens (``EventBus``).
    let emit: ControllerEventSink
    let metrics: ControllerMetrics
    /// How long to wait before each new try of the LIST that reads the runtime suspensions at the start of a term;
    /// once they are all spent, the state store's copy is used.
    let suspensionReadRetries: [Duration]

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
        /// The branch head each service was last attempted at, whatever the outcome: a poll that sees the same head
        /// after a failure is not a new commit, so it waits for the backoff.
        var attempted: [String: String] = [:]
        /// The health wait of each running reconcile, which a newer commit or a shutdown ends early.
        var interruptions: [String: WaitInterruption] = [:]
        /// The last answer of `ls-remote` per repository key.
        var heads: [String: Result<String, GitError>] = [:]
        /// Repositories polled at least once.
        var polled: Set<String> = []
        /// The error last notified per failing service: a failure retried with the same error is told once.
        var notifiedError: [String: String] = [:]
        /// When (loop clock) each service was last compared with the cluster: applied, or drift-checked.
        var lastCompared: [String: Double] = [:]
        /// Services waiting for a dependency, with the dependency they wait for.
        var blocked: [String: String] = [:]
        /// Repositories to poll now rather than at the end of the poll interval (a push webhook arrived).
        var wake: Set<String> = []
        /// The strongest trigger a blocked service was asked with (a manual sync must not become a poll).
        var blockedTriggers: [String: ReconcileTrigger] = [:]
        /// Services that have an inventory but are no longer configured, with how many objects they left.
        var orphans: [String: Int] = [:]
        /// Services suspended at runtime (`wherry suspend`), with since when.
        var suspended: [String: Date] = [:]
        /// Where work goes while ``run()`` runs.
        var input: AsyncStream<Work>.Continuation?
        /// Work asked for before ``run()`` started (a webhook as the server comes up): run first.
        var queued: [Work] = []
        var stopping = false

        /// Drops what is known of a service no longer configured: its schedule (a run, a pending trigger, a
        /// backoff), the commits it was seen and attempted at, and what it waited for.
        mutating func forget(_ name: String) {
            schedules[name] = nil
            seen[name] = nil
            attempted[name] = nil
            lastCompared[name] = nil
            notifiedError[name] = nil
            suspended[name] = nil
            blocked[name] = nil
            blockedTriggers[name] = nil
        }
    }

    public init(
        config: WherryConfig, reconciler: Reconciler, maxConcurrentServices: Int = 4,
        environment: [String: String]? = nil, logger: Logger = Logger(label: "wherry.loop"),
        metrics: ControllerMetrics = ControllerMetrics(),
        notify: @escaping @Sendable (DeployNotification) -> Void = { _ in },
        events: @escaping ControllerEventSink = { _ in },
        suspensionReadRetries: [Duration] = [1, 2, 4, 8, 15].map { .seconds($0) }
    ) {
        self.notify = notify
        self.suspensionReadRetries = suspensionReadRetries
        emit = events
        self.metrics = metrics
        current = Mutex((config, 0))
        self.reconciler = reconciler
        self.maxConcurrentServices = max(1, maxConcurrentServices)
        slots = AsyncSemaphore(permits: self.maxConcurrentServices)
        git = reconciler.syncer.renderer.git
        self.environment = environment
        self.logger = logger
    }

    /// Whether every repository a service uses was polled once (`/readyz`); a repository no service uses is never
    /// polled, so it does not count.
    public var isReady: Bool {
        state.withLock { state in
            Set(config.services.map(\.repository)).subtracting(state.polled).isEmpty
        }
    }

    /// The last branch head seen per repository key.
    public var heads: [String: Result<String, GitError>] { state.withLock { $0.heads } }

    /// The commit each service last reconciled successfully at (applied, or found up to date) in this term.
    public var reconciledRevisions: [String: String] { state.withLock { $0.seen } }

    /// The schedule of every service (running, failures, next retry).
    public var schedules: [String: ServiceSchedule] { state.withLock { $0.schedules } }

    /// Services waiting for a dependency, with the dependency each waits for (`db (suspended)` when that dependency
    /// is suspended: it will not run until resumed).
    public var blocked: [String: String] {
        state.withLock { state in
            state.blocked.mapValues { name in
                config.service(named: name)?.suspend == true || state.suspended[name] != nil
                    ? "\(name) (suspended)" : name
            }
        }
    }

    /// Services no longer configured whose objects were left in the cluster, with their object counts.
    public var orphans: [String: Int] { state.withLock { $0.orphans } }

    /// Asks for a reconcile of one service; `false` when no such service is configured.
    @discardableResult
    public func trigger(service name: String, _ trigger: ReconcileTrigger) -> Bool {
        guard let service = config.service(named: name) else { return false }
        // A push may have moved the branch: its poller asks now (a running health wait then sees the new head).
        if trigger == .webhook { state.withLock { _ = $0.wake.insert(service.repository) } }
        enqueue(name, trigger, newCommit: true)
        return true
    }

    /// Runs until graceful shutdown (applies in flight finish) or cancellation (they are cancelled: what a leader
    /// that lost its lease does). It can run again afterwards: a new leadership term starts with a fresh queue and
    /// the failures and backoffs it knew.
    public func run() async throws {
        let (work, input) = AsyncStream.makeStream(of: Work.self)
        state.withLock { state in
            state.input = input
            state.stopping = false
            let queued = Set(state.queued.map(\.service))
            // Runs a cancelled term left unfinished will not report their end.
            for name in state.schedules.keys where !queued.contains(name) { state.schedules[name]?.abandonRun() }
            for item in state.queued { input.yield(item) }
            state.queued = []
            state.seen = [:]
            state.attempted = [:]
            state.blocked = [:]
            state.blockedTriggers = [:]
            state.polled = []
        }
        // Another leader may have applied meanwhile: the cluster's records are read again this term.
        reconciler.syncer.inventories.forgetRecorded()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Polling stops at graceful shutdown; then no new work is taken.
                await cancelWhenGracefulShutdown { await self.poll() }
                self.stop()
            }
            group.addTask {
                // Polls start at once (heads, readiness); work waits until the runtime suspensions are read, so a
                // service suspended by this or another replica stays untouched even while the cluster is away.
                await self.loadSuspensions()
                await self.consume(work)
            }
        }
        logger.info("Reconcile loop stopped")
    }

    // MARK: - Running

    /// Asks for a run of `name`; `head` is the branch head a poll saw. When the service is running at another
    /// commit, its health wait hears of the new head (and ends if that commit changes the service).
    func enqueue(_ name: String, _ trigger: ReconcileTrigger, newCommit: Bool, head: String? = nil) {
        let now = self.now
        let (start, interruption) = state.withLock { state -> (Bool, WaitInterruption?) in
            let start =
                !state.stopping
                && state.schedules[name, default: ServiceSchedule()].request(trigger, newCommit: newCommit, now: now)
            guard let head, let running = state.interruptions[name], running.located != head,
                !running.signals.contains(.newHead(head))
            else { return (start, nil) }
            return (start, running)
        }
        if let head { interruption?.send(.newHead(head)) }
        guard start else { return }
        let item = Work(service: name, trigger: trigger)
        state.withLock { state in
            if let input = state.input { input.yield(item) } else { state.queued.append(item) }
        }
    }

    /// Runs queued work until the queue ends; waits for what runs. Each item waits for its admission (an apply slot,
    /// see ``slots``, and for a service that waits for health a place in the controller backlog) before its run
    /// starts.
    private func consume(_ work: AsyncStream<Work>) async {
        await withDiscardingTaskGroup { group in
            for await item in work {
                if state.withLock({ $0.stopping }) { break }
                group.addTask { await self.admitAndExecute(item) }
            }
        }
    }

    /// Waits for the item's admission in a small frame, then runs it: a thousand services queued at once hold a
    /// thousand small waits, not a thousand runs' state (some 25 KB each).
    private func admitAndExecute(_ item: Work) async {
        // One removed from the config meanwhile has nothing to wait for.
        guard let service = config.services.first(where: { $0.name == item.service }) else {
            return await execute(item, admission: nil)
        }
        // Held back behind the controllers only when it would apply and wait: not a suspended one, nor one waiting
        // for a dependency (it ends at once, saying so).
        let holdBack = state.withLock { state in
            service.wait && !(service.suspend && item.trigger != .manual) && state.suspended[service.name] == nil
                && unmetDependency(of: service, in: state) == nil
        }
        let admission = await reconciler.admit(slots: slots, holdBack: holdBack)
        // Cancelled while waiting (the term ended), or a graceful shutdown began: it does not run.
        guard let admission, !state.withLock({ $0.stopping }) else {
            admission?.release()
            state.withLock { $0.schedules[item.service]?.abandonRun() }
            return
        }
        await execute(item, admission: admission)
    }

    // Not inlined into its task's closure: the closure's frame, allocated when the task starts, stays small.
    @inline(never)
    private func execute(_ item: Work, admission: Reconciler.Admission?) async {
        defer { admission?.release() }
        guard let service = config.services.first(where: { $0.name == item.service }) else {
            // Removed from the config meanwhile: its run ends here, so the service runs again if it is added back.
            state.withLock { $0.forget(item.service) }
            return
        }
        // Suspended at runtime: not even a manual sync runs (the API refuses it); pending work is dropped.
        if state.withLock({ $0.suspended[service.name] != nil }) {
            let time = self.now
            state.withLock { state in
                if state.schedules[service.name, default: ServiceSchedule()].finished(succeeded: nil, now: time) != nil
                {
                    state.schedules[service.name]?.abandonRun()
                }
            }
            return
        }
        // Checked and marked under one lock, so a dependency finishing meanwhile sees this service waiting for it.
        let time = self.now
        let (waitingFor, first) = state.withLock { state -> (String?, Bool) in
            guard let dependency = unmetDependency(of: service, in: state) else {
                state.blocked[service.name] = nil
                state.blockedTriggers[service.name] = nil
                return (nil, false)
            }
            defer { state.blocked[service.name] = dependency }
            // Kept, so a manual sync asked for now still runs as one when the dependency is ready.
            state.blockedTriggers[service.name] = ServiceSchedule.stronger(
                state.blockedTriggers[service.name], item.trigger)
            // A trigger that arrived meanwhile (a manual sync) is kept for when the dependency is ready too.
            if let pending = state.schedules[service.name, default: ServiceSchedule()].finished(
                succeeded: nil, now: time)
            {
                state.schedules[service.name]?.abandonRun()
                state.blockedTriggers[service.name] = ServiceSchedule.stronger(
                    state.blockedTriggers[service.name], pending)
            }
            return (dependency, state.blocked[service.name] != dependency)
        }
        if let dependency = waitingFor {
            emit(.waiting(service: service.name, dependency: dependency))
            // Run again when the dependency succeeds.
            if first {
                let suspended = isSuspended(dependency)
                logger.info(
                    suspended
                        ? "Waiting for a dependency that is suspended: it runs once the dependency is resumed"
                        : "Waiting for a dependency",
                    metadata: ["wherry.service": "\(service.name)", "wherry.dependency": "\(dependency)"])
            }
            return
        }
        // Only a head polled in this term: the last term's may be long gone (another leader applied newer commits).
        var resolved = state.withLock { $0.polled.contains(service.repository) ? $0.heads[service.repository] : nil }
        if item.trigger == .webhook || item.trigger == .manual || resolved == nil {
            // Asked from outside: the branch may have moved since the last poll.
            resolved = nil
        }
        let started = ContinuousClock.now
        emit(.reconcileStarted(service: service.name, trigger: item.trigger))
        let interruption = WaitInterruption()
        state.withLock { state in
            if case .success(let head)? = resolved { state.attempted[service.name] = head }
            state.interruptions[service.name] = interruption
            // A shutdown that began meanwhile does not wait for this service's health either.
            if state.stopping { interruption.send(.shutdown) }
        }
        let outcome = await reconciler.reconcile(
            service, in: config, resolved: resolved, trigger: item.trigger, interruption: interruption,
            admission: admission)
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
        case .failed(let error):
            succeeded = false
            // The commit it failed at (also when a webhook or manual sync resolved it): polls of it wait for the
            // backoff, or for a new commit when its signature was refused.
            if let located = interruption.located ?? error.refusedCommit {
                state.withLock { $0.attempted[service.name] = located }
            }
        case .suspended, .cancelled, .superseded:
            succeeded = nil
        }
        tell(outcome, service: service)
        let now = self.now
        let (next, unblocked) = state.withLock { state -> (ReconcileTrigger?, [String]) in
            state.interruptions[service.name] = nil
            if let commit {
                state.seen[service.name] = commit
                state.attempted[service.name] = commit
            }
            if case .applied = outcome { state.lastCompared[service.name] = now }
            // Removed from the config while it ran: nothing of it is kept (a failure is not retried).
            guard config.service(named: service.name) != nil else {
                state.forget(service.name)
                return (nil, [])
            }
            let next = state.schedules[service.name, default: ServiceSchedule()].finished(
                succeeded: succeeded, now: now, jitter: Double.random(in: -0.1...0.1),
                policy: outcome.refusedCommit != nil ? .untilNewCommit : service.retry ?? .standard)
            let unblocked =
                succeeded == true ? state.blocked.filter { $0.value == service.name }.map(\.key).sorted() : []
            return (state.stopping ? nil : next, unblocked)
        }
        emit(.reconcileFinished(service: service.name, outcome: outcome))
        if let next { state.withLock { $0.input }?.yield(Work(service: service.name, trigger: next)) }
        for name in unblocked {
            let trigger = state.withLock { $0.blockedTriggers.removeValue(forKey: name) } ?? .poll
            enqueue(name, trigger == .retry ? .poll : trigger, newCommit: true)
        }
    }

    private func measure(_ outcome: ReconcileOutcome, service: String, duration: Duration) {
        switch outcome {
        case .applied(let result, _):
            metrics.reconciled(
                service: service, result: "succeeded", duration: duration, changes: result.changes.counts)
            if !result.drifted.isEmpty { metrics.driftCorrected(service: service, objects: result.drifted.count) }
        case .upToDate:
            metrics.reconciled(service: service, result: "unchanged", duration: duration, changes: [:])
        case .failed:
            metrics.reconciled(service: service, result: "failed", duration: duration, changes: [:])
        case .superseded(let result):
            metrics.reconciled(
                service: service, result: "superseded", duration: duration, changes: result.changes.counts)
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
            let revision = error.commit
            notify(
                DeployNotification(
                    service: service.name, repository: repository, revision: revision, succeeded: false,
                    error: message))
        case .upToDate:
            state.withLock { $0.notifiedError[service.name] = nil }
        case .superseded(let result):
            // Applied: told like any apply that changed something (its health was not waited for).
            guard result.changes.hasChanges else { return }
            notify(
                DeployNotification(
                    service: service.name, repository: repository, revision: result.commit, succeeded: true,
                    changes: result.changes.counts))
        case .suspended, .cancelled:
            break
        }
    }

    /// Stops taking work: polling has ended.
    private func stop() {
        let (input, interruptions) = state.withLock { state in
            state.stopping = true
            defer { state.input = nil }
            return (state.input, Array(state.interruptions.values))
        }
        input?.finish()
        // Applies in flight finish; their health waits do not hold the shutdown (nothing is recorded for them).
        for interruption in interruptions { interruption.send(.shutdown) }
    }

    /// Seconds since the loop was made, on a monotonic clock.
    var now: Double {
        (ContinuousClock.now - origin).inSeconds
    }
}
