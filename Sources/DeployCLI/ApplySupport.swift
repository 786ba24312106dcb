import AWS
import Dispatch
import Foundation
import Plan
import Provision
import Stack
#if canImport(Glibc)
import Glibc
import Diagnostics
#endif

/// The identity deploy runs as belongs to another account than the stack names: nothing is done (exit 2).
struct AccountMismatch: Error, CustomStringConvertible {
    var expected: String
    var actual: String
    var arn: String
    var description: String {
        "the credentials belong to account \(actual) (\(arn)), but the stack is for account \(expected); nothing was changed"
    }
}

/// A run that must not go on without a person's yes.
struct NotConfirmed: Error, CustomStringConvertible {
    var description: String
}

/// True the first time it is asked, false after.
final class LockedReport: @unchecked Sendable {
    // @unchecked: `done` is only touched under `lock`
    private let lock = NSLock()
    private var done = false

    func first() -> Bool {
        lock.withLock {
            defer { done = true }
            return !done
        }
    }
}

enum ApplySupport {
    /// STS GetCallerIdentity must name the stack's account before anything is written.
    static func checkAccount(_ client: AWSClient, _ stack: StackFile) async throws {
        let identity = try await STS(client: client).getCallerIdentity()
        guard identity.account == stack.account else {
            throw AccountMismatch(expected: stack.account, actual: identity.account, arn: identity.arn)
        }
    }

    /// Asks on a terminal; refuses when there is none and --auto-approve was not given, and under --output json,
    /// whose stream of events has no room for a question.
    static func confirm(_ question: String, _ context: CommandContext) throws {
        if context.arguments.flag("auto-approve") { return }
        guard context.options.output == .text else {
            throw UsageError(message: "--output json reports events and cannot ask for confirmation: review the plan and pass --auto-approve",
                             command: nil)
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw UsageError(message: "not on a terminal, so nothing can be confirmed: review the plan and pass --auto-approve",
                             command: nil)
        }
        context.console.out("\(question) Only 'yes' will be accepted.")
        FileHandle.standardOutput.write(Data("  Enter a value: ".utf8))
        guard readLine() == "yes" else { throw NotConfirmed(description: "cancelled; nothing was changed") }
    }

    /// SIGINT and SIGTERM stop the run gently: nothing new is launched, running calls finish, state is written.
    /// The handler only stores to an atomic: a signal can land on any thread, and on Linux a dispatch signal source
    /// misses those that land on threads not blocking it. A timer reports the stop.
    static func trapSignals(_ stop: StopFlag, _ console: Console) -> [any DispatchSourceProtocol] {
        _ = StopFlag.signalled.load(ordering: .relaxed)  // initialised here, never first touched inside the handler
        for number in [SIGINT, SIGTERM] {
            signal(number) { _ in StopFlag.signalled.store(true, ordering: .relaxed) }
        }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "deploy.signals"))
        timer.schedule(deadline: .now(), repeating: .milliseconds(50))
        let reported = LockedReport()
        timer.setEventHandler {
            if StopFlag.signalled.load(ordering: .relaxed), reported.first() {
                stop.stop()
                console.err("Interrupted: launching nothing new; waiting for running calls to finish and the state to be written.")
            }
        }
        timer.resume()
        return [timer]
    }

    /// Runs `work` with an executor whose progress is printed and which SIGINT/SIGTERM stop gently; returns the exit code.
    static func execute(_ verb: String, run: StackRun, expanded: ExpandedStack, state: State, handlerContext: HandlerContext, arguments: ParsedArguments,
                        _ context: CommandContext, _ work: (Executor) async throws -> ExecutionReport) async throws -> Int32 {
        let stop = StopFlag()
        let signals = trapSignals(stop, context.console)
        defer { signals.forEach { $0.cancel() } }
        let reporter = RunReporter(context)
        let executor = Executor(configuration: run.configuration, expanded: expanded, journal: Journal(state: state, store: run.store), context: handlerContext,
                                parallelism: try parallelism(arguments, command: verb), stop: stop, events: reporter.progress())
        if context.options.output == .text { context.console.out("") }
        return reporter.finish(try await work(executor), verb: verb)
    }

    /// The handler context for a stack.
    static func handlerContext(_ client: AWSClient, _ stack: StackFile, arguments: ParsedArguments) -> HandlerContext {
        HandlerContext(client: client, stack: StackIdentity(name: stack.name, account: stack.account, region: stack.region),
                       partition: stack.partition, emptyBuckets: arguments.flag("empty-buckets"), force: arguments.flag("force"))
    }

    static func parallelism(_ arguments: ParsedArguments, command: String) throws(UsageError) -> Int {
        guard let text = arguments.value("parallelism") else { return 8 }
        guard let value = Int(text), (1...64).contains(value) else {
            throw UsageError(message: "--parallelism must be a whole number from 1 to 64, not '\(text)'", command: command)
        }
        return value
    }
}

extension AccountMismatch: UserFacingError {
    var failureKind: FailureKind { .usage }
}

extension NotConfirmed: UserFacingError {
    var failureKind: FailureKind { .usage }
}
