import Foundation
@testable import Plan
import Stack
import DeployTestSupport

/// The shipped stacks, and states made as if a previous apply had created every resource.
enum PlanFixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func configuration(_ stack: String = "private-inference") throws -> StackConfiguration {
        try StackConfiguration.load(stackPath: ShippedStack.path(stack))
    }

    /// A fake cloud id for an address, stable across runs.
    static func id(_ address: ResourceAddress) -> String {
        "id-" + address.description.replacingOccurrences(of: "[", with: "-").replacingOccurrences(of: "]", with: "")
    }

    /// The state an apply of `configuration` would have recorded, every computed attribute filled in.
    static func applied(_ configuration: StackConfiguration) throws -> State {
        var state = State(stack: configuration.stack.name, account: configuration.stack.account,
                          region: configuration.stack.region, lineage: "lineage-1")
        var expander = Expander(configuration)
        var recorded: [ResourceState] = []
        _ = try expander.expand { desired in
            var computed: [String: Value] = [:]
            for name in desired.schema.computed {
                computed[name] = name == "arn" ? .string("arn:aws:test:::\(id(desired.address))") : .string(id(desired.address))
            }
            recorded.append(ResourceState(address: desired.address, type: desired.type, id: id(desired.address),
                                          attributes: desired.properties.merging(computed) { _, new in new },
                                          sensitive: desired.sensitive.sorted(), dependencies: desired.dependencies))
            return computed
        }
        for resource in recorded { state.record(resource) }
        state.serial = 7
        return state
    }

    static func plan(_ configuration: StackConfiguration, state: State?, refresh: RefreshResult? = nil) throws -> Plan {
        try Planner(configuration: configuration, state: state, refresh: refresh,
                    stackDigest: StackDigest.compute(configuration)).plan()
    }

    static func address(_ text: String) -> ResourceAddress { ResourceAddress(text)! }
}

extension State {
    /// Changes one recorded attribute, as a test's hand-made state.
    mutating func set(_ address: String, _ attribute: String, _ value: Value) {
        guard var resource = resource(ResourceAddress(address)!) else { return }
        resource.attributes[attribute] = value
        record(resource)
    }
}
