import ArgumentParser
import Foundation
import WherryModel

/// `wherry tree SERVICE`: a service's objects (from its inventory) as a tree, with their live health.
struct TreeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tree",
        abstract: "Show a service's objects as a tree with their live health, from a running controller.",
        discussion: """
            The objects are those of the service's inventory (what Wherry applied and owns); the controller reads \
            each one from the cluster once for its health. Namespaced objects are shown under their Namespace, and \
            an object under the object that owns it (ownerReferences) when that is in the inventory too. Health is \
            healthy, progressing or degraded for kinds Wherry checks (Deployments, StatefulSets, Jobs, ...), `-` for \
            kinds without a check, and missing for an object no longer in the cluster.

            Examples:
              wherry tree shop
              wherry tree shop -o json | jq '.objects[] | select(.health == "degraded")'
            """
    )

    @Argument(help: "The service.")
    var service: String

    @OptionGroup var server: ServerOptions

    @Option(name: .shortAndLong, help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        let client = try server.client()
        let resources = try await client.get("/v1/gitops/services/\(StatusCommand.escape(service))/resources")
        if output == .json {
            print(resources.prettyJSONString())
        } else {
            print(Self.render(resources))
        }
    }

    /// A node of the tree: one line, and what hangs under it.
    struct Node {
        var line: String
        var children: [Node] = []
    }

    /// The tree as text.
    static func render(_ resources: JSONValue) -> String {
        let service = resources["service"]?.stringValue ?? "?"
        let revision = resources["revision"]?.stringValue.map { " (revision \($0.prefix(12)))" } ?? ""
        var lines = ["\(service)\(revision)"]
        if let note = resources["note"]?.stringValue { lines.append("note: \(note)") }
        let objects = resources["objects"]?.arrayValue ?? []
        if objects.isEmpty { lines.append("(no objects: the service has no inventory yet)") }
        let roots = nodes(objects)
        for (index, node) in roots.enumerated() { lines += draw(node, prefix: "", last: index == roots.count - 1) }
        if resources["truncated"] == .bool(true) { lines.append("(more objects than the controller reads at once)") }
        return lines.joined(separator: "\n")
    }

    /// Namespaces (from the inventory, or only named by their objects) with their objects, and cluster-scoped
    /// objects; an object whose owner is in the inventory hangs under it.
    static func nodes(_ objects: [JSONValue]) -> [Node] {
        func key(_ object: JSONValue) -> String {
            "\(object["namespace"]?.stringValue ?? "")/\(object["kind"]?.stringValue ?? "")/"
                + (object["name"]?.stringValue ?? "")
        }
        let keys = Set(objects.map(key))
        // The owner in the inventory that an object hangs under.
        func parent(_ object: JSONValue) -> String? {
            let namespace = object["namespace"]?.stringValue ?? ""
            for owner in (object["owners"]?.arrayValue ?? []).compactMap(\.stringValue) {
                let candidate = "\(namespace)/\(owner)"
                if keys.contains(candidate), candidate != key(object) { return candidate }
            }
            return nil
        }
        var childrenOf: [String: [JSONValue]] = [:]
        for object in objects { if let parent = parent(object) { childrenOf[parent, default: []].append(object) } }
        func node(_ object: JSONValue, depth: Int = 0) -> Node {
            let children = depth < 8 ? (childrenOf[key(object)] ?? []).map { node($0, depth: depth + 1) } : []
            return Node(line: describe(object), children: children)
        }
        let roots = objects.filter { parent($0) == nil }
        let namespaceObjects = Dictionary(
            roots.filter { $0["kind"]?.stringValue == "Namespace" && $0["namespace"]?.stringValue == nil }
                .map { ($0["name"]?.stringValue ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        var byNamespace: [String: [JSONValue]] = [:]
        var clusterScoped: [Node] = []
        for object in roots {
            if let namespace = object["namespace"]?.stringValue {
                byNamespace[namespace, default: []].append(object)
            } else if object["kind"]?.stringValue != "Namespace" {
                clusterScoped.append(node(object))
            }
        }
        let namespaces = Set(namespaceObjects.keys).union(byNamespace.keys).sorted()
        let namespaceNodes = namespaces.map { namespace in
            let children = (byNamespace[namespace] ?? []).map { node($0) }
            if let object = namespaceObjects[namespace] {
                var root = node(object)
                root.children = children
                return root
            }
            return Node(line: "Namespace/\(namespace)  (not part of this service)", children: children)
        }
        return namespaceNodes + clusterScoped
    }

    /// `Deployment/api  progressing: 1 of 2 replicas ready`.
    static func describe(_ object: JSONValue) -> String {
        let name = "\(object["kind"]?.stringValue ?? "?")/\(object["name"]?.stringValue ?? "?")"
        var health = object["health"]?.stringValue ?? "?"
        if health == "none" { health = "-" }
        if let reason = object["reason"]?.stringValue ?? object["error"]?.stringValue { health += ": " + reason }
        return "\(name)  \(health)"
    }

    static func draw(_ node: Node, prefix: String, last: Bool) -> [String] {
        var lines = [prefix + (last ? "└── " : "├── ") + node.line]
        for (index, child) in node.children.enumerated() {
            lines += draw(child, prefix: prefix + (last ? "    " : "│   "), last: index == node.children.count - 1)
        }
        return lines
    }
}
