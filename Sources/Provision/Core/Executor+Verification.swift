import AWS
import Plan
import Stack

extension Executor {
    /// Reads `addresses`, just updated, back from the account and names each whose live properties still differ
    /// from the desired ones: an update that changed nothing is a failure, not "complete". Checked once the whole
    /// phase has run, since a role's inline policies are put by resources of their own. Reads that lag (IAM is
    /// eventually consistent) are given a few seconds.
    func unmadeChanges(_ addresses: [ResourceAddress], view: DesiredView) async -> [(ResourceAddress, String)] {
        let state = await journal.state
        var found: [(ResourceAddress, String)] = []
        let byType = Dictionary(grouping: addresses.compactMap { state.resource($0) }, by: \.type)
        for (type, resources) in byType.sorted(by: { $0.key < $1.key }) {
            var differing: [ResourceAddress: String] = [:]
            for delay in [0.0, 1, 2, 4] {
                if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
                differing = [:]
                do {
                    let read = try await RequestLabel.$current.withValue("verify \(type)") {
                        try await handlers.handler(for: type).read(resources, context: context)
                    }
                    for resource in resources {
                        guard let desired = try await view.resource(resource.address, journal: journal) else { continue }
                        guard let live = read.live[resource.address] else {
                            differing[resource.address] = "not found in the account after its update"
                            continue
                        }
                        let names = desired.properties.keys.sorted().filter { name in
                            guard let now = live[name] else { return false }
                            return !AttributeComparison.equal(desired.properties[name] ?? .null, now, schema: desired.schema.attributes[name])
                        }
                        if !names.isEmpty {
                            differing[resource.address] = "the update's calls succeeded, but the account still differs in "
                                + "\(names.joined(separator: ", ")): not done, whatever the calls answered"
                        }
                    }
                } catch {
                    for resource in resources { differing[resource.address] = "could not be read back after its update: \(error)" }
                }
                if differing.isEmpty { break }
            }
            found += differing.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        return found
    }
}
