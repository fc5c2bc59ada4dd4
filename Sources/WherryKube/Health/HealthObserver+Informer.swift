import WherryModel

/// One collection's informer: list, then watch from the list's resourceVersion; list again when the watch cannot go
/// on; poll when the collection cannot be watched.
extension HealthObserver {
    /// Items per page of an informer's list.
    static let listPageSize = 100

    /// Runs the informer of `path` until its task is cancelled (its last subscriber left, or ``stop()``).
    func inform(_ path: String, kind: String, apiVersion: String) async {
        var canWatch = true
        var failures = 0
        while !Task.isCancelled {
            state.withLock { $0.lists += 1 }
            // Page by page, each reduced to what matters before the next is read: a thousand Deployments are
            // never all held as objects.
            var objects: [String: Observed] = [:]
            let resourceVersion: String
            do {
                // Polled, larger pages: fewer requests every poll interval.
                resourceVersion = try await api.listPages(path, pageSize: canWatch ? Self.listPageSize : 500) { items in
                    for item in items {
                        if let (name, observed) = Self.observe(item, kind: kind, apiVersion: apiVersion) {
                            objects[name] = observed
                        }
                    }
                }
            } catch {
                if Task.isCancelled || error.isCancelled { return }
                failures += 1
                let problem = "cannot list \(path): \(ResourceManager.message(error))"
                if failures == 1 {
                    logger.debug("Cannot list a collection for health", metadata: ["wherry.error": "\(problem)"])
                }
                update(path, wakeAll: true) { $0.problem = problem }
                try? await Task.sleep(for: min(pollInterval * (1 << min(failures, 5)), .seconds(5)))
                continue
            }
            failures = 0
            let watches = canWatch && !resourceVersion.isEmpty
            update(path, wakeAll: true) { informer in
                informer.objects = objects
                informer.synced = true
                informer.problem = nil
                informer.watching = watches
            }
            guard watches else {
                try? await Task.sleep(for: pollInterval)
                continue
            }
            canWatch = await watch(path, from: resourceVersion, kind: kind, apiVersion: apiVersion)
        }
    }

    /// Watches from `version`, resuming each watch the server ends, until one fails; returns whether the
    /// collection may be watched again after a new list (`false`: it is forbidden or not supported, so poll).
    private func watch(_ path: String, from version: String, kind: String, apiVersion: String) async -> Bool {
        var version = version
        while !Task.isCancelled {
            state.withLock { $0.watches += 1 }
            let started = ContinuousClock.now
            do {
                for try await event in api.watch(path, resourceVersion: version) {
                    if let next = event.resourceVersion, !next.isEmpty { version = next }
                    apply(event, path: path, kind: kind, apiVersion: apiVersion)
                }
            } catch {
                if Task.isCancelled { return true }
                let failure = error as? KubeAPIError
                switch failure?.code {
                case 410?:
                    // Too old: what happened meanwhile is only in a new list.
                    return true
                case 403?, 405?:
                    logger.info(
                        "Cannot watch a collection; listing it while services wait on it",
                        metadata: ["wherry.collection": "\(path)", "wherry.error": "\(error)"])
                    update(path, wakeAll: false) { $0.watching = false }
                    return false
                default:
                    logger.debug("Watch failed; listing again", metadata: ["wherry.error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    return true
                }
            }
            // Ended by the server (its timeout): go on from the last version seen; not in a tight loop.
            if ContinuousClock.now - started < .seconds(1) { try? await Task.sleep(for: .seconds(1)) }
        }
        return true
    }

    /// Records one event and wakes whoever waits on that object.
    private func apply(_ event: WatchEvent, path: String, kind: String, apiVersion: String) {
        guard let name = event.object["metadata"]?["name"]?.stringValue else { return }
        switch event.kind {
        case .bookmark:
            return
        case .deleted:
            update(path, names: [name]) { $0.objects[name] = nil }
        case .added, .modified:
            guard let (_, observed) = Self.observe(event.object, kind: kind, apiVersion: apiVersion) else { return }
            update(path, names: [name]) { $0.objects[name] = observed }
        }
    }

    /// Changes an informer's state and wakes its subscribers: all of them, or those waiting on `names`.
    private func update(
        _ path: String, wakeAll: Bool = false, names: [String] = [], _ change: (inout Informer) -> Void
    ) {
        let woken = state.withLock { state -> [AsyncStream<Void>.Continuation] in
            guard var informer = state.informers[path] else { return [] }
            change(&informer)
            state.informers[path] = informer
            if wakeAll { return Array(informer.subscribers.values) }
            let ids = names.flatMap { informer.interest[$0] ?? [] }
            return ids.compactMap { informer.subscribers[$0] }
        }
        for continuation in woken { continuation.yield() }
    }

    /// An object's name and what matters of it: generation and health (list items carry no kind: it is set).
    static func observe(_ object: JSONValue, kind: String, apiVersion: String) -> (String, Observed)? {
        guard case .object(var body) = object, let metadata = body["metadata"],
            let name = metadata["name"]?.stringValue
        else { return nil }
        if body["kind"] == nil {
            body["kind"] = .string(kind)
            body["apiVersion"] = .string(apiVersion)
        }
        var generation: Int64?
        if case .int(let value)? = metadata["generation"] { generation = value }
        return (
            name,
            Observed(
                generation: generation, health: Health.of(.object(body)),
                awaitsController: Health.awaitsController(.object(body)))
        )
    }
}
