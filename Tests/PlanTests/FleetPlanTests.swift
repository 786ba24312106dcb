import Foundation
import Testing
@testable import Plan
import Stack

/// What a change to a fleet's launch template plans: a change of what nodes boot with makes a new version, which the
/// group rolls out in the same apply (the version unknown until then); a change of the template's tags does not.
@Suite("fleet plans")
struct FleetPlanTests {
    static let template = "inference.node_template[0]"
    static let group = "inference.fleet[0]"

    @Test("new user data updates the launch template, and the group with its version, known after apply")
    func newUserData() throws {
        let configuration = try PlanFixtures.configuration("fleet")
        var state = try PlanFixtures.applied(configuration)
        state.set(Self.template, "user_data", .string("#!/bin/sh\necho an older boot\n"))
        let plan = try PlanFixtures.plan(configuration, state: state)
        #expect(plan.actions.first { $0.address.description == Self.template }?.kind == .update)
        let group = try #require(plan.actions.first { $0.address.description == Self.group })
        #expect(group.kind == .update)
        #expect(group.changes.map(\.name) == ["launch_template_version"] && group.changes.first?.after == .unknown)
    }

    @Test("new tags on the launch template update it alone: no version, no rollout")
    func newTags() throws {
        let configuration = try PlanFixtures.configuration("fleet")
        var state = try PlanFixtures.applied(configuration)
        state.set(Self.template, "tags", .map(["owner": .string("someone-else")]))
        let plan = try PlanFixtures.plan(configuration, state: state)
        #expect(plan.actions.first { $0.address.description == Self.template }?.kind == .update)
        #expect(plan.actions.first { $0.address.description == Self.group }?.kind == .noop)
    }
}
