import Stack

/// The resource graph for `deploy graph`: an edge from each resource to what it depends on, phases as clusters.
public enum GraphRendering {
    public struct Node: Sendable {
        public var address: ResourceAddress
        public var type: String
        public var dependencies: [ResourceAddress]

        public init(address: ResourceAddress, type: String, dependencies: [ResourceAddress]) {
            self.address = address
            self.type = type
            self.dependencies = dependencies
        }
    }

    /// The nodes of an expanded stack.
    public static func nodes(_ expanded: ExpandedStack) -> [Node] {
        expanded.resources.map { Node(address: $0.address, type: $0.type, dependencies: $0.dependencies) }
    }

    /// Graphviz DOT.
    public static func dot(_ nodes: [Node], stack: String) -> String {
        var lines = ["digraph \"\(stack)\" {", "  rankdir = \"RL\";", "  node [shape = box, fontname = \"Helvetica\"];"]
        for phase in Phase.allCases {
            let members = nodes.filter { $0.address.phase == phase.rawValue }
            guard !members.isEmpty else { continue }
            lines.append("  subgraph \"cluster_\(phase.rawValue)\" {")
            lines.append("    label = \"\(phase.rawValue)\";")
            for node in members {
                lines.append("    \"\(node.address)\" [label = \"\(node.address)\\n\(node.type)\"];")
            }
            lines.append("  }")
        }
        for node in nodes {
            for dependency in node.dependencies { lines.append("  \"\(node.address)\" -> \"\(dependency)\";") }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    /// A Mermaid flowchart.
    public static func mermaid(_ nodes: [Node]) -> String {
        func id(_ address: ResourceAddress) -> String {
            address.description.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        }
        var lines = ["flowchart RL"]
        for phase in Phase.allCases {
            let members = nodes.filter { $0.address.phase == phase.rawValue }
            guard !members.isEmpty else { continue }
            lines.append("  subgraph \(phase.rawValue)")
            for node in members { lines.append("    \(id(node.address))[\"\(node.address)<br/>\(node.type)\"]") }
            lines.append("  end")
        }
        for node in nodes {
            for dependency in node.dependencies { lines.append("  \(id(node.address)) --> \(id(dependency))") }
        }
        return lines.joined(separator: "\n")
    }
}
