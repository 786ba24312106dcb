import Plan
import Stack

/// The stack evaluated against what exists right now: ids of created resources known, the rest unknown. It starts
/// from the expansion the plan was made with and, whenever the journal has changed since the last look, is refined
/// from it: only the resources that what was created reaches are evaluated again, and no artifact is hashed again.
actor DesiredView {
    let configuration: StackConfiguration
    private var generation = -1
    private var expanded: ExpandedStack
    private var resources: [ResourceAddress: DesiredResource] = [:]

    init(configuration: StackConfiguration, expanded: ExpandedStack) {
        self.configuration = configuration
        self.expanded = expanded
    }

    func resource(_ address: ResourceAddress, journal: Journal) async throws -> DesiredResource? {
        try await refresh(journal)
        return resources[address]
    }

    func outputs(journal: Journal) async throws -> (values: [String: Value], sensitive: Set<String>) {
        try await refresh(journal)
        var flat: [String: Value] = [:]
        for (phase, values) in expanded.outputs { for (name, value) in values { flat["\(phase.rawValue).\(name)"] = value } }
        return (flat, expanded.sensitiveOutputs)
    }

    private func refresh(_ journal: Journal) async throws {
        let (current, known) = await journal.knownAttributes()
        guard current != generation else { return }
        var expander = Expander(configuration)
        expanded = try expander.refine(expanded) { desired in
            guard let recorded = known[desired.address] else { return Expander.allUnknown(desired) }
            return Dictionary(uniqueKeysWithValues: desired.schema.computed.map { ($0, recorded[$0] ?? .unknown) })
        }
        resources = Dictionary(uniqueKeysWithValues: expanded.resources.map { ($0.address, $0) })
        generation = current
    }
}
