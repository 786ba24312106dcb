import Deployment
import Foundation
import Plan
import Provision
import Stack

/// How apply and destroy report as they go: lines for a person (`--output text`), or JSON Lines for a program
/// (`--output json`): one object per event on standard output, each with an `event` field, the last a `summary`.
struct RunReporter: Sendable {
    let format: OutputFormat
    let console: Console

    init(_ context: CommandContext) {
        format = context.options.output
        console = context.console
    }

    /// One JSON Lines event.
    struct Event: Encodable {
        var event: String
        var address: String?
        var verb: String?
        var seconds: Double?
        var id: String?
        var message: String?
        var cause: String?
    }

    /// What an apply or destroy is about to do: the rendered plan, or its document.
    func plan(_ plan: Plan) throws {
        switch format {
        case .text: console.out(PlanText.render(plan, colour: console.colourOut))
        case .json: try line(PlanEvent(plan: PlanDocument(plan)))
        }
    }

    private struct PlanEvent: Encodable {
        var event = "plan"
        var plan: PlanDocument
    }

    /// A sentence for a person; in JSON, a `note` event.
    func note(_ text: String) {
        switch format {
        case .text: console.out(text)
        case .json: try? line(Event(event: "note", message: text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }

    /// Prints one line (or one event) per resource as it starts and ends.
    func progress() -> @Sendable (ProgressEvent) -> Void {
        let reporter = self
        return { event in
            switch reporter.format {
            case .text: reporter.text(event)
            case .json: try? reporter.line(reporter.event(event))
            }
        }
    }

    private func text(_ event: ProgressEvent) {
        switch event {
        case .started(let address, let step): console.out("\(address): \(step.rawValue) started")
        case .finished(let address, let step, let seconds):
            console.out("\(address): \(step.rawValue) complete after \(String(format: "%.1f", seconds))s")
        case .adopted(let address, let id): console.out("\(address): found \(id) from an interrupted run; adopted")
        case .failed(let address, let step, let message): console.err("\(address): \(step.rawValue) failed: \(message)")
        case .skipped(let address, let cause): console.out("\(address): skipped, because \(cause) did not complete")
        case .progress(let address, let message): console.out("\(address): \(message)")
        }
    }

    private func event(_ event: ProgressEvent) -> Event {
        switch event {
        case .started(let address, let step): Event(event: "started", address: address.description, verb: step.rawValue)
        case .finished(let address, let step, let seconds):
            Event(event: "finished", address: address.description, verb: step.rawValue, seconds: (seconds * 1000).rounded() / 1000)
        case .adopted(let address, let id): Event(event: "adopted", address: address.description, id: id)
        case .failed(let address, let step, let message): Event(event: "failed", address: address.description, verb: step.rawValue, message: message)
        case .skipped(let address, let cause): Event(event: "skipped", address: address.description, cause: cause.description)
        case .progress(let address, let message): Event(event: "progress", address: address.description, message: message)
        }
    }

    private struct Summary: Encodable {
        var event = "summary"
        var verb: String
        var status: String
        var created, updated, replaced, deleted, kept, skipped: [String]
        var failed: [Failure]

        struct Failure: Encodable {
            var address: String
            var message: String
        }
    }

    /// Nothing needed doing: exit 0, and in JSON a `summary` whose status is `unchanged`.
    func unchanged(_ operation: StackOperation) -> Int32 {
        if format == .json {
            try? line(Summary(verb: operation.rawValue, status: "unchanged", created: [], updated: [], replaced: [], deleted: [], kept: [],
                              skipped: [], failed: []))
        }
        return ExitCode.success
    }

    /// How a run ended, and its exit code: `unchanged` says why there was nothing to do.
    func finish(_ outcome: RunOutcome, _ operation: StackOperation, stack: String = "") -> Int32 {
        switch outcome {
        case .executed(let report): return finish(report, operation)
        case .unchanged:
            note(operation == .apply ? "\nNo changes. The account matches the stack."
                                     : "Nothing to destroy: the state of \(stack) records no resources.")
            return unchanged(operation)
        }
    }

    /// The closing lines (or the `summary` event), and the exit code: 0 only when everything was done.
    func finish(_ report: ExecutionReport, _ operation: StackOperation) -> Int32 {
        let verb = operation.rawValue
        let status = report.interrupted ? "interrupted" : report.succeeded ? "complete" : "incomplete"
        if format == .json {
            let names = { (addresses: [ResourceAddress]) in addresses.map(\.description) }
            try? line(Summary(verb: verb, status: status, created: names(report.created), updated: names(report.updated),
                              replaced: names(report.replaced), deleted: names(report.deleted), kept: names(report.kept),
                              skipped: names(report.skipped),
                              failed: report.failed.map { Summary.Failure(address: $0.address.description, message: $0.message) }))
            return report.succeeded ? ExitCode.success : ExitCode.failure
        }
        var parts: [String] = []
        if !report.created.isEmpty { parts.append("\(report.created.count) added") }
        if !report.updated.isEmpty { parts.append("\(report.updated.count) changed") }
        if !report.replaced.isEmpty { parts.append("\(report.replaced.count) replaced") }
        if !report.deleted.isEmpty { parts.append("\(report.deleted.count) destroyed") }
        if !report.kept.isEmpty { parts.append("\(report.kept.count) protected kept") }
        if !report.failed.isEmpty { parts.append("\(report.failed.count) failed") }
        if !report.skipped.isEmpty { parts.append("\(report.skipped.count) skipped") }
        let summary = parts.isEmpty ? "nothing to do" : parts.joined(separator: ", ")
        if report.interrupted {
            console.err("\(verb) interrupted: \(summary). The state is saved; run \(verb) again to finish.")
            return ExitCode.failure
        }
        guard report.succeeded else {
            for failure in report.failed { console.error("\(failure.address): \(failure.message)") }
            let consequence = operation == .destroy ? "Failed resources stay in the state; run destroy again once their cause is fixed."
                : "A resource whose create failed is tainted and replaced by the next apply; a failed update is planned again."
            console.err("\(verb) incomplete: \(summary). \(consequence)")
            return ExitCode.failure
        }
        console.out("\(verb) complete: \(summary).")
        return ExitCode.success
    }

    private func line(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        console.out(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
