import Plan
import Stack

/// The stack evaluated against what exists right now: ids of created resources known, the rest unknown.
/// Re-evaluated only when the journal has changed since the last look.
actor DesiredView {
    let configuration: StackConfiguration
    private var generation = -1
    private var resources: [ResourceAddress: DesiredResource] = [:]
    private var outputs: [Phase: [String: Value]] = [:]
    private var sensitiveOutputs: Set<String> = []

    init(configuration: StackConfiguration) {
        self.configuration = configuration
    }

    func resource(_ address: ResourceAddress, journal: Journal) async throws -> DesiredResource? {
        try await refresh(journal)
        return resources[address]
    }

    func outputs(journal: Journal) async throws -> (values: [String: Value], sensitive: Set<String>) {
        try await refresh(journal)
        var flat: [String: Value] = [:]
        for (phase, values) in outputs { for (name, value) in values { flat["\(phase.rawValue).\(name)"] = value } }
        return (flat, sensitiveOutputs)
    }

    private func refresh(_ journal: Journal) async throws {
        let (current, known) = await journal.knownAttributes()
        guard current != generation else { return }
        var expander = Expander(configuration)
        let expanded = try expander.expand { desired in
            guard let recorded = known[desired.address] else { return Expander.allUnknown(desired) }
            return Dictionary(uniqueKeysWithValues: desired.schema.computed.map { ($0, recorded[$0] ?? .unknown) })
        }
        resources = Dictionary(uniqueKeysWithValues: expanded.resources.map { ($0.address, $0) })
        outputs = expanded.outputs
        sensitiveOutputs = expanded.sensitiveOutputs
        generation = current
    }
}
