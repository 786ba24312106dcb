import Plan
import Stack

/// `deploy graph`: the resource dependency graph as Graphviz DOT or Mermaid.
struct GraphCommand: Command {
    static let name = "graph"
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Print the resource dependency graph (Graphviz DOT, or Mermaid with --mermaid)."
    static let discussion = "With --output json, the nodes and their dependencies as a deploy.graph/1 document. Edges point from a resource to what it depends on; phases are drawn as clusters. Render with: deploy graph --stack S | dot -Tsvg > graph.svg"

    struct Options: CommandOptions {
        var stack = StackSelection()
        var mermaid = false
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack, state: false) + [
            .flag("mermaid", "Print a Mermaid flowchart instead of DOT.", \.mermaid),
        ]
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let options = try parsed.stack.required(command: name)
        let loaded = try await options.load(context, readingState: false)
        let configuration = loaded.configuration
        let nodes = GraphRendering.nodes(loaded.expanded)
        if context.options.output == .json {
            guard !parsed.mermaid else {
                throw UsageError(message: "--mermaid and --output json are two different outputs; choose one", command: name)
            }
            context.console.out(try JSONText.encode(Document(stack: configuration.stack.name, nodes: nodes.map {
                Document.Node(address: $0.address.description, phase: $0.address.phase, type: $0.type,
                              dependencies: $0.dependencies.map(\.description))
            })))
            return ExitCode.success
        }
        context.console.out(parsed.mermaid
            ? GraphRendering.mermaid(nodes) : GraphRendering.dot(nodes, stack: configuration.stack.name))
        return ExitCode.success
    }

    /// `--output json`: `{"format": "deploy.graph/1", "stack", "nodes": [{"address", "phase", "type", "dependencies"}]}`.
    struct Document: Encodable {
        var format = "deploy.graph/1"
        var stack: String
        var nodes: [Node]

        struct Node: Encodable {
            var address: String
            var phase: String
            var type: String
            var dependencies: [String]
        }
    }
}
