import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
public import WherryKube
import WherryModel

/// How long a lease lasts and how often it is renewed (client-go's defaults: 15 s, 10 s, 2 s).
public struct LeaseTimings: Sendable, Hashable {
    /// How long a holder that stopped renewing keeps the lease, as seen by the others.
    public var leaseDuration: Duration
    /// How long the holder keeps leading while renewals fail; less than `leaseDuration`, so it stops before
    /// another can take over.
    public var renewDeadline: Duration
    /// How often the holder renews and the others try.
    public var retryPeriod: Duration

    /// How long one attempt to renew or acquire may take (every request in it included) before it is abandoned:
    /// half the renew deadline (at least the retry period), so a stalled request leaves time for another attempt
    /// before the deadline, as client-go bounds each renewal with a context deadline.
    public var attemptTimeout: Duration { max(renewDeadline / 2, min(retryPeriod, renewDeadline)) }

    public init(
        leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
        retryPeriod: Duration = .seconds(2)
    ) {
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }
}

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: the holder renews `renewTime` every
/// `retryPeriod` with an update conditional on the Lease's resourceVersion; the others take over only when the
/// record has not changed for `leaseDuration` of their own clock (so clock skew between machines does not matter).
/// Only the leader runs the work; the moment it cannot renew within `renewDeadline`, or sees another holder, the work
/// is cancelled. On graceful shutdown the holder releases the Lease so another takes over at its next try.
///
/// Fencing: ``fence`` is open only until the start of the last successful renewal plus `renewDeadline`, on the
/// monotonic clock. The client that does the work checks it before every write (``HTTPKubeAPI/fenceWrites(with:)``),
/// and a watchdog cancels the work when it closes, independently of any renewal in flight; so a leader that was
/// paused (stopped, a long GC pause, a stalled VM) sends nothing once another may have taken over. Renewal should
/// use its own client (``renewalClient(for:timings:logger:)``): the work's retries, timeouts and connection queue
/// must not delay it, and each attempt is bounded by ``LeaseTimings/attemptTimeout``.
public final class LeaderElector: Sendable {
    public let identity: String
    public let namespace: String
    public let leaseName: String
    public let timings: LeaseTimings
    /// Open while this process may write as the leader.
    public let fence: WriteFence
    private let api: any KubeAPI
    private let logger: Logger
    private let state = Mutex(Observed())
    /// This process's own Pod (namespace, name), when it runs in one: labelled `wherry.dev/leader: "true"` while it
    /// leads, so the Service sends the API's traffic (status, webhooks, manual syncs) to the leader.
    public let pod: (namespace: String, name: String)?

    /// The label the leader's Pod carries.
    public static let leaderLabel = "wherry.dev/leader"

    /// What this process last saw of the Lease.
    struct Observed {
        var holder: String?
        var record: String?
        /// When (local clock) the record last changed.
        var changedAt = ContinuousClock.now
        var leading = false
    }

    /// An elector that reads and writes the Lease through `api` (see ``renewalClient(for:timings:logger:)``).
    public init(
        api: any KubeAPI, namespace: String, leaseName: String = "wherry-leader", identity: String,
        timings: LeaseTimings = LeaseTimings(), pod: (namespace: String, name: String)? = nil,
        fence: WriteFence = WriteFence(), logger: Logger = Logger(label: "wherry.leader")
    ) {
        self.pod = pod
        self.fence = fence
        self.api = api
        self.namespace = namespace
        self.leaseName = leaseName
        self.identity = identity
        self.timings = timings
        self.logger = logger
    }

    /// Whether this process holds the lease now.
    public var isLeader: Bool { state.withLock { $0.leading } }

    /// The holder last seen (this process, another, or `nil` when none).
    public var leader: String? { state.withLock { $0.holder } }

    private var path: String { "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases/\(leaseName)" }

    /// Runs `lead` whenever this process holds the lease, cancelling it the moment the lease is lost, until the
    /// surrounding task is cancelled or `lead` returns on its own (a graceful shutdown); then releases the lease.
    public func run(whileLeading lead: @escaping @Sendable () async throws -> Void) async throws {
        // A restarted container of a former leader must not keep the label its Pod still carries.
        await labelPod(leading: false)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            guard await attempt() else {
                try? await Task.sleep(for: jittered(timings.retryPeriod))
                continue
            }
            state.withLock { $0.leading = true }
            logger.notice(
                "Became the leader", metadata: ["wherry.identity": "\(identity)", "wherry.lease": "\(leaseName)"])
            await labelPod(leading: true)
            let finished = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do { try await lead() } catch {
                        self.logger.error("Leading failed", metadata: ["wherry.error": "\(error)"])
                    }
                    return true
                }
                group.addTask {
                    await self.keepRenewing()
                    return false
                }
                group.addTask {
                    await self.watchFence()
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            fence.close()
            state.withLock { $0.leading = false }
            if !Task.isCancelled { await labelPod(leading: false) }
            if Task.isShuttingDownGracefully || (finished && !Task.isCancelled) {
                await release()
                return
            }
            // Cancelled from outside: stop without a word to the lease, as a killed process would.
            if Task.isCancelled { return }
            logger.warning("Lost the lease; stopped reconciling", metadata: ["wherry.holder": "\(leader ?? "none")"])
        }
        // Stopping gracefully while not leading: a Lease that still names this process (a renewal came too late,
        // and nobody took over yet) is given up too, so another replica need not wait for it to expire.
        if Task.isShuttingDownGracefully, !Task.isCancelled { await release() }
    }

    /// Renews every `retryPeriod` until another holder is seen or the task is cancelled. A renewal that does not
    /// succeed in time is left to ``watchFence()``.
    private func keepRenewing() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: timings.retryPeriod)
            if Task.isCancelled { return }
            if !(await attempt()), let holder = leader, holder != identity {
                logger.warning("Another replica holds the lease", metadata: ["wherry.holder": "\(holder)"])
                return
            }
        }
    }

    /// Returns when the fence's deadline has passed with no renewal extending it (or the task is cancelled): the
    /// work must stop, whatever the renewal in flight is doing.
    private func watchFence() async {
        while !Task.isCancelled {
            guard let deadline = fence.deadline, ContinuousClock.now < deadline else {
                logger.warning(
                    "No lease renewal within the renew deadline; stopping all writes",
                    metadata: ["wherry.renew_deadline_ms": "\(timings.renewDeadline.inMilliseconds)"])
                return
            }
            try? await Task.sleep(until: deadline, clock: .continuous)
        }
    }

    /// One attempt to acquire or renew, abandoned after ``LeaseTimings/attemptTimeout``; on success the fence opens
    /// until the attempt's start plus the renew deadline. `true` when this process holds the lease.
    func attempt() async -> Bool {
        let started = ContinuousClock.now
        let held = await withTaskGroup(of: Bool?.self) { group in
            group.addTask { await self.tryAcquireOrRenew() }
            group.addTask {
                try? await Task.sleep(for: self.timings.attemptTimeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let held else {
            logger.debug(
                "Lease attempt timed out",
                metadata: ["wherry.timeout_ms": "\(timings.attemptTimeout.inMilliseconds)"])
            return false
        }
        if held { fence.open(until: started + timings.renewDeadline) }
        return held
    }

    /// One attempt: create the Lease, renew it, or take it over when it expired. `true` when this process holds it.
    func tryAcquireOrRenew() async -> Bool {
        let now = Self.microTime(Date())
        let lease: JSONValue
        do {
            lease = try await api.get(path)
        } catch  where error.isNotFound {
            let fresh = leaseObject(spec: spec(acquireTime: now, renewTime: now, transitions: 0), resourceVersion: nil)
            do {
                _ = try await api.create(
                    "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases", object: fresh, fieldManager: "wherry"
                )
                observe(holder: identity, record: "created by \(identity) at \(now)")
                return true
            } catch {
                return false
            }
        } catch {
            logger.debug("Cannot read the lease", metadata: ["wherry.error": "\(error)"])
            return false
        }
        let spec = lease["spec"]
        let holder = spec?["holderIdentity"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let record =
            "\(holder ?? "")|\(spec?["renewTime"]?.stringValue ?? "")|\(lease["metadata"]?["resourceVersion"]?.stringValue ?? "")"
        observe(holder: holder, record: record)
        let expired = state.withLock { ContinuousClock.now - $0.changedAt > timings.leaseDuration }
        if let holder, holder != identity, !expired { return false }
        let transitions: Int = if case .int(let count)? = spec?["leaseTransitions"] { Int(count) } else { 0 }
        let takingOver = holder != identity
        let newSpec = self.spec(
            acquireTime: takingOver ? now : spec?["acquireTime"]?.stringValue ?? now, renewTime: now,
            transitions: takingOver && holder != nil ? transitions + 1 : transitions)
        do {
            let stored = try await api.update(
                path,
                object: leaseObject(spec: newSpec, resourceVersion: lease["metadata"]?["resourceVersion"]?.stringValue),
                fieldManager: "wherry")
            observe(
                holder: identity,
                record: "\(identity)|\(now)|\(stored["metadata"]?["resourceVersion"]?.stringValue ?? "")")
            if takingOver {
                logger.info("Took over the lease", metadata: ["wherry.previous": "\(holder ?? "none")"])
            }
            return true
        } catch {
            // Another process wrote first (409), or the server did not answer: not leading this round.
            return false
        }
    }

    /// Puts `wherry.dev/leader: "true"` on this process's Pod, or takes it off, by server-side apply as field
    /// manager `wherry-leader` (so nothing else on the Pod is touched). Failures are logged: the Service then reaches
    /// no replica, or a follower, until the next change, which is all they cost.
    func labelPod(leading: Bool) async {
        guard let pod else { return }
        var metadata: JSONObject = ["name": .string(pod.name), "namespace": .string(pod.namespace)]
        if leading { metadata["labels"] = [Self.leaderLabel: "true"] }
        do {
            _ = try await api.apply(
                "/api/v1/namespaces/\(pod.namespace)/pods/\(pod.name)",
                object: ["apiVersion": "v1", "kind": "Pod", "metadata": .object(metadata)],
                options: ApplyOptions(fieldManager: "wherry-leader", force: true, dryRun: false))
        } catch {
            logger.warning(
                "Cannot label this Pod for the Service",
                metadata: ["wherry.error": "\(error)", "wherry.leading": "\(leading)"])
        }
    }

    /// Gives the lease up (holder cleared, duration 1 s), so another process takes over at its next try. Tried a
    /// few times (each attempt is short, and a shutdown has seconds to spare); a lease that cannot be released
    /// expires on its own.
    func release() async {
        for attempt in 1...3 {
            let lease: JSONValue
            do {
                lease = try await api.get(path)
            } catch {
                if attempt == 3 { releaseFailed(error) }
                continue
            }
            guard lease["spec"]?["holderIdentity"]?.stringValue == identity else { return }
            var spec = lease["spec"]?.objectValue ?? JSONObject()
            spec["holderIdentity"] = ""
            spec["leaseDurationSeconds"] = 1
            var object = lease.objectValue ?? JSONObject()
            object["spec"] = .object(spec)
            do {
                _ = try await api.update(path, object: .object(object), fieldManager: "wherry")
                logger.notice("Released the lease")
                return
            } catch {
                if attempt == 3 { releaseFailed(error) }
            }
        }
    }

    private func releaseFailed(_ error: KubeAPIError) {
        logger.warning(
            "Cannot release the lease; another replica takes over once it expires",
            metadata: ["wherry.error": "\(error)"])
    }

    private func observe(holder: String?, record: String) {
        state.withLock { observed in
            if observed.record != record {
                observed.record = record
                observed.changedAt = .now
            }
            observed.holder = holder
        }
    }

    private func spec(acquireTime: String, renewTime: String, transitions: Int) -> JSONValue {
        [
            "holderIdentity": .string(identity),
            "leaseDurationSeconds": .int(Int64(timings.leaseDuration.inSeconds.rounded(.up))),
            "acquireTime": .string(acquireTime), "renewTime": .string(renewTime),
            "leaseTransitions": .int(Int64(transitions)),
        ]
    }

    private func leaseObject(spec: JSONValue, resourceVersion: String?) -> JSONValue {
        var metadata: JSONObject = ["name": .string(leaseName), "namespace": .string(namespace)]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": .object(metadata), "spec": spec]
    }

    private func jittered(_ duration: Duration) -> Duration {
        duration * Double.random(in: 1.0...1.2)
    }

    /// A client for the Lease alone, to the same server as `api`: its own connections (never queued behind the
    /// work's requests), no retries, no rate limit, and a request timeout of the attempt timeout.
    public static func renewalClient(
        for api: HTTPKubeAPI, timings: LeaseTimings, logger: Logger = Logger(label: "wherry.leader.kube")
    ) throws(KubeAPIError) -> HTTPKubeAPI {
        try HTTPKubeAPI(
            connection: api.connection,
            options: KubeClientOptions(
                qps: 0, maxRetries: 0, requestTimeout: timings.attemptTimeout,
                connectTimeout: min(timings.attemptTimeout, api.options.connectTimeout), maxConnections: 2),
            logger: logger)
    }

    /// Kubernetes MicroTime: `2026-11-26T00:50:00.123456Z`.
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = Date(timeIntervalSince1970: seconds.rounded(.down))
        let micros = Int((seconds - seconds.rounded(.down)) * 1_000_000)
        let base = whole.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(
                .colon))
        return base + "." + String(format: "%06d", micros) + "Z"
    }
}

/// The reconcile loop (or any work), run only while this process leads: a `Service` for the `ServiceGroup` of
/// `wherry run`.
public struct LeaderElectedLoop: Service {
    public let elector: LeaderElector
    /// What runs while leading: the reconcile loop, possibly in a ``BoundedDrain``.
    public let work: any Service

    public init(elector: LeaderElector, work: any Service) {
        self.elector = elector
        self.work = work
    }

    public init(elector: LeaderElector, loop: ReconcileLoop) {
        self.init(elector: elector, work: loop)
    }

    /// Graceful shutdown ends the work (applies in flight finish), then the lease is released; a follower stops
    /// trying.
    public func run() async throws {
        try await elector.run { try await work.run() }
    }
}
