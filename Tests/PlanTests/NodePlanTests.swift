import Foundation
import Testing
@testable import Plan
import Stack

/// What a change to the inference node plans, which is what its handler must be able to do: what EC2 cannot change
/// on a running node replaces it, and a public address found on it shows as drift.
@Suite("inference node plans")
struct NodePlanTests {
    struct Change: Sendable, CustomTestStringConvertible {
        var attribute: String
        var recorded: Value
        var replaces: Bool
        var testDescription: String { "\(attribute) was \(recorded)" }
    }

    static let node = "inference.node[0]"

    @Test("a change the handler cannot make in place replaces the node; the rest update it", arguments: [
        Change(attribute: "root_volume_size", recorded: .int(50), replaces: true),
        Change(attribute: "root_volume_type", recorded: .string("gp2"), replaces: true),
        Change(attribute: "iam_instance_profile", recorded: .string("an-older-profile"), replaces: true),
        Change(attribute: "associate_public_ip_address", recorded: .bool(true), replaces: true),
        Change(attribute: "metadata_http_tokens", recorded: .string("optional"), replaces: false),
        Change(attribute: "instance_type", recorded: .string("c7i.large"), replaces: false),
    ])
    func change(_ change: Change) throws {
        let configuration = try PlanFixtures.configuration()
        var state = try PlanFixtures.applied(configuration)
        state.set(Self.node, change.attribute, change.recorded)
        let plan = try PlanFixtures.plan(configuration, state: state)
        let node = try #require(plan.actions.first { $0.address.description == Self.node })
        #expect(node.kind == (change.replaces ? .replace : .update))
        #expect(node.changes.map(\.name) == [change.attribute])
        if change.replaces { #expect(node.replacedBecause == [change.attribute]) }
    }

    @Test("a node that has a public address shows it as drift and is replaced by one without")
    func publicAddress() throws {
        let configuration = try PlanFixtures.configuration()
        let state = try PlanFixtures.applied(configuration)
        var live: [ResourceAddress: [String: Value]?] = [:]
        for resource in state.resources { live[resource.address] = resource.attributes }
        let node = PlanFixtures.address(Self.node)
        var nodeLive = try #require(state.resource(node)).attributes
        nodeLive["associate_public_ip_address"] = .bool(true)
        live[node] = nodeLive
        let plan = try PlanFixtures.plan(configuration, state: state, refresh: RefreshResult(live: live, apiCalls: 1))
        #expect(plan.drift.first { $0.address == node }?.changes.map(\.name) == ["associate_public_ip_address"])
        let action = try #require(plan.actions.first { $0.address == node })
        #expect(action.kind == .replace && action.replacedBecause == ["associate_public_ip_address"])
    }
}
