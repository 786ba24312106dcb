import Stack

/// What the executor does to one resource.
public enum ResourceStep: String, Sendable {
    case create, update, destroy
}

/// What the executor reports as it goes, for the CLI to print one line per start and end.
public enum ProgressEvent: Sendable {
    case started(ResourceAddress, step: ResourceStep)
    case finished(ResourceAddress, step: ResourceStep, seconds: Double)
    case adopted(ResourceAddress, id: String)
    case failed(ResourceAddress, step: ResourceStep, message: String)
    case skipped(ResourceAddress, because: ResourceAddress)
    /// How far a long step has come (an instance refresh's percentage), in the handler's words.
    case progress(ResourceAddress, message: String)
}

/// The outcome of an apply or destroy.
public struct ExecutionReport: Sendable {
    public var created: [ResourceAddress] = []
    public var updated: [ResourceAddress] = []
    public var replaced: [ResourceAddress] = []
    public var deleted: [ResourceAddress] = []
    public var failed: [(address: ResourceAddress, message: String)] = []
    public var skipped: [ResourceAddress] = []
    public var kept: [ResourceAddress] = []
    /// Stopped by SIGINT or SIGTERM before everything ran.
    public var interrupted = false

    public var succeeded: Bool { failed.isEmpty && skipped.isEmpty && !interrupted }
}
