import Foundation
import Plan
import Stack
#if canImport(Glibc)
import Glibc
#endif

// Plans a generated stack of 2,000 resources with no refresh, twice: a first plan (everything to add) and a
// plan against a state where everything exists (everything compared attribute by attribute), then prints wall
// time per stage and the process's peak resident memory. Target: under 1 s and 200 MB in release mode. Then the
// time to read a 40,000-key map and to refuse a stack of 40,000 tags (outside the total).

let blocksPerPhase = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 100
let countPerBlock = 5

func template(_ phase: Phase) -> String {
    var resources: [String] = []
    for block in 0..<blocksPerPhase {
        let previous = block == 0 ? "" : "\"prev_\(block)\": \"${r\(block - 1)[count.index].id}\","
        let earlier = phase == .network ? "" : "from: \"${network.r\(block % blocksPerPhase)[count.index].arn}\","
        resources.append("""
            r\(block): {
              type: "aws.iam.role",
              count: \(countPerBlock),
              properties: {
                name: '${format("%s-\(phase.rawValue)-\(block)-%02d", stack.name, count.index)}',
                description: "${param.label} \(block)",
                assume_role_policy: {
                  Version: "2012-10-17",
                  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: ["sts:AssumeRole"] }],
                },
                tags: { \(previous) \(earlier) index: "${count.index}", block: "\(block)" },
              },
            },
            """)
    }
    return """
        { phase: "\(phase.rawValue)",
          parameters: { label: { type: "string", default: "generated" } },
          resources: {
        \(resources.joined(separator: "\n"))
          },
          outputs: { first: "${r0[0].arn}" },
        }
        """
}

func peakMemoryMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func row(_ label: String, _ figure: String) -> String {
    "  " + label.padding(toLength: 36, withPad: " ", startingAt: 0) + figure
}

func measure<T>(_ label: String, _ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    print(row(label, String(format: "%8.1f ms", seconds * 1000)))
    return (result, seconds)
}

do {
    let texts = Phase.allCases.map { ($0, template($0)) }
    let stackText = "{ name: 'bench', account: '123456789012', region: 'eu-west-1', tags: { owner: 'bench' } }"
    print("plan-benchmark: \(Phase.allCases.count * blocksPerPhase * countPerBlock) resources, "
        + "\(texts.reduce(0) { $0 + $1.1.utf8.count } / 1024) KiB of templates")
    var total = 0.0
    let (configuration, parse) = try measure("parse and check stack + templates") {
        let stack = try StackFile.parse(stackText, file: "bench.json5")
        let templates = try texts.map { try Template.parse($0.1, file: "\($0.0.rawValue).json5", phase: $0.0) }
        return try StackConfiguration(stack: stack, templates: templates)
    }
    total += parse
    let digest = StackDigest.compute(configuration)
    let (first, firstTime) = try measure("first plan (all to add)") {
        try Planner(configuration: configuration, state: nil, stackDigest: digest).plan()
    }
    total += firstTime
    let (_, textTime) = measure("render the text plan") { PlanText.render(first) }
    let (_, jsonTime) = try measure("render the JSON plan") { try JSONEncoder().encode(PlanDocument(first)) }
    total += textTime + jsonTime
    var state = State(stack: "bench", account: "123456789012", region: "eu-west-1")
    var expander = Expander(configuration)
    _ = try expander.expand { desired in
        let computed = Dictionary(uniqueKeysWithValues: desired.schema.computed.map { ($0, Value.string("\($0):\(desired.address)")) })
        state.resources.append(ResourceState(address: desired.address, type: desired.type, id: desired.address.description,
                                             attributes: desired.properties.merging(computed) { _, new in new }))
        return computed
    }
    state.resources.sort { $0.address < $1.address }
    let (second, secondTime) = try measure("plan against full state (no-op)") {
        try Planner(configuration: configuration, state: state, stackDigest: digest).plan()
    }
    precondition(!second.hasChanges, "a matching state must plan no changes")
    print(row("total", String(format: "%8.1f ms  (target < 1000 ms)", (total + secondTime) * 1000)))
    print(row("peak resident memory", String(format: "%8.1f MB  (target < 200 MB)", peakMemoryMB())))
    print("  \(first.summary)")

    // Maps as a generator writes them, on one line: read in time linear in their size, and a stack with more tags
    // than AWS takes refused at the first one over.
    let keys = 40_000
    let bigMap = "{" + (0..<keys).map { "\"k\($0)\": \"v\"" }.joined(separator: ", ") + "}"
    _ = try measure("map default of \(keys) keys, one line") {
        try Template.parse("{ phase: 'network', parameters: { big: { type: 'map', default: \(bigMap) } }, resources: {} }",
                           file: "big.json5", phase: .network)
    }
    let (refusal, _) = measure("stack of \(keys) tags (refused)") { () -> StackError? in
        do {
            _ = try StackFile.parse("{ name: 'bench', account: '123456789012', region: 'eu-west-1', tags: \(bigMap) }", file: "tags.json5")
            return nil
        } catch let error as StackError {
            return error
        } catch {
            return nil
        }
    }
    precondition(refusal?.message.contains("one too many") == true, "a stack with \(keys) tags must be refused")
} catch {
    FileHandle.standardError.write(Data("plan-benchmark: \(error)\n".utf8))
    exit(1)
}
