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

enum ApplySupport {
    /// STS GetCallerIdentity must name the stack's account before anything is written.
    static func checkAccount(_ client: AWSClient, _ stack: StackFile) async throws {
        let identity = try await STS(client: client).getCallerIdentity()
        guard identity.account == stack.account else {
            throw AccountMismatch(expected: stack.account, actual: identity.account, arn: identity.arn)
        }
    }

    /// Runs `work` with an executor whose progress is printed and which SIGINT/SIGTERM stop gently; returns the exit code.
    static func execute(_ operation: StackOperation, run: StackRun, expanded: ExpandedStack, state: State, handlerContext: HandlerContext, parallelism: Int,
                        _ context: CommandContext, _ work: (Executor) async throws -> ExecutionReport) async throws -> Int32 {
        let stop = StopFlag()
        let signals = SignalTrap.install(stop, context.console)
        defer { signals.forEach { $0.cancel() } }
        let reporter = RunReporter(context)
        let executor = Executor(configuration: run.configuration, expanded: expanded, journal: Journal(state: state, store: run.store), context: handlerContext,
                                parallelism: parallelism, stop: stop, events: reporter.progress())
        if context.options.output == .text { context.console.out("") }
        return reporter.finish(try await work(executor), operation)
    }

    /// The handler context for a stack; only destroy's --empty-buckets and --force set `emptyBuckets` and `force`.
    static func handlerContext(_ client: AWSClient, _ stack: StackFile, emptyBuckets: Bool, force: Bool) -> HandlerContext {
        HandlerContext(client: client, stack: StackIdentity(name: stack.name, account: stack.account, region: stack.region),
                       partition: stack.partition, emptyBuckets: emptyBuckets, force: force)
    }

    /// `--parallelism <n>`, default 8, for apply and destroy.
    static func parallelismBinding<Options>(_ property: WritableKeyPath<Options, Int> & Sendable) -> OptionBinding<Options> {
        .value("parallelism", "n", "How many resources to work on at once (default 8).", property) { text throws(UsageError) in
            guard let value = Int(text), (1...64).contains(value) else {
                throw UsageError(message: "--parallelism must be a whole number from 1 to 64, not '\(text)'")
            }
            return value
        }
    }
}

extension AccountMismatch: UserFacingError {
    var failureKind: FailureKind { .usage }
}

extension NotConfirmed: UserFacingError {
    var failureKind: FailureKind { .usage }
}
