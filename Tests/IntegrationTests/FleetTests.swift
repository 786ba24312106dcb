import Foundation
import Testing

/// The fleet stack's life against the local endpoint with IAM enforced, by an identity holding exactly the printed
/// policy: apply (nodes admitted by the load balancer's health check), a clean re-plan, drift repaired, a new model
/// rolled out as an instance refresh, an apply killed during the refresh resumed, a failed refresh rolled back, and
/// destroy to nothing. The instance refresh and the target health checks are the local endpoint's
/// (scripts/local_aws_server.py), since moto has neither.
@Suite("an inference fleet against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct FleetTests {
    typealias Deployed = DriftRepairTests.Deployed

    /// The fleet stack, applied once for every test, by a user holding exactly the printed policy.
    static let deployed: Result<Deployed, any Error> = Result {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "fl", from: "fleet")
        let environment = try LifecycleTests.appliedUnderPrintedPolicy(fixture, endpoint)
        return Deployed(fixture: fixture, environment: environment, account: endpoint.account)
    }

    func deploy(_ arguments: [String], _ deployed: Deployed) throws -> DeployProcess.Result {
        try DeployProcess.run(arguments + ["--stack", deployed.fixture.stackPath, "--state", deployed.fixture.statePath],
                              environment: deployed.environment)
    }

    /// The group's nodes as Auto Scaling lists them: id, lifecycle state and launch template version; and the group's own version.
    func fleet(_ deployed: Deployed) throws -> (nodes: [[String: String]], version: String) {
        let output = try OutsideActor.run("""
            group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=['\(deployed.fixture.name)-nodes'])['AutoScalingGroups'][0]
            spec = group.get('MixedInstancesPolicy', {}).get('LaunchTemplate', {}).get('LaunchTemplateSpecification') or group['LaunchTemplate']
            print(json.dumps({'version': spec['Version'], 'nodes': [{'id': i['InstanceId'], 'state': i['LifecycleState'],
                'version': (i.get('LaunchTemplate') or {}).get('Version', '')} for i in group['Instances']]}))
            """, region: deployed.fixture.region)
        let document = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
        return ((document["nodes"] as? [[String: String]]) ?? [], document["version"] as? String ?? "")
    }

    /// Rewrites the stand-in model: a new artifact digest, which makes a new launch template version.
    func newModel(_ deployed: Deployed, _ text: String) throws {
        try "GGUF: \(text)\n".write(to: deployed.fixture.directory.appendingPathComponent("artifacts/model.gguf"), atomically: true, encoding: .utf8)
    }

    /// One test, in order: the steps share one deployment, and the last destroys it.
    @Test("the fleet applied, drift repaired, a new model rolled out, a killed refresh resumed, a failed one rolled back, destroyed")
    func life() async throws {
        let deployed = try Self.deployed.get()
        try applied(deployed)
        for type in WholeReadTests.fleetTypes.sorted() {
            let missing = try await WholeReadTests.unread(type, statePath: deployed.fixture.statePath, region: deployed.fixture.region)
            #expect(missing.isEmpty, "refresh reads \(type) whole: \(missing)")
        }
        for drift in Self.drifts { try repaired(drift, deployed) }
        try warmPool(deployed)
        try rolledOut(deployed)
        try resumed(deployed)
        try rolledBack(deployed)
        try protectedFromApply(deployed)
        try destroyed(deployed)
    }

    /// Apply admits the nodes through the load balancer's health check, re-plans clean, and outputs the fleet's address.
    func applied(_ deployed: Deployed) throws {
        #expect(try OutsideActor.census(stack: deployed.fixture.name, region: deployed.fixture.region) == deployed.fixture.expectedCensus())
        let replan = try deploy(["plan", "--detailed-exitcode"], deployed)
        #expect(replan.status == 0, "a fresh apply re-plans clean:\n\(replan.stdout)\(replan.stderr)")
        let outputs = try deploy(["output", "--output", "json"], deployed).json()
        let endpoint = try #require(outputs["inference.endpoint"] as? String)
        #expect(endpoint.hasPrefix("\(deployed.fixture.name)-nlb") && endpoint.hasSuffix(".elb.amazonaws.com:443"), "\(endpoint)")
        #expect(outputs["inference.fleet_name"] as? String == "\(deployed.fixture.name)-nodes")
        #expect((outputs["inference.node_ids"] as? [Any])?.isEmpty == true, "a fleet has no single nodes")
        let (nodes, _) = try fleet(deployed)
        #expect(nodes.count == 2 && nodes.allSatisfy { $0["state"] == "InService" }, "\(nodes)")
        let healthy = try OutsideActor.run("""
            arn = elbv2.describe_target_groups(Names=['\(deployed.fixture.name)-targets'])['TargetGroups'][0]['TargetGroupArn']
            print(sum(1 for t in elbv2.describe_target_health(TargetGroupArn=arn)['TargetHealthDescriptions'] if t['TargetHealth']['State'] == 'healthy'))
            """, region: deployed.fixture.region)
        #expect(healthy.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        let check = try deploy(["check", "--live"], deployed)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    static let drifts: [DriftRepairTests.Drift] = [
        .init(name: "deletion protection lifted from the load balancer", finding: "elb-deletion-protection inference.balancer[0]",
              update: ("inference.balancer[0]", "deletion_protection"), snippet: """
            arn = elbv2.describe_load_balancers(Names=[stack + '-nlb'])['LoadBalancers'][0]['LoadBalancerArn']
            elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{'Key': 'deletion_protection.enabled', 'Value': 'false'}])
            """),
        .init(name: "the listener's TLS policy weakened", finding: "elb-tls-listener inference.listener[0]",
              update: ("inference.listener[0]", "ssl_policy"), snippet: """
            arn = elbv2.describe_load_balancers(Names=[stack + '-nlb'])['LoadBalancers'][0]['LoadBalancerArn']
            listener = elbv2.describe_listeners(LoadBalancerArn=arn)['Listeners'][0]['ListenerArn']
            elbv2.modify_listener(ListenerArn=listener, SslPolicy='ELBSecurityPolicy-2016-08')
            """),
        .init(name: "the group allowed to grow to 40 nodes", finding: nil, update: ("inference.fleet[0]", "max_size"),
              snippet: "autoscaling.update_auto_scaling_group(AutoScalingGroupName=stack + '-nodes', MaxSize=40)"),
        .init(name: "streams cut at once on scale-in", finding: nil, update: ("inference.nodes[0]", "deregistration_delay"), snippet: """
            arn = elbv2.describe_target_groups(Names=[stack + '-targets'])['TargetGroups'][0]['TargetGroupArn']
            elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[{'Key': 'deregistration_delay.timeout_seconds', 'Value': '0'}])
            """),
        .init(name: "the scaling target raised", finding: nil, update: ("inference.scaling[0]", "target_value"), snippet: """
            policy = autoscaling.describe_policies(AutoScalingGroupName=stack + '-nodes')['ScalingPolicies'][0]
            configuration = policy['TargetTrackingConfiguration']
            configuration['TargetValue'] = 99.0
            autoscaling.put_scaling_policy(AutoScalingGroupName=stack + '-nodes', PolicyName=policy['PolicyName'],
                                           PolicyType='TargetTrackingScaling', TargetTrackingConfiguration=configuration)
            """),
        .init(name: "a machine of someone else's registered to receive the fleet's prompts", finding: nil,
              update: ("inference.nodes[0]", "foreign_targets"), snippet: """
            group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[stack + '-nodes'])['AutoScalingGroups'][0]
            subnet = group['VPCZoneIdentifier'].split(',')[0]
            rogue = ec2.run_instances(ImageId='ami-0b2c5a3e1c9d4f670', MinCount=1, MaxCount=1, SubnetId=subnet)['Instances'][0]['InstanceId']
            arn = elbv2.describe_target_groups(Names=[stack + '-targets'])['TargetGroups'][0]['TargetGroupArn']
            elbv2.register_targets(TargetGroupArn=arn, Targets=[{'Id': rogue, 'Port': 8080}])
            """),
        .init(name: "another certificate imported over the listener's", finding: nil,
              update: ("inference.listener_certificate[0]", "certificate_sha256"), snippet: """
            import subprocess, tempfile
            with tempfile.TemporaryDirectory() as scratch:
                subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
                                '-subj', '/CN=evil.example', '-keyout', scratch + '/k.pem', '-out', scratch + '/c.pem'], check=True, capture_output=True)
                certificate = acm.list_certificates()['CertificateSummaryList']
                arn = next(c['CertificateArn'] for c in certificate
                           if {t['Key']: t.get('Value') for t in acm.list_tags_for_certificate(CertificateArn=c['CertificateArn']).get('Tags', [])}
                              .get('deploy:stack') == stack)
                acm.import_certificate(CertificateArn=arn, Certificate=open(scratch + '/c.pem', 'rb').read(),
                                       PrivateKey=open(scratch + '/k.pem', 'rb').read())
            """),
        .init(name: "IMDSv1 allowed in a new default launch template version", finding: "ec2-imdsv2 inference.node_template[0]",
              update: ("inference.node_template[0]", "metadata_http_tokens"), snippet: """
            template = ec2.describe_launch_templates(LaunchTemplateNames=[stack + '-node'])['LaunchTemplates'][0]
            version = ec2.create_launch_template_version(LaunchTemplateId=template['LaunchTemplateId'], SourceVersion='$Default',
                LaunchTemplateData={'MetadataOptions': {'HttpTokens': 'optional'}})['LaunchTemplateVersion']['VersionNumber']
            ec2.modify_launch_template(LaunchTemplateId=template['LaunchTemplateId'], DefaultVersion=str(version))
            """),
    ]

    /// A change made outside deploy is found, shown by plan, and repaired by apply.
    func repaired(_ drift: DriftRepairTests.Drift, _ deployed: Deployed) throws {
        try OutsideActor.run("stack = '\(deployed.fixture.name)'\n" + drift.snippet, region: deployed.fixture.region)
        if let finding = drift.finding {
            let check = try deploy(["check", "--live", "--format", "json"], deployed)
            let reports = (try? JSONSerialization.jsonObject(with: Data(check.stdout.utf8))) as? [[String: Any]] ?? []
            let failed = LiveCheckTests.failed((reports.first?["findings"] as? [[String: Any]]) ?? [])
            #expect(failed.contains(finding), "\(drift.name): \(check.stdout)")
        }
        let plan = try deploy(["plan", "--output", "json", "--detailed-exitcode"], deployed)
        #expect(plan.status == 2, "\(drift.name): \(plan.stderr)")
        let phases = ((try? plan.json())?["phases"] as? [[String: Any]]) ?? []
        let planned = phases.flatMap { ($0["actions"] as? [[String: Any]]) ?? [] }.first { $0["address"] as? String == drift.update.address }
        #expect(planned?["action"] as? String == "update", "\(drift.name)")
        let attributes = ((planned?["changes"] as? [[String: Any]]) ?? []).compactMap { $0["attribute"] as? String }
        #expect(attributes.contains(drift.update.attribute), "\(drift.name): \(attributes)")
        let apply = try deploy(["apply", "--auto-approve"], deployed)
        #expect(apply.status == 0, "\(apply.stderr)\n\(apply.stdout)")
        let again = try deploy(["plan", "--detailed-exitcode"], deployed)
        #expect(again.status == 0, "\(drift.name): after the repair the account equals the stack: \(again.stdout)\(again.stderr)")
    }

    /// A warm pool of stopped nodes is added to the fleet in place, and taken away again.
    func warmPool(_ deployed: Deployed) throws {
        let stack = URL(fileURLWithPath: deployed.fixture.stackPath)
        let original = try String(contentsOf: stack, encoding: .utf8)
        defer { try? original.write(to: stack, atomically: true, encoding: .utf8) }
        try original.replacingOccurrences(of: "min_healthy_percentage: 50,", with: "min_healthy_percentage: 50, warm_pool: \"Stopped\", warm_pool_min_size: 1,")
            .write(to: stack, atomically: true, encoding: .utf8)
        let added = try deploy(["apply", "--auto-approve"], deployed)
        #expect(added.status == 0 && added.stdout.contains("inference.fleet[0]: update complete"), "\(added.stdout)\(added.stderr)")
        let pool = try OutsideActor.run("""
            print(json.dumps(autoscaling.describe_warm_pool(AutoScalingGroupName='\(deployed.fixture.name)-nodes').get('WarmPoolConfiguration', {})))
            """, region: deployed.fixture.region)
        #expect(pool.contains("\"PoolState\": \"Stopped\"") && pool.contains("\"MinSize\": 1"), "\(pool)")
        #expect(try deploy(["plan", "--detailed-exitcode"], deployed).status == 0)
        try original.write(to: stack, atomically: true, encoding: .utf8)
        let removed = try deploy(["apply", "--auto-approve"], deployed)
        #expect(removed.status == 0, "\(removed.stdout)\(removed.stderr)")
        #expect(try deploy(["plan", "--detailed-exitcode"], deployed).status == 0, "the warm pool is gone, as the stack says")
    }

    /// A new model makes a launch template version that the group rolls out as an instance refresh, every node replaced.
    func rolledOut(_ deployed: Deployed) throws {
        let (before, oldVersion) = try fleet(deployed)
        try newModel(deployed, "the second model")
        let plan = try deploy(["plan"], deployed)
        #expect(plan.stdout.contains("inference.fleet[0]") && plan.stdout.contains("launch_template_version"), "\(plan.stdout)")
        let apply = try deploy(["apply", "--auto-approve"], deployed)
        #expect(apply.status == 0, "\(apply.stderr)\n\(apply.stdout)")
        #expect(apply.stdout.contains("inference.fleet[0]: instance refresh") && apply.stdout.contains("started"), "\(apply.stdout)")
        #expect(apply.stdout.contains("inference.fleet[0]: update complete"))
        let (after, version) = try fleet(deployed)
        #expect(version != oldVersion && Int(version) != nil, "the group is on the new version \(version)")
        #expect(after.count == before.count && after.allSatisfy { $0["version"] == version && $0["state"] == "InService" }, "\(after)")
        #expect(Set(after.compactMap { $0["id"] }).isDisjoint(with: before.compactMap { $0["id"] }), "every node was replaced")
        #expect(try deploy(["plan", "--detailed-exitcode"], deployed).status == 0)
    }

    /// An apply killed during the refresh leaves it running; the next apply waits on that refresh and completes.
    func resumed(_ deployed: Deployed) throws {
        try newModel(deployed, "the third model")
        let killed = try DeployProcess.runKilling(["apply", "--auto-approve", "--stack", deployed.fixture.stackPath,
                                                   "--state", deployed.fixture.statePath], environment: deployed.environment) { _, line in
            line.contains("instance refresh") && line.contains("started")
        }
        #expect(killed.killed, "\(killed.output)")
        let apply = try deploy(["apply", "--auto-approve"], deployed)
        #expect(apply.status == 0, "\(apply.stderr)\n\(apply.stdout)")
        #expect(apply.stdout.contains("already running; waiting on it"), "the refresh the killed run started is the one waited on: \(apply.stdout)")
        let (nodes, version) = try fleet(deployed)
        #expect(nodes.allSatisfy { $0["version"] == version }, "\(nodes)")
        #expect(try deploy(["plan", "--detailed-exitcode"], deployed).status == 0)
    }

    /// A refresh whose new nodes fail their health checks is rolled back, and apply fails saying so.
    func rolledBack(_ deployed: Deployed) throws {
        let template = deployed.fixture.directory.appendingPathComponent("Templates/inference.json5")
        let original = try String(contentsOf: template, encoding: .utf8)
        defer { try? original.write(to: template, atomically: true, encoding: .utf8) }
        // the local endpoint's test hook: nodes whose user data holds this marker never pass their health checks
        try original.replacingOccurrences(of: "${storage.outputs.node_boot}',", with: "# DEPLOY_LOCAL_REFRESH_FAIL\\n${storage.outputs.node_boot}',")
            .write(to: template, atomically: true, encoding: .utf8)
        let (_, good) = try fleet(deployed)
        let apply = try deploy(["apply", "--auto-approve"], deployed)
        #expect(apply.status == 1, "\(apply.stdout)")
        #expect(apply.stderr.contains("RollbackSuccessful") && apply.stderr.contains("rolled back"), "\(apply.stderr)")
        let (nodes, version) = try fleet(deployed)
        #expect(version == good && nodes.allSatisfy { $0["version"] == good }, "the group is back on version \(good): \(nodes)")
        try original.write(to: template, atomically: true, encoding: .utf8)
        let repaired = try deploy(["apply", "--auto-approve"], deployed)
        #expect(repaired.status == 0, "\(repaired.stderr)\n\(repaired.stdout)")
    }

    /// An apply that would replace the deletion-protected load balancer is refused before anything is touched.
    func protectedFromApply(_ deployed: Deployed) throws {
        let template = deployed.fixture.directory.appendingPathComponent("Templates/inference.json5")
        let original = try String(contentsOf: template, encoding: .utf8)
        defer { try? original.write(to: template, atomically: true, encoding: .utf8) }
        try original.replacingOccurrences(of: "name: \"${stack.name}-nlb\",", with: "name: \"${stack.name}-lb\",")
            .write(to: template, atomically: true, encoding: .utf8)
        let before = try OutsideActor.census(stack: deployed.fixture.name, region: deployed.fixture.region)
        let apply = try deploy(["apply", "--auto-approve"], deployed)
        #expect(apply.status == 2, "\(apply.stdout)\(apply.stderr)")
        #expect(apply.stderr.contains("apply would stop partway, so nothing was deleted")
                && apply.stderr.contains("inference.balancer[0]: deletion protection is on"), "\(apply.stderr)")
        #expect(try OutsideActor.census(stack: deployed.fixture.name, region: deployed.fixture.region) == before)
        try original.write(to: template, atomically: true, encoding: .utf8)
        #expect(try deploy(["plan", "--detailed-exitcode"], deployed).status == 0)
    }

    /// Destroy refuses the protected load balancer without --force, and with it leaves nothing.
    func destroyed(_ deployed: Deployed) throws {
        let refused = try deploy(["destroy", "--auto-approve", "--keep-protected"], deployed)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("inference.balancer[0]: deletion protection is on"), "\(refused.stderr)")
        let destroy = try deploy(["destroy", "--auto-approve", "--force", "--empty-buckets"], deployed)
        #expect(destroy.status == 0, "\(destroy.stderr)\n\(destroy.stdout)")
        let after = try OutsideActor.census(stack: deployed.fixture.name, region: deployed.fixture.region)
        #expect(after.isEmpty, "left behind: \(after)")
    }
}
