/// The `depends_on` edges between services: the one place that decides when a service may run, for a sync of many
/// (`wherry sync`: in waves) and for the loop (`wherry run`: as each dependency becomes ready).
struct DependencyGraph: Sendable {
    let services: [ServiceConfig]

    /// The first dependency of `service` that is not ready by `isReady`; dependencies `known` does not hold are
    /// not waited for (the config rejects unknown names; a sync of some services waits only for those).
    func firstUnmet(
        of service: ServiceConfig, known: (String) -> Bool = { _ in true }, isReady: (String) -> Bool
    ) -> String? {
        service.dependsOn.first { known($0) && !isReady($0) }
    }

    /// Indices of `services` in waves: each wave depends only on earlier ones (dependencies outside `services` are
    /// not waited for). The config rejects cycles; a cycle here would end up in the last wave.
    func waves() -> [[Int]] {
        let names = Set(services.map(\.name))
        var level: [String: Int] = [:]
        func depth(_ name: String, _ seen: Set<String>) -> Int {
            if let known = level[name] { return known }
            guard let service = services.first(where: { $0.name == name }), !seen.contains(name) else { return 0 }
            let value = service.dependsOn.filter(names.contains).map { depth($0, seen.union([name])) + 1 }.max() ?? 0
            level[name] = value
            return value
        }
        var waves: [Int: [Int]] = [:]
        for (index, service) in services.enumerated() { waves[depth(service.name, []), default: []].append(index) }
        return waves.keys.sorted().map { waves[$0]! }
    }
}
