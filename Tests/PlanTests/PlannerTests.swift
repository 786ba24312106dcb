import Foundation
import Testing
@testable import Plan
import Stack

/// Diff, replace, delete and drift, against hand-made states of the shipped stack.
@Suite("planner")
struct PlannerTests {
    @Test("a first plan adds every resource, in four phases", arguments: ["private-inference", "air-gapped"])
    func firstPlan(_ stack: String) throws {
        let configuration = try PlanFixtures.configuration(stack)
        let plan = try PlanFixtures.plan(configuration, state: nil)
        #expect(plan.actions.allSatisfy { $0.kind == .create })
        #expect(plan.count(.create) == plan.actions.count && plan.actions.count > 25)
        for phase in Phase.allCases { #expect(!plan.actions(in: phase).isEmpty, "phase \(phase) has resources") }
        #expect(plan.summary == "\(plan.actions.count) to add, 0 to change, 0 to replace, 0 to destroy.")
        let phases = plan.actions.map { Phase(rawValue: $0.address.phase)!.order }
        #expect(phases == phases.sorted(), "actions come phase by phase")
        let position = Dictionary(uniqueKeysWithValues: plan.actions.enumerated().map { ($1.address, $0) })
        for action in plan.actions {
            for dependency in action.dependencies { #expect(position[dependency]! < position[action.address]!) }
        }
    }

    @Test("a state that matches the stack plans no changes")
    func noChanges() throws {
        let configuration = try PlanFixtures.configuration()
        let plan = try PlanFixtures.plan(configuration, state: try PlanFixtures.applied(configuration))
        #expect(!plan.hasChanges)
        #expect(plan.summary == "0 to add, 0 to change, 0 to replace, 0 to destroy.")
        #expect(plan.outputs["network.vpc_id"] == .string("id-network.vpc"))
    }

    @Test("a mutable property is updated in place, with its diff")
    func update() throws {
        let configuration = try PlanFixtures.configuration()
        var state = try PlanFixtures.applied(configuration)
        state.set("keys.data_key", "enable_key_rotation", .bool(false))
        state.set("inference.node[0]", "instance_type", .string("c7i.large"))
        let plan = try PlanFixtures.plan(configuration, state: state)
        #expect(plan.summary == "0 to add, 2 to change, 0 to replace, 0 to destroy.")
        let key = try #require(plan.actions.first { $0.address.description == "keys.data_key" })
        #expect(key.kind == .update)
        #expect(key.changes == [AttributeChange(name: "enable_key_rotation", before: .bool(false), after: .bool(true))])
    }

    @Test("an immutable change replaces, names the property, and ripples only to what depends on the new id")
    func replace() throws {
        let configuration = try PlanFixtures.configuration()
        var state = try PlanFixtures.applied(configuration)
        state.set("network.private_subnet[1]", "cidr_block", .string("10.40.99.0/24"))
        let plan = try PlanFixtures.plan(configuration, state: state)
        let subnet = try #require(plan.actions.first { $0.address.description == "network.private_subnet[1]" })
        #expect(subnet.kind == .replace)
        #expect(subnet.replacedBecause == ["cidr_block"])
        #expect(subnet.changes.first { $0.name == "cidr_block" }?.forcesReplacement == true)
        let association = try #require(plan.actions.first { $0.address.description == "network.private_route_association[1]" })
        #expect(association.kind == .replace && association.replacedBecause == ["subnet_id"])
        let endpoints = plan.actions.filter { $0.address.name == "interface_endpoint" }
        #expect(endpoints.allSatisfy { $0.kind == .update }, "subnet_ids changes in place on the endpoints")
        #expect(plan.actions.first { $0.address.description == "network.private_subnet[0]" }?.kind == .noop)
        #expect(plan.actions.first { $0.address.description == "network.vpc" }?.kind == .noop)
        let text = PlanText.render(plan).collapsingSpaces
        #expect(text.contains("-/+ network.private_subnet[1] (aws.ec2.subnet): replaced because cidr_block cannot change in place"))
        #expect(text.contains("cidr_block = \"10.40.99.0/24\" -> \"10.40.16.0/20\" # forces replacement"))
    }

    @Test("resources no longer declared are deleted, dependants first")
    func delete() throws {
        let configuration = try PlanFixtures.configuration()
        var state = try PlanFixtures.applied(configuration)
        let vpc = try #require(state.resource(PlanFixtures.address("network.vpc")))
        state.record(ResourceState(address: PlanFixtures.address("network.old_subnet"), type: "aws.ec2.subnet", id: "subnet-old",
                                   attributes: ["vpc_id": .string("vpc-old")], dependencies: [PlanFixtures.address("network.old_vpc")]))
        state.record(ResourceState(address: PlanFixtures.address("network.old_vpc"), type: "aws.ec2.vpc", id: "vpc-old",
                                   attributes: vpc.attributes))
        let plan = try PlanFixtures.plan(configuration, state: state)
        let deletes = plan.actions.filter { $0.kind == .delete }.map(\.address.description)
        #expect(deletes == ["network.old_subnet", "network.old_vpc"])
        #expect(plan.summary == "0 to add, 0 to change, 0 to replace, 2 to destroy.")
    }

    @Test("tainted resources are replaced and pending intents resolved before anything else")
    func taintedAndPending() throws {
        let configuration = try PlanFixtures.configuration()
        var state = try PlanFixtures.applied(configuration)
        var trail = try #require(state.resource(PlanFixtures.address("storage.trail")))
        trail.status = .tainted
        state.record(trail)
        var node = try #require(state.resource(PlanFixtures.address("inference.node[0]")))
        node.status = .pending
        node.id = nil
        node.intent = ResourceState.Intent(token: "tok-123", operation: "create", startedAt: "2026-11-22T10:00:00Z")
        state.record(node)
        let plan = try PlanFixtures.plan(configuration, state: state)
        let trailAction = try #require(plan.actions.first { $0.address == trail.address })
        #expect(trailAction.kind == .replace && trailAction.reason == "tainted by a failed apply")
        let nodeAction = try #require(plan.actions.first { $0.address == node.address })
        #expect(nodeAction.kind == .create)
        #expect(nodeAction.reason?.contains("tok-123") == true)
    }

    @Test("policies that differ only in spelling are equal")
    func policyNormalisation() throws {
        let configuration = try PlanFixtures.configuration()
        var state = try PlanFixtures.applied(configuration)
        let role = try #require(state.resource(PlanFixtures.address("keys.node_policy")))
        guard case .map(var policy) = role.attributes["policy"], case .list(let statements) = policy["Statement"] else {
            Issue.record("no policy"); return
        }
        // reversed statements, single actions as lists, duplicates, no Version, and as a JSON string
        policy["Statement"] = .list(statements.reversed().map { statement in
            guard case .map(var fields) = statement else { return statement }
            if case .string(let action) = fields["Action"] { fields["Action"] = .list([.string(action), .string(action)]) }
            return .map(fields)
        })
        policy["Version"] = nil
        state.set("keys.node_policy", "policy", .string(try CanonicalJSON.encode(.map(policy))))
        #expect(!(try PlanFixtures.plan(configuration, state: state)).hasChanges)
        state.set("keys.node_policy", "policy", .map(["Statement": .list([])]))
        #expect(try PlanFixtures.plan(configuration, state: state).count(.update) == 1)
    }

    @Test("Object Lock turned on is an update; lengthened, shortened or its mode changed too; taken back to 0 days the plan is refused",
          arguments: [(0, 30, true), (30, 60, true), (60, 30, true), (30, 0, false), (0, 0, true)])
    func objectLock(_ recorded: Int, _ declared: Int, _ planned: Bool) throws {
        var configuration = try PlanFixtures.configuration()
        var state = try PlanFixtures.applied(configuration)
        state.set("storage.audit_bucket", "object_lock_days", .int(recorded))
        configuration.parameters[.storage]?["audit_object_lock_days"] = .int(declared)
        guard planned else {
            let error = try #require(throws: StackError.self) { try PlanFixtures.plan(configuration, state: state) }
            #expect(error.description.contains("storage.audit_bucket: object_lock_days cannot go from 30 back to 0")
                    && error.description.contains("Object Lock cannot be turned off"), "\(error)")
            return
        }
        let plan = try PlanFixtures.plan(configuration, state: state)
        let bucket = try #require(plan.actions.first { $0.address.description == "storage.audit_bucket" })
        #expect(bucket.kind == (recorded == declared ? .noop : .update))
        #expect(bucket.changes.map(\.name) == (recorded == declared ? [] : ["object_lock_days"]))
    }

    @Test("a lock found on a bucket the stack keeps unlocked (turned on outside deploy) cannot be planned away either")
    func objectLockFoundLive() throws {
        let configuration = try PlanFixtures.configuration()
        let state = try PlanFixtures.applied(configuration)
        var live: [ResourceAddress: [String: Value]?] = [:]
        for resource in state.resources { live[resource.address] = resource.attributes }
        let bucket = PlanFixtures.address("storage.audit_bucket")
        live[bucket]??["object_lock_days"] = .int(1)
        #expect(throws: StackError.self) { try PlanFixtures.plan(configuration, state: state, refresh: RefreshResult(live: live)) }
    }

    @Test("drift found by refresh is shown and reverted")
    func drift() throws {
        let configuration = try PlanFixtures.configuration()
        let state = try PlanFixtures.applied(configuration)
        var live: [ResourceAddress: [String: Value]?] = [:]
        for resource in state.resources { live[resource.address] = resource.attributes }
        let group = PlanFixtures.address("network.inference_security_group")
        var groupLive = try #require(state.resource(group)).attributes
        guard case .list(var ingress) = groupLive["ingress"] else { Issue.record("no ingress"); return }
        ingress.append(.map(["protocol": .string("tcp"), "from_port": .int(22), "to_port": .int(22),
                             "cidr_blocks": .list([.string("0.0.0.0/0")])]))
        groupLive["ingress"] = .list(ingress)
        live[group] = groupLive
        let key = PlanFixtures.address("keys.data_key")
        var keyLive = try #require(state.resource(key)).attributes
        keyLive["enable_key_rotation"] = .bool(false)
        if case .map(var tags) = keyLive["tags"] { tags["owner"] = nil; keyLive["tags"] = .map(tags) }
        live[key] = keyLive
        live[PlanFixtures.address("storage.trail")] = .some(nil)
        let refresh = RefreshResult(live: live, apiCalls: 9)
        let plan = try PlanFixtures.plan(configuration, state: state, refresh: refresh)
        #expect(Set(plan.drift.map(\.address.description)) == ["network.inference_security_group", "keys.data_key", "storage.trail"])
        #expect(plan.drift.first { $0.address == key }?.changes.map(\.name) == ["enable_key_rotation", "tags"])
        #expect(plan.actions.first { $0.address == group }?.kind == .update)
        let keyAction = try #require(plan.actions.first { $0.address == key })
        #expect(keyAction.kind == .update && keyAction.changes.map(\.name) == ["enable_key_rotation", "tags"])
        let trail = try #require(plan.actions.first { $0.address.description == "storage.trail" })
        #expect(trail.kind == .create && trail.reason == "deleted outside deploy")
        #expect(plan.refresh.apiCalls == 9)
        let text = PlanText.render(plan).collapsingSpaces
        #expect(text.contains("Changed outside deploy since the last apply:"))
        #expect(text.contains("\"0.0.0.0/0\""))
        #expect(text.contains("tags.owner = \"ml-platform\" -> null"), "the drift")
        #expect(text.contains("tags.owner = null -> \"ml-platform\""), "the action that reverts it")
        #expect(text.contains("! storage.trail (aws.cloudtrail.trail) was deleted"))
    }
}

extension String {
    /// Runs of spaces as one, so tests do not depend on column alignment.
    var collapsingSpaces: String {
        split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            .joined(separator: "\n")
    }
}
