import Foundation
import Testing

/// `deploy check --live` against the local endpoint: the default stack, applied, passes every rule; each change made
/// outside deploy (as in a console at 3am) is then reported by its rule, with exit 1.
@Suite("deploy check against the account", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct LiveCheckTests {
    /// A change made outside deploy and the rule that must report it, on which resource.
    struct Break: Sendable, CustomTestStringConvertible {
        var rule: String
        var address: String
        var snippet: @Sendable (_ stack: String) -> String

        var testDescription: String { rule }
    }

    static let breaks: [Break] = [
        Break(rule: "kms-key-rotation", address: "keys.data_key") { stack in """
            key = next(a['TargetKeyId'] for a in kms.list_aliases()['Aliases'] if a['AliasName'] == 'alias/\(stack)')
            kms.disable_key_rotation(KeyId=key)
            """ },
        Break(rule: "sg-no-admin-ports-from-anywhere", address: "network.inference_security_group") { stack in """
            group = next(g for g in ec2.describe_security_groups(Filters=[{'Name': 'tag:deploy:stack', 'Values': ['\(stack)']}])['SecurityGroups']
                         if g['GroupName'] == '\(stack)-inference')
            ec2.authorize_security_group_ingress(GroupId=group['GroupId'], IpPermissions=[
                {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
            """ },
        Break(rule: "ec2-imdsv2", address: "inference.node[0]") { stack in """
            for reservation in ec2.describe_instances(Filters=[{'Name': 'tag:deploy:stack', 'Values': ['\(stack)']}])['Reservations']:
                for instance in reservation['Instances']:
                    ec2.modify_instance_metadata_options(InstanceId=instance['InstanceId'], HttpTokens='optional')
            """ },
        Break(rule: "cloudtrail-logging", address: "storage.trail") { stack in """
            cloudtrail.stop_logging(Name='\(stack)-trail')
            """ },
        Break(rule: "s3-bucket-public-access-block", address: "storage.artifacts_bucket") { stack in """
            s3.delete_public_access_block(Bucket='\(stack)-123456789012-artifacts')
            """ },
    ]

    static func check(_ fixture: StackFixture, _ environment: [String: String]) throws -> (DeployProcess.Result, [[String: Any]]) {
        let result = try DeployProcess.run(["check", "--live", "--format", "json", "--stack", fixture.stackPath, "--state", fixture.statePath],
                                           environment: environment)
        let reports = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [[String: Any]] ?? []
        return (result, (reports.first?["findings"] as? [[String: Any]]) ?? [])
    }

    @Test("the applied default stack passes every rule live; each out-of-band break is reported by its rule", arguments: breaks)
    func breakIsReported(_ change: Break) throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "lc")
        defer { fixture.remove() }
        let environment = endpoint.adminEnvironment
        let target = ["--stack", fixture.stackPath, "--state", fixture.statePath]
        let apply = try DeployProcess.run(["apply", "--auto-approve"] + target, environment: environment)
        #expect(apply.status == 0, "\(apply.stderr)")
        defer { _ = try? DeployProcess.run(["destroy", "--auto-approve", "--force"] + target, environment: environment) }

        let (clean, findings) = try Self.check(fixture, environment)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(findings.count >= 50 && findings.allSatisfy { $0["status"] as? String == "pass" })
        let observed = findings.first { $0["rule"] as? String == change.rule && $0["address"] as? String == change.address }
        #expect((observed?["observed"] as? [String])?.isEmpty == false, "the rule read the account, not only the state: \(String(describing: observed))")

        try OutsideActor.run(change.snippet(fixture.name), region: fixture.region)
        let (broken, after) = try Self.check(fixture, environment)
        #expect(broken.status == 1, "\(broken.stderr)")
        let failed = after.filter { $0["status"] as? String == "fail" }.map { "\($0["rule"] ?? "") \($0["address"] ?? "")" }
        #expect(failed == ["\(change.rule) \(change.address)"], "only the break is reported")
    }
}
