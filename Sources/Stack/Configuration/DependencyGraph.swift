/// A directed graph of "depends on" edges over nodes kept in declaration order.
public struct DependencyGraph<Node: Hashable & Sendable>: Sendable {
    public private(set) var nodes: [Node] = []
    /// `edges[a]` holds the nodes `a` depends on.
    public private(set) var edges: [Node: [Node]] = [:]
    private var known: Set<Node> = []

    public init() {}

    public mutating func add(_ node: Node) {
        guard known.insert(node).inserted else { return }
        nodes.append(node)
    }

    /// Records that `node` depends on `dependency`.
    public mutating func add(_ node: Node, dependsOn dependency: Node) {
        add(node)
        add(dependency)
        if !(edges[node]?.contains(dependency) ?? false) { edges[node, default: []].append(dependency) }
    }

    public func dependencies(of node: Node) -> [Node] { edges[node] ?? [] }

    /// A cycle, as the path that closes it (first node repeated at the end), or nil when there is none.
    public func cycle() -> [Node]? {
        var marks: [Node: VisitMark] = [:]
        var path: [Node] = []
        func visit(_ node: Node) -> [Node]? {
            switch marks[node] {
            case .done: return nil
            case .visiting:
                let start = path.firstIndex(of: node) ?? 0
                return Array(path[start...]) + [node]
            case nil: break
            }
            marks[node] = .visiting
            path.append(node)
            for dependency in edges[node] ?? [] {
                if let found = visit(dependency) { return found }
            }
            path.removeLast()
            marks[node] = .done
            return nil
        }
        for node in nodes {
            if let found = visit(node) { return found }
        }
        return nil
    }

    /// Nodes with every dependency before its dependants; ties keep declaration order. Assumes no cycle.
    public func topologicalOrder() -> [Node] {
        var position: [Node: Int] = [:]
        for (index, node) in nodes.enumerated() { position[node] = index }
        var remaining: [Node: Int] = [:]
        var dependants: [Node: [Node]] = [:]
        for node in nodes {
            let dependencies = edges[node] ?? []
            remaining[node] = dependencies.count
            for dependency in dependencies { dependants[dependency, default: []].append(node) }
        }
        // a binary heap keyed by declaration position keeps this O(E log V) for large stacks
        var ready = Heap<Int>()
        for node in nodes where remaining[node] == 0 { ready.push(position[node]!) }
        var order: [Node] = []
        order.reserveCapacity(nodes.count)
        while let next = ready.pop() {
            let node = nodes[next]
            order.append(node)
            for dependant in dependants[node] ?? [] {
                remaining[dependant]! -= 1
                if remaining[dependant] == 0 { ready.push(position[dependant]!) }
            }
        }
        return order
    }
}

private enum VisitMark { case visiting, done }

/// A minimal binary min-heap.
struct Heap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { return top }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
