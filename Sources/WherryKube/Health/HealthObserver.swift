public import Logging
import Synchronization
public import WherryModel

/// The live health of applied objects for the whole controller: one LIST+WATCH per kind and namespace that some
/// service waits on, shared by every waiting service, instead of each service reading its objects every few seconds.
///
/// A service that waits (``waitUntilHealthy(_:generations:timeout:)``) subscribes to the objects it applied and is
/// woken when one of them changes; waiting costs no request. Each collection's watcher (an informer) lists its
/// collection, then watches from the list's resourceVersion; a watch the server ends is resumed where it was, one
/// whose resourceVersion is too old (410) lists again, and a collection the controller may not watch (403, or a
/// client without watches) is listed every ``pollInterval`` instead while someone waits. An informer keeps only
/// each object's generation and ``Health`` — not the object — and stops ``linger`` after its last subscriber
/// leaves. Verdicts are ``Health/of(_:)``'s, as for a single read.
public final class HealthObserver: Sendable {
    let api: any KubeAPI
    let mapper: RESTMapper
    let logger: Logger
    /// How often a collection that cannot be watched is listed while someone waits on it.
    public let pollInterval: Duration
    /// How long an informer outlives its last subscriber (the next service often waits on the same collection).
    public let linger: Duration
    let state = Mutex(State())
    /// The order services waiting for a place in the backlog are admitted in.
    let queue = AsyncSemaphore(permits: 1)

    /// What one object looked like at its last event: enough to judge it, without the object.
    struct Observed: Sendable {
        var generation: Int64?
        var health: Health
        /// Whether its controller has not seen this generation yet (``Health/awaitsController(_:)``).
        var awaitsController = false
    }

    /// One collection's informer.
    struct Informer {
        var objects: [String: Observed] = [:]
        /// Whether a first list succeeded.
        var synced = false
        /// Why the collection cannot be read now, while it cannot.
        var problem: String?
        /// Whether its changes arrive by watch (else by polling).
        var watching = false
        /// Subscribers by the object names they wait on.
        var interest: [String: Set<Int>] = [:]
        /// The newest generation a waiter wants to see, by object name (while someone waits on it).
        var wanted: [String: Int64] = [:]
        /// Since when someone waits on each object.
        var since: [String: ContinuousClock.Instant] = [:]
        var subscribers: [Int: AsyncStream<Void>.Continuation] = [:]
        var task: Task<Void, Never>?
        /// Bumped by every subscribe and unsubscribe, so a linger that sees it unchanged knows nobody came back.
        var epoch = 0
    }

    struct State {
        var informers: [String: Informer] = [:]
        var nextID = 0
        /// Places held in the backlog by services about to apply.
        var reserved = 0
        /// Services waiting for a place (``waitForControllers(below:interval:)``).
        var queued = 0
        /// Lists and watches started, for tests and metrics.
        var lists = 0
        var watches = 0
    }

    public init(
        api: any KubeAPI, mapper: RESTMapper, pollInterval: Duration = .milliseconds(250),
        linger: Duration = .seconds(10), logger: Logger = Logger(label: "wherry.health")
    ) {
        self.api = api
        self.mapper = mapper
        self.pollInterval = pollInterval
        self.linger = linger
        self.logger = logger
    }

    /// Lists and watches started so far (for tests and diagnostics).
    public var requests: (lists: Int, watches: Int) { state.withLock { ($0.lists, $0.watches) } }

    /// Collections observed now, each with whether it is watched (else polled).
    public var collections: [String: Bool] { state.withLock { $0.informers.mapValues(\.watching) } }

    /// The objects someone waits on that the cluster's controllers have not caught up with: not seen by the watch
    /// yet, seen at an older generation than the apply left, or seen with a generation their controller has not
    /// observed; plus the places held for services about to apply (``waitForControllers(below:)``). It grows when
    /// services apply faster than the controllers work (a thousand Deployments against the Deployment controller's
    /// own request rate); new applies that would wait behind it only time out, so they are held back while it is
    /// large. Objects whose controller saw them but that are not ready yet (a slow rollout, an image pull) do not
    /// count.
    public var controllerBacklog: Int { state.withLock { Self.backlog(of: $0) } }

    /// How long one waited-on object counts in the backlog at most: one its controller never gets to (a kind
    /// whose operator is down, an object deleted after its apply) must not hold every other apply back for its
    /// whole timeout. A controller merely behind works through the backlog's limit well within it.
    public static let backlogAge: Duration = .seconds(30)

    static func backlog(of state: State, now: ContinuousClock.Instant = .now) -> Int {
        var count = state.reserved
        // A collection that cannot be read says nothing of its controller: its waits time out on their own.
        for informer in state.informers.values where informer.problem == nil {
            for (name, since) in informer.since where now - since < backlogAge {
                guard informer.synced, let observed = informer.objects[name] else {
                    count += 1
                    continue
                }
                let wanted = informer.wanted[name] ?? 0
                if observed.awaitsController || (observed.generation ?? wanted) < wanted { count += 1 }
            }
        }
        return count
    }

    /// A place in the backlog held for one service between the moment it may apply and the moment it waits on what
    /// it applied (when its objects count by themselves); given back by ``release()`` (at most once) or by passing it
    /// to ``waitUntilHealthy(_:generations:timeout:reservation:)``.
    public final class Reservation: Sendable {
        private let observer: HealthObserver
        private let held = Mutex(true)

        init(_ observer: HealthObserver) { self.observer = observer }

        public func release() {
            guard
                held.withLock({ held in
                    defer { held = false }; return held
                })
            else { return }
            observer.state.withLock { $0.reserved -= 1 }
        }

        deinit { release() }
    }

    /// A place in the backlog when it is below `limit` now and nobody is queued for one, else `nil`.
    public func reserve(below limit: Int) -> Reservation? {
        reserve(below: limit, queued: false)
    }

    private func reserve(below limit: Int, queued: Bool) -> Reservation? {
        let admitted = state.withLock { state -> Bool in
            guard queued || state.queued == 0, Self.backlog(of: state) < max(1, limit) else { return false }
            state.reserved += 1
            return true
        }
        return admitted ? Reservation(self) : nil
    }

    /// Returns once ``controllerBacklog`` is below `limit` (at once when it is and nobody is queued), with a place
    /// held in the backlog until the reservation is released: services admitted together overshoot it by their
    /// objects beyond the first at most. Waiters are admitted in the order they came, and only the first of them
    /// looks at the backlog, every `interval`. Returns early (still with a reservation) when the task is cancelled.
    /// Also returns how long it waited.
    public func waitForControllers(
        below limit: Int, interval: Duration = .milliseconds(200)
    ) async -> (Reservation, waited: Duration) {
        let start = ContinuousClock.now
        if let reservation = reserve(below: limit) { return (reservation, .zero) }
        state.withLock { $0.queued += 1 }
        defer { state.withLock { $0.queued -= 1 } }
        let turn = await queue.permit()
        defer { turn?.release() }
        while true {
            if let reservation = reserve(below: Task.isCancelled || turn == nil ? Int.max : limit, queued: true) {
                return (reservation, ContinuousClock.now - start)
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Stops every informer (tests; a process that exits needs not).
    public func stop() {
        let tasks = state.withLock { state in
            defer { state.informers = [:] }
            return state.informers.values.compactMap(\.task)
        }
        for task in tasks { task.cancel() }
    }

    /// Waits until every object is healthy. `generations` holds, per object, the `metadata.generation` the apply
    /// left it at: an older observation of it does not count (the watch has not caught up with the write yet).
    /// Fails at once when one is degraded, with its reason; fails when `timeout` passes with objects still
    /// progressing, saying what each awaits; fails with a cancelled error when the task is cancelled.
    /// `reservation` is released once the objects are subscribed to (they count in ``controllerBacklog`` by
    /// themselves from then on).
    public func waitUntilHealthy(
        _ entries: [InventoryEntry], generations: [ObjectRef: Int64] = [:], timeout: Duration,
        reservation: Reservation? = nil
    ) async throws(ApplyError) {
        defer { reservation?.release() }
        let pending = entries.filter { ResourceManager.hasHealthCheck($0.ref) }
        guard !pending.isEmpty else { return }
        let deadline = ContinuousClock.now + timeout
        var paths: [ObjectRef: String] = [:]
        var unmapped: [ObjectRef: String] = [:]
        for entry in pending {
            do {
                let mapping = try await mapper.mapping(for: entry.groupVersionKind)
                paths[entry.ref] = mapping.collectionPath(namespace: mapping.namespaced ? entry.ref.namespace : nil)
            } catch {
                if error.isCancelled { throw Self.cancelled(pending) }
                unmapped[entry.ref] = ResourceManager.message(error)
            }
        }
        let (wake, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = subscribe(
            paths, kinds: Dictionary(pending.map { ($0.ref, $0) }, uniquingKeysWith: { a, _ in a }),
            generations: generations, continuation: continuation)
        reservation?.release()
        let timer = Task {
            try? await Task.sleep(until: deadline)
            continuation.yield()
        }
        defer {
            timer.cancel()
            unsubscribe(id, from: Set(paths.values))
            continuation.finish()
        }
        var wakes = wake.makeAsyncIterator()
        while true {
            let verdicts = judge(pending, paths: paths, unmapped: unmapped, generations: generations)
            let degraded = verdicts.compactMap { ref, verdict -> ObjectFailure? in
                guard case .degraded(let reason) = verdict else { return nil }
                return ObjectFailure(ref: ref, message: reason, reason: "Degraded", isTransient: false)
            }
            if !degraded.isEmpty { throw ApplyError(step: .health, failures: degraded.sorted { $0.ref < $1.ref }) }
            let waiting = verdicts.compactMap { ref, verdict -> (ObjectRef, String)? in
                guard case .progressing(let reason) = verdict else { return nil }
                return (ref, reason)
            }
            guard !waiting.isEmpty else { return }
            guard ContinuousClock.now < deadline else {
                throw ApplyError(
                    step: .health,
                    failures: waiting.sorted { $0.0 < $1.0 }.map {
                        ObjectFailure(
                            ref: $0.0, message: "not healthy after \(timeout): \($0.1)", reason: "Timeout",
                            isTransient: true)
                    })
            }
            guard await wakes.next() != nil, !Task.isCancelled else { throw Self.cancelled(pending) }
        }
    }

    /// Each object's verdict from what its informer saw.
    private func judge(
        _ entries: [InventoryEntry], paths: [ObjectRef: String], unmapped: [ObjectRef: String],
        generations: [ObjectRef: Int64]
    ) -> [ObjectRef: Health] {
        state.withLock { state in
            var verdicts: [ObjectRef: Health] = [:]
            for entry in entries {
                let ref = entry.ref
                guard let path = paths[ref], let informer = state.informers[path] else {
                    verdicts[ref] = .progressing(unmapped[ref] ?? "not observed yet")
                    continue
                }
                guard informer.synced else {
                    verdicts[ref] = .progressing(informer.problem ?? "waiting for the first list of \(path)")
                    continue
                }
                guard let observed = informer.objects[ref.name] else {
                    verdicts[ref] = .progressing(
                        informer.problem.map { "not found (\($0))" } ?? "not found")
                    continue
                }
                if let wanted = generations[ref], let seen = observed.generation, seen < wanted {
                    verdicts[ref] = .progressing("generation \(wanted) not observed yet (seen \(seen))")
                    continue
                }
                verdicts[ref] = observed.health
            }
            return verdicts
        }
    }

    /// Registers a waiter for the named objects of each collection, starting the informers not running yet.
    private func subscribe(
        _ paths: [ObjectRef: String], kinds: [ObjectRef: InventoryEntry], generations: [ObjectRef: Int64],
        continuation: AsyncStream<Void>.Continuation
    ) -> Int {
        var byPath: [String: [ObjectRef]] = [:]
        for (ref, path) in paths { byPath[path, default: []].append(ref) }
        let (id, starting) = state.withLock { state -> (Int, [(String, InventoryEntry)]) in
            state.nextID += 1
            let id = state.nextID
            var starting: [(String, InventoryEntry)] = []
            for (path, refs) in byPath {
                var informer = state.informers[path] ?? Informer()
                informer.epoch += 1
                informer.subscribers[id] = continuation
                for ref in refs {
                    informer.interest[ref.name, default: []].insert(id)
                    if informer.since[ref.name] == nil { informer.since[ref.name] = .now }
                    if let generation = generations[ref] {
                        informer.wanted[ref.name] = max(informer.wanted[ref.name] ?? 0, generation)
                    }
                }
                if informer.task == nil, let entry = refs.first.flatMap({ kinds[$0] }) {
                    starting.append((path, entry))
                }
                state.informers[path] = informer
            }
            return (id, starting)
        }
        for (path, entry) in starting {
            let task = Task { await self.inform(path, kind: entry.ref.kind, apiVersion: entry.apiVersion) }
            let started = state.withLock { state -> Bool in
                guard state.informers[path]?.task == nil else { return false }
                state.informers[path]?.task = task
                return true
            }
            if !started { task.cancel() }
        }
        return id
    }

    /// Removes a waiter; an informer left without one stops after ``linger`` unless someone subscribes meanwhile.
    private func unsubscribe(_ id: Int, from paths: Set<String>) {
        let idle = state.withLock { state -> [(String, Int)] in
            var idle: [(String, Int)] = []
            for path in paths {
                guard var informer = state.informers[path] else { continue }
                informer.subscribers[id] = nil
                for name in Array(informer.interest.keys) {
                    informer.interest[name]?.remove(id)
                    if informer.interest[name]?.isEmpty == true {
                        informer.interest[name] = nil
                        informer.wanted[name] = nil
                        informer.since[name] = nil
                    }
                }
                informer.epoch += 1
                if informer.subscribers.isEmpty { idle.append((path, informer.epoch)) }
                state.informers[path] = informer
            }
            return idle
        }
        for (path, epoch) in idle {
            Task {
                try? await Task.sleep(for: linger)
                let task = state.withLock { state -> Task<Void, Never>? in
                    guard let informer = state.informers[path], informer.epoch == epoch,
                        informer.subscribers.isEmpty
                    else { return nil }
                    state.informers[path] = nil
                    return informer.task
                }
                task?.cancel()
            }
        }
    }

    static func cancelled(_ entries: [InventoryEntry]) -> ApplyError {
        let error = HTTPKubeAPI.cancelled("wait for health")
        return ApplyError(step: .health, failures: entries.map { ObjectFailure(ref: $0.ref, error: error) })
    }
}
