import Deployment
import Provision
import Stack

extension StackOptions {
    /// Where the options say the stack is; a shared state is reached with the session the command's options resolve.
    func source(_ context: CommandContext) -> StackSource {
        var source = StackSource(stackPath: stackPath, templatesDirectory: templates, statePath: statePath, bundledArtifacts: bundledArtifacts)
        source.backend = backend
        source.lockTimeout = lockTimeout
        let inputs = context.options.sessionInputs(environment: context.environment)
        let observer = DebugLog.observer(context)
        source.connect = { stack in try AWSAccount(stack: stack, inputs: inputs, observer: observer).client() }
        return source
    }

    /// Loads, checks and expands the stack (see `LoadedStack`), printing its warnings with their locations.
    func load(_ context: CommandContext, readingState: Bool = true, hashingArtifacts: Bool = true,
              requiringExpansion: Bool = true) async throws -> LoadedStack {
        let loaded = try await LoadedStack.load(source(context), readingState: readingState, hashingArtifacts: hashingArtifacts,
                                                requiringExpansion: requiringExpansion)
        for warning in loaded.warnings { context.console.err("warning: " + (warning.location.map { "\($0): " } ?? "") + warning.message) }
        return loaded
    }
}

extension Deployment {
    /// A deployment of `loaded` with the AWS handlers, the account reached as the command's options say, and the
    /// console as its observer.
    init(_ loaded: LoadedStack, _ context: CommandContext, autoApprove: Bool = false, parallelism: Int = 8) {
        let stop = StopFlag()
        let account = AWSAccount(stack: loaded.stack, inputs: context.options.sessionInputs(environment: context.environment),
                                 observer: DebugLog.observer(context))
        self.init(loaded, account: account,
                  observer: ConsoleObserver(context, stop: stop, autoApprove: autoApprove), stop: stop, parallelism: parallelism)
    }
}
