import WherryModel

extension ResourceManager {
    /// Waits until every CustomResourceDefinition is Established and every Namespace is Active.
    func waitUntilReady(_ objects: [KubeObject], timeout: Duration, applied: ChangeSet) async throws(ApplyError) {
        let watched = objects.filter { $0.kind == "CustomResourceDefinition" || $0.kind == "Namespace" }
        guard !watched.isEmpty else { return }
        let deadline = ContinuousClock.now + timeout
        var pending = watched
        var lastProblem: [ObjectRef: String] = [:]
        while !pending.isEmpty {
            var still: [KubeObject] = []
            for object in pending {
                let (ready, problem) = await isReady(object)
                if !ready {
                    still.append(object)
                    lastProblem[object.ref] = problem
                }
            }
            pending = still
            guard !pending.isEmpty else { return }
            guard ContinuousClock.now < deadline else {
                throw ApplyError(
                    step: .wait,
                    failures: pending.map {
                        ObjectFailure(
                            ref: $0.ref,
                            message: "not ready after \(timeout): \(lastProblem[$0.ref] ?? "no status yet")",
                            reason: "NotReady")
                    }, applied: applied)
            }
            do {
                try await Task.sleep(for: .milliseconds(200))
            } catch {
                let cancelled = HTTPKubeAPI.cancelled("wait for \(pending.count) objects")
                throw ApplyError(
                    step: .wait, failures: pending.map { ObjectFailure(ref: $0.ref, error: cancelled) },
                    applied: applied)
            }
        }
    }

    private func isReady(_ object: KubeObject) async -> (Bool, String) {
        let live: JSONValue
        do {
            let mapping = try await mapper.mapping(for: object)
            live = try await api.get(mapping.objectPath(namespace: nil, name: object.name))
        } catch {
            return (false, Self.message(error))
        }
        switch object.kind {
        case "Namespace":
            let phase = live["status"]?["phase"]?.stringValue ?? ""
            return (phase == "Active", "phase is '\(phase)'")
        default:
            let conditions = live["status"]?["conditions"]?.arrayValue ?? []
            let established = conditions.contains {
                $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True"
            }
            return (established, "condition Established is not True")
        }
    }

    /// Waits until discovery lists every kind: an Established CRD can take a moment to appear there.
    func waitUntilServed(
        _ kinds: Set<GroupVersionKind>, timeout: Duration, applied: ChangeSet
    ) async throws(ApplyError) {
        let deadline = ContinuousClock.now + timeout
        var missing = kinds
        while !missing.isEmpty, ContinuousClock.now < deadline {
            for kind in missing where (try? await mapper.mapping(for: kind)) != nil { missing.remove(kind) }
            guard !missing.isEmpty else { return }
            do {
                try await Task.sleep(for: .milliseconds(200))
            } catch {
                throw ApplyError(
                    cluster: HTTPKubeAPI.cancelled("wait for discovery"), server: api.server, applied: applied)
            }
            await mapper.invalidate()
        }
        // Still missing: planning reports those objects with the mapper's message.
    }
}
