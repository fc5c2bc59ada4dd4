import WherryController

/// A service's dependencies (left) and dependents (right) around it, laid out for a small server-drawn SVG: no
/// script, no layout engine; every label is escaped by the template.
struct DependencyGraphView: Sendable {
    struct Node: Sendable {
        var label: String
        var fullName: String
        var link: String
        var role: String
        var x: Int
        var y: Int
        var textX: Int
        var textY: Int
    }

    struct Edge: Sendable {
        var x1: Int
        var y1: Int
        var x2: Int
        var y2: Int
    }

    static let nodeWidth = 180
    static let nodeHeight = 28
    static let rowHeight = 40
    static let columnGap = 60

    var nodes: [Node]
    var edges: [Edge]
    var width: Int
    var height: Int
    var hasLinks: Bool
    var summary: String

    init(service: ServiceConfig, config: WherryConfig) {
        let dependencies = service.dependsOn.sorted()
        let dependents = config.services.filter { $0.dependsOn.contains(service.name) }.map(\.name).sorted()
        let rows = max(1, dependencies.count, dependents.count)
        let fullHeight = rows * Self.rowHeight + 10
        let columns = [10, 10 + Self.nodeWidth + Self.columnGap, 10 + 2 * (Self.nodeWidth + Self.columnGap)]
        func top(_ index: Int, of count: Int) -> Int {
            // Centred vertically within the tallest column.
            (fullHeight - count * Self.rowHeight) / 2 + index * Self.rowHeight + (Self.rowHeight - Self.nodeHeight) / 2
        }
        func node(_ name: String, role: String, column: Int, index: Int, count: Int) -> Node {
            let y = top(index, of: count)
            let label = name.count > 22 ? String(name.prefix(21)) + "…" : name
            return Node(
                label: label, fullName: name, link: OverviewPage.servicePath(name), role: role, x: columns[column],
                y: y, textX: columns[column] + 10, textY: y + 18)
        }
        let centre = node(service.name, role: "self", column: 1, index: 0, count: 1)
        let left = dependencies.enumerated().map {
            node($1, role: "dependency", column: 0, index: $0, count: dependencies.count)
        }
        let right = dependents.enumerated().map {
            node($1, role: "dependent", column: 2, index: $0, count: dependents.count)
        }
        height = fullHeight
        width = 3 * Self.nodeWidth + 2 * Self.columnGap + 20
        nodes = left + [centre] + right
        let middle = centre.y + Self.nodeHeight / 2
        edges =
            left.map { Edge(x1: $0.x + Self.nodeWidth, y1: $0.y + Self.nodeHeight / 2, x2: centre.x, y2: middle) }
            + right.map { Edge(x1: centre.x + Self.nodeWidth, y1: middle, x2: $0.x, y2: $0.y + Self.nodeHeight / 2) }
        hasLinks = !left.isEmpty || !right.isEmpty
        summary =
            "\(service.name) depends on "
            + (dependencies.isEmpty ? "nothing" : dependencies.joined(separator: ", ")) + "; "
            + (dependents.isEmpty ? "nothing depends on it" : "depended on by " + dependents.joined(separator: ", "))
    }
}
