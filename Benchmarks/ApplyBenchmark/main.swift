import AWS
import Foundation
import Plan
import Provision
import Stack

// Applies a stack through an endpoint that adds a fixed latency to every call (scripts/apply-benchmark puts
// scripts/fault-proxy --latency 50 in front of the local endpoint), then plans it again and destroys it. Prints the
// wall time, the critical path in calls (the longest chain of dependent resources, phase after phase, each resource
// weighing the calls it made as if made one after another; handlers that send independent calls at once, such as a
// bucket's configuration, finish faster than that), the total calls,
// and calls per resource for apply and for a no-op plan. Target: wall time at most 1.2 x critical path x latency.

/// When each resource's work started and finished, to split the wall time by phase.
final class Timeline: @unchecked Sendable {
    // @unchecked: every access goes through `lock`
    private let lock = NSLock()
    private var spans: [ResourceAddress: (start: ContinuousClock.Instant, end: ContinuousClock.Instant?)] = [:]

    func record(_ event: ProgressEvent) {
        lock.withLock {
            switch event {
            case .started(let address, _): spans[address] = (ContinuousClock.now, nil)
            case .finished(let address, _, _): spans[address]?.end = ContinuousClock.now
            default: break
            }
        }
    }

    /// Seconds from the phase's first start to its last finish.
    func wall(_ phase: Phase) -> Double {
        lock.withLock {
            let inPhase = spans.filter { $0.key.phase == phase.rawValue }.values
            guard let first = inPhase.map(\.start).min(), let last = inPhase.compactMap(\.end).max() else { return 0 }
            let elapsed = last - first
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
    }
}

final class CallLog: @unchecked Sendable {
    // @unchecked: every access goes through `lock`
    private let lock = NSLock()
    private var calls: [String: Int] = [:]

    func record(_ event: RequestEvent) {
        lock.withLock { calls[event.label ?? "unlabelled", default: 0] += 1 }
    }

    func take() -> [String: Int] {
        lock.withLock {
            defer { calls = [:] }
            return calls
        }
    }
}

func row(_ label: String, _ figure: String) -> String { "  " + label.padding(toLength: 40, withPad: " ", startingAt: 0) + figure }

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// The longest chain of calls through the plan's dependencies, phase by phase (phases run one after another).
func criticalPath(_ plan: Plan, calls: [String: Int], phases: [Phase] = Phase.allCases) -> Int {
    var total = 0
    for phase in phases {
        let actions = plan.actions(in: phase)
        var longest: [ResourceAddress: Int] = [:]
        for action in actions {  // actions come in dependency order
            let before = action.dependencies.compactMap { longest[$0] }.max() ?? 0
            longest[action.address] = before + (calls[action.address.description] ?? 0)
        }
        total += longest.values.max() ?? 0
    }
    return total
}

let arguments = CommandLine.arguments.dropFirst()
let stackPath = arguments.first ?? "Stacks/private-inference.json5"
let latency = Double(ProcessInfo.processInfo.environment["BENCH_LATENCY_MS"] ?? "50") ?? 50

do {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apply-benchmark-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let original = try StackFile.load(stackPath)
    let name = "bench-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    let copy = directory.appendingPathComponent("stack.json5").path
    try original.text.replacingOccurrences(of: "name: \"\(original.name)\"", with: "name: \"\(name)\"")
        .write(toFile: copy, atomically: true, encoding: .utf8)
    let templates = (((stackPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("../Templates") as NSString)
        .standardizingPath
    let configuration = try StackConfiguration.load(stackPath: copy, templatesDirectory: templates)
    let log = CallLog()
    var inputs = SessionInputs(environment: ProcessInfo.processInfo.environment)
    inputs.region = configuration.stack.region
    let client = try SessionResolver(inputs: inputs, observer: { log.record($0) }).resolve().client
    let stack = StackIdentity(name: configuration.stack.name, account: configuration.stack.account, region: configuration.stack.region)
    let context = HandlerContext(client: client, stack: stack, partition: configuration.stack.partition, emptyBuckets: true, force: true)
    let store = StateStore(path: directory.appendingPathComponent("state.json").path)
    let digest = StackDigest.compute(configuration)
    let (plan, expanded) = try Planner(configuration: configuration, state: nil, stackDigest: digest).planned()
    let journal = Journal(state: State(stack: stack.name, account: stack.account, region: stack.region), store: store)
    let timeline = Timeline()
    let executor = Executor(configuration: configuration, expanded: expanded, journal: journal, context: context, events: { timeline.record($0) })

    // moto builds each service's regional backend on its first call (about a second for EC2); warm them up first,
    // so that the figures measure deploy and the added latency, not the endpoint's start-up
    _ = try await EC2(client: client).describeVpcIDs()
    _ = try await KMS(client: client).listKeys()
    _ = try await S3(client: client).listBuckets()
    _ = try await DynamoDB(client: client).listTables()
    _ = try await client.query(.iam, action: "ListRoles")
    _ = try await client.json(.logs, operation: "DescribeLogGroups", input: JSONValue.object([:]), as: JSONValue.self)
    _ = try await client.json(.cloudtrail, operation: "DescribeTrails", input: JSONValue.object([:]), as: JSONValue.self)
    _ = log.take()

    print("apply-benchmark: \(plan.actions.count) resources of \(stackPath), \(Int(latency)) ms added to every call, parallelism 8")
    let start = ContinuousClock.now
    let report = try await executor.apply(plan)
    let wall = seconds(since: start)
    guard report.succeeded else { throw ProvisionError("apply failed: \(report.failed.map { "\($0.address): \($0.message)" })") }
    let applyCalls = log.take()
    let path = criticalPath(plan, calls: applyCalls)
    let total = applyCalls.values.reduce(0, +)
    print(row("apply wall time", String(format: "%.2f s", wall)))
    print(row("critical path (calls in sequence)", "\(path) calls = \(String(format: "%.2f", Double(path) * latency / 1000)) s at \(Int(latency)) ms"))
    print(row("wall / (critical path x latency)", String(format: "%.2f  (target <= 1.20)", wall / (Double(path) * latency / 1000))))
    for phase in Phase.allCases {
        let phasePath = criticalPath(plan, calls: applyCalls, phases: [phase])
        print(row("  \(phase.rawValue)", String(format: "%.2f s for a %d-call path (%.2f)", timeline.wall(phase), phasePath,
                                                   timeline.wall(phase) / (Double(phasePath) * latency / 1000))))
    }
    print(row("apply API calls", "\(total) (\(String(format: "%.1f", Double(total) / Double(plan.actions.count))) per resource)"))

    let state = await journal.state
    let refreshStart = ContinuousClock.now
    let refreshed = try await Refresher(readers: [HandlerReader(context: context)]).refresh(state)
    let noop = try Planner(configuration: configuration, state: state, refresh: refreshed, stackDigest: digest).plan()
    let refreshWall = seconds(since: refreshStart)
    let refreshCalls = log.take().values.reduce(0, +)
    print(row("no-op plan (refresh) wall time", String(format: "%.2f s, %@", refreshWall, noop.hasChanges ? "CHANGES FOUND" : "no changes")))
    print(row("no-op plan API calls", "\(refreshCalls) (\(String(format: "%.2f", Double(refreshCalls) / Double(state.resources.count))) per resource)"))

    let destroyStart = ContinuousClock.now
    let destroyed = try await executor.destroy(protected: [], keepProtected: false)
    print(row("destroy wall time", String(format: "%.2f s, %d calls, %@", seconds(since: destroyStart),
                                             log.take().values.reduce(0, +), destroyed.succeeded ? "all gone" : "INCOMPLETE")))
} catch {
    FileHandle.standardError.write(Data("apply-benchmark: \(error)\n".utf8))
    exit(1)
}
