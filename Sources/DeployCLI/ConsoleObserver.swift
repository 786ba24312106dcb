import Deployment
import Dispatch
import Plan
import Provision

/// A run's progress printed (text or JSON Lines), its questions asked on the terminal, and SIGINT/SIGTERM trapped
/// from the moment the first change starts, so that a stop launches nothing new and lets the state be written.
final class ConsoleObserver: DeploymentObserver {
    private let context: CommandContext
    private let reporter: RunReporter
    private let autoApprove: Bool
    private let sink: @Sendable (ProgressEvent) -> Void
    private let stop: StopFlag
    private let trap = SignalTrap.Armed()

    init(_ context: CommandContext, stop: StopFlag, autoApprove: Bool = false) {
        self.context = context
        self.reporter = RunReporter(context)
        self.sink = reporter.progress()
        self.autoApprove = autoApprove
        self.stop = stop
    }

    deinit { trap.cancel() }

    func warning(_ message: String) { context.console.err("warning: \(message)") }

    func review(_ plan: Plan, saved: Bool) throws {
        if saved {
            reporter.note("Applying the saved plan (\(plan.summary.dropLast()))")
        } else {
            try reporter.plan(plan)
        }
    }

    func reviewDestroy(_ resources: [ResourceState], stack: StackIdentity) {
        reporter.note("Destroy \(resources.count) resources of stack \(stack.name) in account \(stack.account):\n"
            + resources.map { "  - \($0.address) (\($0.type)) \($0.id ?? "")" }.joined(separator: "\n"))
    }

    func confirm(_ question: String) throws { try Confirmation.ask(question, autoApprove: autoApprove, context) }

    func starting() {
        trap.arm(SignalTrap.install(stop, context.console))
        if context.options.output == .text { context.console.out("") }
    }

    func progress(_ event: ProgressEvent) { sink(event) }
}
