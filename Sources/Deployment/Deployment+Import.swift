import Plan
import Provision
import Stack
import TextSafety

extension Deployment {
    /// Adopts the resource `id` that already exists in the account as the stack's `address`, read through its
    /// handler as a refresh reads it; nothing in the account changes. Returns the resource as declared.
    public func importResource(_ address: ResourceAddress, id: String) async throws -> DesiredResource {
        let declared = loaded.expanded.resources
        guard let desired = declared.first(where: { $0.address == address }) else {
            throw Refused(Suggestion.message("the stack declares no \(address)", for: address.description, among: declared.map(\.address.description)),
                          hint: "See 'deploy import --help'.")
        }
        try await checkAccount()
        return try await locked("import") {
            var state = try await loaded.currentState()
            if let recorded = state.resource(address) {
                throw NotConfirmed(description: "\(address) is already in the state as \(recorded.id ?? "a pending create"); "
                    + "remove it first with deploy state rm \(address) to import another")
            }
            let context = try handlerContext()
            let probe = ResourceState(address: address, type: desired.type, id: id, attributes: [:])
            let read = try await HandlerReader(context: context, handlers: handlers).read(type: desired.type, resources: [probe], stack: context.stack)
            guard let live = read.live[address] else {
                throw NotConfirmed(description: "no \(desired.type) with id '\(SafeText.quoted(id))' in account \(stack.account), "
                    + "region \(stack.region); nothing was imported")
            }
            state.record(ResourceState(address: address, type: desired.type, id: id, attributes: live, sensitive: Array(desired.sensitive).sorted(),
                                       dependencies: desired.dependencies))
            state.serial += 1
            try await loaded.store.write(state)
            return desired
        }
    }
}
