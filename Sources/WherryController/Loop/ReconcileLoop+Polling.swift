import Logging
import WherryGit
import WherryModel

/// Polling and the work it starts: one `ls-remote` per repository and poll, retries and drift checks when due,
/// orphans at the start of a term, and the dependency check a service runs behind.
extension ReconcileLoop {
    /// Polls every repository a service uses, starts due work and names orphans, until cancelled; a reloaded
    /// config restarts all of it on the new config.
    func poll() async {
        while !Task.isCancelled {
            let (config, generation) = current.withLock { ($0.config, $0.generation) }
            await withTaskGroup(of: Void.self) { group in
                for repository in config.repositories
                where config.services.contains(where: { $0.repository == repository.key }) {
                    group.addTask { await self.poll(repository, services: config.services) }
                }
                group.addTask { await self.startDueWork() }
                group.addTask {
                    await self.findOrphans()
                    // Done once per config; it must not end the group (only the watcher below does).
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                }
                group.addTask {
                    while !Task.isCancelled, self.current.withLock({ $0.generation }) == generation {
                        try? await Task.sleep(for: .milliseconds(200))
                    }
                }
                // The first to end is the watcher (a reload) or cancellation: the rest stop too.
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Says which services left the config but still own objects (they are not pruned silently), at start and
    /// again every poll interval while there are some: once `wherry prune --service` removed one's inventory, it is
    /// no longer listed and its recorded state is forgotten, without a restart. With none, a look every
    /// ``orphanRecheckSeconds`` finds one that another writer left (a reload looks at once): an idle controller
    /// costs the cluster no request per poll.
    private func findOrphans() async {
        var known: Set<String>?
        while !Task.isCancelled {
            known = await checkOrphans(known: known) ?? known
            let seconds = known?.isEmpty == true ? Self.orphanRecheckSeconds : max(1, config.pollInterval)
            try? await Task.sleep(for: .seconds(seconds))
        }
    }

    /// How often the inventories are read again while no service is orphaned.
    static var orphanRecheckSeconds: Int { 300 }

    /// One look at the cluster's inventories; returns the orphaned services, or `nil` when they cannot be read.
    private func checkOrphans(known: Set<String>?) async -> Set<String>? {
        let orphans: [String: Inventory]
        do {
            orphans = try await reconciler.syncer.inventories.orphans(in: config)
        } catch {
            if known == nil {
                logger.warning("Cannot read the stored inventories", metadata: ["wherry.error": "\(error)"])
            }
            return nil
        }
        state.withLock { $0.orphans = orphans.mapValues(\.count) }
        // The state of services neither configured nor orphaned is of no use any more.
        do {
            let forgotten = try await reconciler.store.retainOnly(Set(config.services.map(\.name)).union(orphans.keys))
            if !forgotten.isEmpty {
                logger.info(
                    "Forgot the recorded state of services no longer configured",
                    metadata: ["wherry.services": "\(forgotten.sorted().joined(separator: ", "))"])
            }
        } catch {
            logger.warning("Cannot remove the state of removed services", metadata: ["wherry.error": "\(error)"])
        }
        let namespace = reconciler.syncer.inventories.cluster.namespace
        for (service, inventory) in orphans.sorted(by: { $0.key < $1.key }) where known?.contains(service) != true {
            logger.warning(
                "Service is no longer configured; its objects were left in the cluster",
                metadata: [
                    "wherry.service": "\(service)", "wherry.objects": "\(inventory.count)",
                    "wherry.hint":
                        "remove them with: \(OrphanHint.command(service: service, config: config.file, namespace: namespace))",
                ])
        }
        return Set(orphans.keys)
    }

    /// Polls one repository until cancelled.
    private func poll(_ repository: RepositoryConfig, services all: [ServiceConfig]) async {
        let services = all.filter { $0.repository == repository.key }
        var logger = self.logger
        logger[metadataKey: "wherry.repo"] = "\(repository.displayName)"
        var failing = false
        var lastHead: String?
        // A service's `interval` (default `poll_interval`) is how often it looks at the branch: the repository is
        // polled as often as its most frequent service needs, and each service takes part when its interval is up
        // (or a push webhook woke the poller).
        let every =
            services.map { Double(max(1, $0.interval ?? config.pollInterval)) }.min()
            ?? Double(max(1, config.pollInterval))
        var lastLooked: [String: Double] = [:]
        var woken = false
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
                if commit != lastHead, lastHead != nil, reconciler.syncer.applyer == nil {
                    // A new commit: read every service's record in the cluster again with one LIST (a `wherry sync`
                    // or another Wherry may have written since), so the up-to-date checks that follow cost nothing.
                    if (try? await reconciler.syncer.inventories.loadAll()) == nil {
                        reconciler.syncer.inventories.forgetRecorded()
                    }
                }
                lastHead = commit
                let time = now
                for service in services where !isSuspended(service.name) {
                    let interval = Double(max(1, service.interval ?? config.pollInterval))
                    // Jitter may bring a poll a little early: 10% of slack.
                    if !woken, let last = lastLooked[service.name], time - last < interval * 0.85 { continue }
                    lastLooked[service.name] = time
                    // Not reconciled at this head yet; a new commit unless it was already tried (and failed) at it.
                    // A failing service whose branch moved back to the commit it last applied (a force-push after a
                    // refused commit) runs too: nothing else would end its failure.
                    let (pending, newCommit) = state.withLock { state in
                        let failing = (state.schedules[service.name]?.failures ?? 0) > 0
                        let attempted = state.attempted[service.name] != commit
                        return (state.seen[service.name] != commit || (failing && attempted), attempted)
                    }
                    if pending { enqueue(service.name, .poll, newCommit: newCommit, head: commit) }
                }
            case .failure(let error):
                // Said once per failure streak; the services keep what they applied.
                if !failing { logger.warning("Cannot poll the repository", metadata: ["wherry.error": "\(error)"]) }
                metrics.pollFailed(repository: repository.displayName)
                failing = true
            }
            let seconds = every * Double.random(in: 0.9...1.1)
            woken = await sleep(seconds: seconds, unlessWoken: repository.key)
        }
    }

    /// Sleeps `seconds`, or less when a webhook asks for a poll of `repository`; returns whether one did.
    private func sleep(seconds: Double, unlessWoken repository: String) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !Task.isCancelled, ContinuousClock.now < deadline {
            if state.withLock({ $0.wake.remove(repository) != nil }) { return true }
            try? await Task.sleep(for: min(.milliseconds(200), deadline - ContinuousClock.now))
        }
        return false
    }

    /// Starts due retries of failed services and due drift checks, checking once a second.
    private func startDueWork() async {
        let start = now
        state.withLock { state in
            for service in config.services { state.lastCompared[service.name] = start }
        }
        while !Task.isCancelled {
            let now = self.now
            let (due, drift) = state.withLock { state in
                // A service waiting for a dependency runs when the dependency is ready, a suspended one when asked
                // for: retrying them here would only go round every second.
                let due = state.schedules.filter { name, schedule in
                    !schedule.running && schedule.failures > 0 && (schedule.retryAt ?? 0) <= now
                        && state.blocked[name] == nil && config.service(named: name).map({ !$0.suspend }) == true
                        && state.suspended[name] == nil
                }.map(\.key)
                // Drift checks need the native applier (an external one cannot compare without writing).
                let checksDrift = reconciler.syncer.applyer == nil
                let drift = config.services.filter { service in
                    guard checksDrift else { return false }
                    let schedule = state.schedules[service.name] ?? ServiceSchedule()
                    return service.driftInterval > 0 && !service.suspend && state.suspended[service.name] == nil
                        && !schedule.running && schedule.failures == 0
                        && state.seen[service.name] != nil && state.blocked[service.name] == nil
                        && (state.lastCompared[service.name] ?? now) + Double(service.driftInterval) <= now
                }.map(\.name)
                for name in drift { state.lastCompared[name] = now }
                return (due, drift)
            }
            for name in due.sorted() { enqueue(name, .retry, newCommit: false) }
            for name in drift { enqueue(name, .drift, newCommit: false) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// The first dependency of `service` that has not succeeded at its repository's current head, if any.
    func unmetDependency(of service: ServiceConfig, in state: LoopState) -> String? {
        DependencyGraph(services: config.services).firstUnmet(of: service) { name in
            guard let dependency = config.service(named: name) else { return true }
            let schedule = state.schedules[name] ?? ServiceSchedule()
            guard let seen = state.seen[name], schedule.failures == 0, !schedule.running else { return false }
            if case .success(let head)? = state.heads[dependency.repository] { return seen == head }
            return true
        }
    }
}
