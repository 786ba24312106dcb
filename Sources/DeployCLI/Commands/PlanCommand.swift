import Deployment
import Foundation
import Plan
import Stack

/// `deploy plan`: what apply would do, resource by resource, against the recorded and live state.
struct PlanCommand: Command {
    static let name = "plan"
    static let usesAWS = true
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Show exactly what apply would create, change, replace and destroy."
    static let discussion = """
        Evaluates the stack, compares it with the recorded state (refreshed from the account when resources are \
        recorded), and prints the actions grouped by phase with attribute-level diffs; sensitive values are never \
        shown. --out saves the plan for apply, which refuses it once the stack or the state has changed. \
        With --detailed-exitcode the exit code is 0 for no changes, 2 for changes, 1 for an error.
        """

    struct Options: CommandOptions {
        var stack = StackSelection()
        var out: String?
        var detailedExitcode = false
        var noRefresh = false
        var noLock = false
        var showUnchanged = false
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack) + [
            .value("out", "planfile", "Save the plan to this file for a later apply.", \.out),
            .flag("detailed-exitcode", "Exit 0 when there are no changes, 2 when there are, 1 on error.", \.detailedExitcode),
            .flag("no-refresh", "Compare with the recorded state only; do not read the account.", \.noRefresh),
            .flag("no-lock", "Do not take the state lock (the state is only read).", \.noLock),
            .flag("show-unchanged", "List resources with no changes too.", \.showUnchanged),
        ]
    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        let loaded = try await parsed.stack.required(command: name).load(context)
        let outcome = try await Deployment(loaded, context).plan(refresh: !parsed.noRefresh, lock: !parsed.noLock)
        let plan = outcome.plan
        if let out = parsed.out { try outcome.file.write(to: out) }
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(PlanDocument(plan)))
        case .text:
            for line in ComplianceSummary.lines(outcome.compliance) { context.console.out(line) }
            context.console.out("")
            context.console.out(PlanText.render(plan, showUnchanged: parsed.showUnchanged, colour: context.console.colourOut))
            if let out = parsed.out {
                context.console.out("\nSaved the plan to \(out). Apply it with: deploy apply \(out)")
            }
        }
        if parsed.detailedExitcode { return plan.hasChanges ? 2 : ExitCode.success }
        return ExitCode.success
    }
}
