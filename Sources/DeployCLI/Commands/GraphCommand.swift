import Plan
import Stack

/// `deploy graph`: the resource dependency graph as Graphviz DOT or Mermaid.
struct GraphCommand: Command {
    static let name = "graph"
    static let abstract = "Print the resource dependency graph (Graphviz DOT, or Mermaid with --mermaid)."
    static let discussion = "Edges point from a resource to what it depends on; phases are drawn as clusters. Render with: deploy graph --stack S | dot -Tsvg > graph.svg"
    static let options = StackOptions.specs + [.flag("mermaid", "Print a Mermaid flowchart instead of DOT.")]

    static func run(_ context: CommandContext) async throws -> Int32 {
        let options = try StackOptions(context.arguments, command: name)
        let configuration = try options.loadConfiguration()
        var expander = Expander(configuration)
        let nodes = GraphRendering.nodes(try expander.expand())
        context.console.out(context.arguments.flag("mermaid")
            ? GraphRendering.mermaid(nodes) : GraphRendering.dot(nodes, stack: configuration.stack.name))
        return ExitCode.success
    }
}
