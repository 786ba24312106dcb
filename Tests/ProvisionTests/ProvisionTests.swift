import Foundation
import Synchronization
import Testing
@testable import Provision
import Stack
import DeployTestSupport

/// The parts of provisioning that need no endpoint: handler coverage, the graph walk, the permissions policy.
@Suite("provisioning without an endpoint")
struct ProvisionTests {
    @Test("every resource type a template may use has a handler")
    func coverage() {
        #expect(HandlerRegistry.standard.types == ResourceTypes.names)
    }

    static func address(_ name: String) -> ResourceAddress { ResourceAddress(phase: "network", name: name) }

    final class Recorder: Sendable {
        let order = Mutex<[String]>([])
        let running = Mutex(0)
        let peak = Mutex(0)
    }

    @Test("dependencies first, never more at once than the parallelism, failures skip only their dependants")
    func walk() async {
        // a -> b -> d, a -> c, e alone; c fails
        let nodes = ["a", "b", "c", "d", "e", "f", "g", "h"].map(Self.address)
        let dependencies: [ResourceAddress: [ResourceAddress]] = [
            Self.address("b"): [Self.address("a")], Self.address("c"): [Self.address("a")], Self.address("d"): [Self.address("b"), Self.address("c")],
        ]
        let recorder = Recorder()
        let walker = GraphWalker(nodes: nodes, dependencies: dependencies, parallelism: 2, stop: StopFlag())
        let outcomes = await walker.walk { address in
            recorder.running.withLock { $0 += 1; let now = $0; recorder.peak.withLock { $0 = max($0, now) } }
            try? await Task.sleep(for: .milliseconds(20))
            recorder.order.withLock { $0.append(address.name) }
            recorder.running.withLock { $0 -= 1 }
            return address.name != "c"
        }
        let order = recorder.order.withLock { $0 }
        #expect(recorder.peak.withLock { $0 } == 2)
        #expect(order.firstIndex(of: "a")! < order.firstIndex(of: "b")!)
        #expect(!order.contains("d"), "d depends on the failed c")
        guard case .skipped(let cause) = outcomes[Self.address("d")] else { Issue.record("d was not skipped"); return }
        #expect(cause.name == "c")
        #expect(["e", "f", "g", "h", "b"].allSatisfy { order.contains($0) }, "independent branches go on")
    }

    @Test("a stop launches nothing new and lets running work finish")
    func stop() async {
        let stopFlag = StopFlag()
        let nodes = (0..<6).map { Self.address("n\($0)") }
        let walker = GraphWalker(nodes: nodes, dependencies: [:], parallelism: 2, stop: stopFlag)
        let outcomes = await walker.walk { _ in
            stopFlag.stop()
            try? await Task.sleep(for: .milliseconds(10))
            return true
        }
        let finished = outcomes.values.filter { if case .succeeded = $0 { return true } else { return false } }.count
        let unstarted = outcomes.values.filter { if case .notStarted = $0 { return true } else { return false } }.count
        #expect(finished == 2 && unstarted == 4)
    }

    @Test("the permissions policy names each handler's actions, scoped to the stack's named resources")
    func permissions() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let configuration = try StackConfiguration.load(stackPath: ShippedStack.path())
        var expander = Expander(configuration)
        let expanded = try expander.expand()
        let scoped = try PermissionsPolicy.build(expanded, stack: configuration.stack, scoped: true)
        let statements = try #require(scoped.mapValue?["Statement"]?.listValue)
        func actions(_ statement: Value) -> Set<String> { Set(statement.mapValue?["Action"]?.listValue?.compactMap(\.stringValue) ?? []) }
        func resources(_ statement: Value) -> [String] {
            let resource = statement.mapValue?["Resource"]
            return resource?.listValue?.compactMap(\.stringValue) ?? [resource?.stringValue].compactMap { $0 }
        }
        let all = statements.reduce(into: Set<String>()) { $0.formUnion(actions($1)) }
        let declared = try Set(Set(expanded.resources.map(\.type)).flatMap { try HandlerRegistry.standard.handler(for: $0).actions.all })
        #expect(all == declared.union(["sts:GetCallerIdentity", "iam:PassRole"]), "exactly the declared actions")
        let anywhere = try #require(statements.first { resources($0) == ["*"] })
        #expect(actions(anywhere).contains("ec2:CreateVpc") && !actions(anywhere).contains("iam:CreateRole"))
        let role = "arn:aws:iam::123456789012:role/private-inference-node"
        #expect(statements.contains { resources($0).contains(role) && actions($0).contains("iam:CreateRole") })
        let passRole = try #require(statements.first { actions($0) == ["iam:PassRole"] })
        #expect(Set(resources(passRole)) == [role, "arn:aws:iam::123456789012:role/private-inference-flow-logs"])
        let unscoped = try PermissionsPolicy.build(expanded, stack: configuration.stack, scoped: false)
        #expect(unscoped.mapValue?["Statement"]?.listValue?.allSatisfy { resources($0) == ["*"] } == true)
    }
}
