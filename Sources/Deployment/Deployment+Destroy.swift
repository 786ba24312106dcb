import Plan
import Provision
import Stack

extension Deployment {
    /// What a destroy may do to protected resources and full buckets.
    public struct DestroyRequest: Sendable {
        /// Destroy protected resources too, lifting a table's deletion protection.
        public var force: Bool
        /// Destroy everything except the protected resources, which stay in the state.
        public var keepProtected: Bool
        /// Delete the objects of non-empty buckets first.
        public var emptyBuckets: Bool

        public init(force: Bool = false, keepProtected: Bool = false, emptyBuckets: Bool = false) {
            self.force = force
            self.keepProtected = keepProtected
            self.emptyBuckets = emptyBuckets
        }
    }

    /// Deletes every recorded resource, dependants first, once the account is checked, the lock taken, protected
    /// resources either allowed (`force`) or kept (`keepProtected`), and the observer has said yes.
    public func destroy(_ request: DestroyRequest) async throws -> RunOutcome {
        try await checkAccount()
        return try await locked("destroy") {
            let state = try await loaded.currentState()
            guard !state.resources.isEmpty else { return .unchanged }
            let declaredProtected = Set(loaded.expanded.resources.filter(\.protected).map(\.address))
            let protected = Set(state.resources.map(\.address)).intersection(declaredProtected)
            if !protected.isEmpty, !request.force, !request.keepProtected {
                throw NotConfirmed(description: "destroy would delete protected resources: \(protected.sorted().map(\.description).joined(separator: ", ")). "
                    + "Pass --force to delete them too, or --keep-protected to keep them; nothing was changed")
            }
            let doomed = state.resources.filter { !(request.keepProtected && protected.contains($0.address)) }.sorted { $0.address > $1.address }
            observer.reviewDestroy(doomed, stack: identity)
            try observer.confirm("\nDestroy these resources?")
            let context = try handlerContext(emptyBuckets: request.emptyBuckets, force: request.force)
            return .executed(try await executor(expanded: loaded.expanded, state: state, context: context)
                .destroy(protected: protected, keepProtected: request.keepProtected))
        }
    }
}
