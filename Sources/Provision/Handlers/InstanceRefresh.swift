import AWS
import Plan
import Stack

/// Rolls a new launch template version out over an Auto Scaling group: an instance refresh that keeps
/// `refresh_min_healthy_percentage` of the group in service, replaces the nodes in batches, waits `refresh_instance_warmup`
/// on each new one, and rolls back on its own when new nodes fail their health checks. Apply waits for it to end.
///
/// A run killed during a refresh leaves it running in AWS; the next apply finds it (the group still shows the old
/// version until the refresh succeeds, so the plan updates it again) and waits on that refresh rather than starting
/// another. A refresh towards any other version is cancelled first: only the stack's version is rolled out.
struct InstanceRefresh {
    let context: HandlerContext
    let group: String

    private static let active: Set = ["Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"]

    private var service: QueryService { AutoScalingGroupHandler.service(context) }

    /// Rolls `resource`'s launch template version out over the group, which is on version `current` now.
    func rollOut(_ resource: DesiredResource, from current: String?) async throws {
        let version = try resource.require("launch_template_version")
        var refreshID: String?
        for refresh in try await refreshes() where Self.active.contains(status(refresh)) {
            let target = refresh.child("DesiredConfiguration")?.descendant("Version")?.text
            if target == version, status(refresh) == "Pending" || status(refresh) == "InProgress" {
                refreshID = refresh.child("InstanceRefreshId")?.text
                context.reportProgress("instance refresh \(refreshID ?? "") towards version \(version) was already running; waiting on it")
            } else {
                try await cancel(refresh)
            }
        }
        // AWS rolls back only to a numbered version: a group moved to $Latest or $Default outside deploy is refreshed
        // without rollback (and said so)
        let rollback = current.flatMap { Int($0) } != nil
        if !rollback { context.reportProgress("the group is on launch template version \(current ?? "none"), not a numbered one: no rollback if this refresh fails") }
        if refreshID == nil { refreshID = try await start(resource, version: version, rollback: rollback) }
        guard let refreshID else { throw ProvisionError("StartInstanceRefresh returned no InstanceRefreshId") }
        try await wait(refreshID, version: version)
    }

    private func status(_ refresh: XMLNode) -> String { refresh.child("Status")?.text ?? "" }

    private func refreshes(_ ids: [String] = []) async throws -> [XMLNode] {
        let answer = try await service.call("DescribeInstanceRefreshes",
                                            [("AutoScalingGroupName", group)] + QueryService.members("InstanceRefreshIds", ids))
        return QueryService.list(answer, "InstanceRefreshes")
    }

    private func start(_ resource: DesiredResource, version: String, rollback: Bool) async throws -> String? {
        let parameters = [("AutoScalingGroupName", group), ("Strategy", "Rolling"),
                          ("Preferences.MinHealthyPercentage", String(try resource.requireInt("refresh_min_healthy_percentage"))),
                          ("Preferences.InstanceWarmup", String(try resource.requireInt("refresh_instance_warmup"))),
                          // nodes already on the version stay; a failed refresh puts the old version back by itself
                          ("Preferences.SkipMatching", "true"), ("Preferences.AutoRollback", String(rollback))]
            + (try AutoScalingGroupHandler.launchTemplate(resource, version: version, prefix: "DesiredConfiguration."))
        let answer = try await service.call("StartInstanceRefresh", parameters)
        let id = answer.child("InstanceRefreshId")?.text
        context.reportProgress("instance refresh \(id ?? "") started: rolling out launch template version \(version)")
        return id
    }

    private func cancel(_ refresh: XMLNode) async throws {
        let id = refresh.child("InstanceRefreshId")?.text ?? ""
        context.reportProgress("cancelling instance refresh \(id) (\(status(refresh))), which rolls out another version")
        if status(refresh) != "Cancelling" {
            do {
                try await service.call("CancelInstanceRefresh", [("AutoScalingGroupName", group)])
            } catch let error as AWSError where error.code == "ActiveInstanceRefreshNotFound" {}
        }
        try await waitUntil("instance refresh \(id) of \(group) to stop", timeout: 3600, interval: 15) {
            try await refreshes([id]).allSatisfy { !Self.active.contains(status($0)) }
        }
    }

    private func wait(_ id: String, version: String) async throws {
        var shown = ""
        var outcome: XMLNode?
        try await waitUntil("instance refresh \(id) of \(group)", timeout: 7200, interval: 15) {
            guard let refresh = try await refreshes([id]).first else { throw ProvisionError("instance refresh \(id) of \(group) is gone") }
            let line = "instance refresh \(status(refresh)): \(refresh.child("PercentageComplete")?.text ?? "0")% complete, "
                + "\(refresh.child("InstancesToUpdate")?.text ?? "?") node(s) to replace"
            if line != shown {
                context.reportProgress(line)
                shown = line
            }
            outcome = refresh
            return !Self.active.contains(status(refresh))
        }
        guard let outcome, status(outcome) != "Successful" else { return }
        let reason = outcome.child("StatusReason").map { ": \($0.text)" } ?? ""
        let rolledBack = status(outcome) == "RollbackSuccessful" ? "; the group was rolled back to its previous launch template version" : ""
        throw ProvisionError("instance refresh \(id) of \(group) towards launch template version \(version) ended \(status(outcome))\(reason)\(rolledBack)")
    }
}

/// Waits until a group has the nodes it must have in service, each healthy in every target group it serves: the
/// load balancer's health check (`/health`, which answers only once the model is loaded) admits a node, not its boot.
struct FleetCapacity {
    let context: HandlerContext

    func waitForHealthy(group: String, count: Int, targetGroups: [String]) async throws {
        guard count > 0 else { return }
        let elb = QueryService(client: context.client, service: .elbv2)
        var shown = ""
        try await waitUntil("\(count) healthy node(s) in Auto Scaling group \(group)", timeout: 1800, interval: 10) {
            guard let description = try await AutoScalingGroupHandler.describe(group, context: context) else { return false }
            let inService = QueryService.list(description, "Instances").filter { $0.child("LifecycleState")?.text == "InService" }
                .compactMap { $0.child("InstanceId")?.text }
            var healthy = Set(inService)
            for targetGroup in targetGroups {
                let health = try await elb.call("DescribeTargetHealth", [("TargetGroupArn", targetGroup)])
                let admitted = QueryService.list(health, "TargetHealthDescriptions").filter {
                    $0.child("TargetHealth")?.child("State")?.text == "healthy"
                }.compactMap { $0.child("Target")?.child("Id")?.text }
                healthy.formIntersection(admitted)
            }
            let line = "\(inService.count) node(s) in service, \(healthy.count) healthy behind the load balancer (waiting for \(count))"
            if line != shown {
                context.reportProgress(line)
                shown = line
            }
            return healthy.count >= count
        }
    }
}
