import Foundation
import Plan
import Testing

/// The default stack's whole life against the local endpoint with IAM enforced, run by an identity that holds
/// exactly the policy `deploy permissions` printed: apply, plan again (clean), drift repaired, destroy to nothing.
@Suite("apply and destroy against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct LifecycleTests {
    /// moto authorises a few S3 bucket subresource calls under other action names than AWS does (its table maps
    /// `?publicAccessBlock`, `?encryption` and `?ownershipControls` to the bucket's default action). The printed policy
    /// names AWS's actions; for each of these present in it, the test user also gets moto's name, and nothing else.
    static let localEndpointActionNames = [
        "s3:GetBucketPublicAccessBlock": "s3:ListBucket", "s3:GetEncryptionConfiguration": "s3:ListBucket",
        "s3:PutBucketPublicAccessBlock": "s3:CreateBucket", "s3:PutEncryptionConfiguration": "s3:CreateBucket",
        "s3:PutBucketOwnershipControls": "s3:CreateBucket", "s3:DeleteBucketPublicAccessBlock": "s3:DeleteBucket",
        // and the replication configuration to the bucket's default actions (its delete under s3:DeleteBucket, which
        // the printed policy holds for the bucket's own delete)
        "s3:GetReplicationConfiguration": "s3:ListBucket", "s3:PutReplicationConfiguration": "s3:CreateBucket",
        // and the Object Lock configuration
        "s3:GetBucketObjectLockConfiguration": "s3:ListBucket", "s3:PutBucketObjectLockConfiguration": "s3:CreateBucket",
    ]

    /// Credentials of a new IAM user whose only permissions are `policy`, attached as a managed policy.
    static func deployer(policy: String, name: String, endpoint: LocalEndpoint) throws -> [String: String] {
        let aliases = localEndpointActionNames.filter { policy.contains("\"\($0.key)\"") }.map(\.value)
        let keys = try OutsideActor.run("""
            policy = json.loads(\(pythonLiteral(policy)))
            aliases = sorted(set(json.loads(\(pythonLiteral(String(decoding: try JSONEncoder().encode(aliases), as: UTF8.self))))))
            if aliases:
                policy["Statement"].append({"Sid": "LocalEndpointActionNames", "Effect": "Allow", "Action": aliases, "Resource": "*"})
            arn = iam.create_policy(PolicyName=\(pythonLiteral(name)), PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
            iam.create_user(UserName=\(pythonLiteral(name)))
            iam.attach_user_policy(UserName=\(pythonLiteral(name)), PolicyArn=arn)
            key = iam.create_access_key(UserName=\(pythonLiteral(name)))["AccessKey"]
            print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
            """, region: endpoint.region)
        let parsed = try JSONDecoder().decode([String: String].self, from: Data(keys.utf8))
        var environment = endpoint.keyEnvironment
        environment["AWS_ACCESS_KEY_ID"] = parsed["id"]
        environment["AWS_SECRET_ACCESS_KEY"] = parsed["secret"]
        return environment
    }

    static func pythonLiteral(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            .replacingOccurrences(of: "\n", with: "\\n") + "'"
    }

    /// The policy `deploy permissions` prints; `--resources any` because the local endpoint evaluates resource ARNs
    /// only for S3, and would deny IAM and DynamoDB calls scoped to named ARNs that real AWS allows.
    static func permissions(_ fixture: StackFixture, _ endpoint: LocalEndpoint) throws -> DeployProcess.Result {
        try DeployProcess.run(["permissions", "--stack", fixture.stackPath, "--resources", "any"], environment: endpoint.keyEnvironment)
    }

    /// Applies `fixture` as a new user holding exactly the policy `deploy permissions` prints for it; that user's environment.
    static func appliedUnderPrintedPolicy(_ fixture: StackFixture, _ endpoint: LocalEndpoint) throws -> [String: String] {
        let permissions = try permissions(fixture, endpoint)
        guard permissions.status == 0 else { throw OutsideActor.Failure(description: "permissions: \(permissions.stderr)") }
        let environment = try deployer(policy: permissions.stdout, name: fixture.name, endpoint: endpoint)
        let apply = try DeployProcess.run(["apply", "--auto-approve", "--stack", fixture.stackPath, "--state", fixture.statePath],
                                          environment: environment)
        guard apply.status == 0 else { throw OutsideActor.Failure(description: "apply: \(apply.stderr)\n\(apply.stdout)") }
        return environment
    }

    func deploy(_ arguments: [String], _ fixture: StackFixture, _ environment: [String: String]) throws -> DeployProcess.Result {
        try DeployProcess.run(arguments + ["--stack", fixture.stackPath, "--state", fixture.statePath], environment: environment)
    }

    @Test("apply, clean re-plan, outputs, protected destroy refused, forced destroy leaves nothing; under the printed policy")
    func lifecycle() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "lc")
        defer { fixture.remove() }
        let permissions = try Self.permissions(fixture, endpoint)
        #expect(permissions.status == 0, "\(permissions.stderr)")
        let environment = try Self.deployer(policy: permissions.stdout, name: "\(fixture.name)-deployer", endpoint: endpoint)

        let unconfirmed = try deploy(["apply"], fixture, environment)
        #expect(unconfirmed.status == 2 && unconfirmed.stderr.contains("not on a terminal"), "\(unconfirmed.stderr)")
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region).values.allSatisfy { $0 == 0 })

        let apply = try deploy(["apply", "--auto-approve"], fixture, environment)
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(apply.stdout.contains("apply complete: 49 added."))
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region) == fixture.expectedCensus())

        let replan = try deploy(["plan", "--detailed-exitcode"], fixture, environment)
        #expect(replan.status == 0, "a fresh apply re-plans clean:\n\(replan.stdout)\(replan.stderr)")

        let output = try deploy(["output", "--output", "json"], fixture, environment)
        let outputs = try output.json()
        #expect((outputs["network.vpc_id"] as? String)?.hasPrefix("vpc-") == true)
        #expect(outputs["storage.audit_bucket"] as? String == "\(fixture.name)-123456789012-audit")
        #expect((outputs["inference.node_ids"] as? [String])?.count == 1)

        let refused = try deploy(["destroy", "--auto-approve"], fixture, environment)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("protected resources: keys.data_key, storage.access_logs_bucket, storage.audit_bucket"))

        // an object deploy did not upload: the stack's own objects go with it, someone else's keep the bucket
        try OutsideActor.run("""
            s3.put_object(Bucket='\(fixture.name)-123456789012-artifacts', Key='uploads/customer-data.bin', Body=b'data')
            """, region: fixture.region)
        // what a destroy would refuse is found before the first delete: nothing is touched
        let before = try OutsideActor.census(stack: fixture.name, region: fixture.region)
        let kept = try deploy(["destroy", "--auto-approve", "--keep-protected"], fixture, environment)
        #expect(kept.status == 2, "\(kept.stderr)")
        #expect(kept.stderr.contains("nothing was deleted"))
        #expect(kept.stderr.contains("storage.audit_table: table \(fixture.name)-audit has deletion protection"), "\(kept.stderr)")
        #expect(kept.stderr.contains("storage.artifacts_bucket: bucket \(fixture.name)-123456789012-artifacts is not empty"))
        #expect(!kept.stderr.contains("tainted"))
        let notEmpty = try deploy(["destroy", "--auto-approve", "--force"], fixture, environment)
        #expect(notEmpty.status == 2)
        #expect(notEmpty.stderr.contains("is not empty; destroy it with --empty-buckets"))
        #expect(!notEmpty.stderr.contains("has deletion protection"), "--force lifts the protection")
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region) == before, "the refusals deleted nothing")
        // IAM deletes no role that holds a policy: one put on the node role outside deploy goes with the role
        try OutsideActor.run("""
            iam.put_role_policy(RoleName='\(fixture.name)-node', PolicyName='stray', PolicyDocument=json.dumps(
                {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 's3:GetObject', 'Resource': '*'}]}))
            """, region: fixture.region)
        let destroy = try deploy(["destroy", "--auto-approve", "--force", "--empty-buckets"], fixture, environment)
        #expect(destroy.status == 0, "\(destroy.stderr)")
        #expect(destroy.stdout.contains("destroy complete: 49 destroyed."))
        let after = try OutsideActor.census(stack: fixture.name, region: fixture.region)
        #expect(after.values.allSatisfy { $0 == 0 }, "left behind: \(after.filter { $0.value > 0 })")
    }

    @Test("changes made outside deploy are shown by plan and reverted by apply")
    func driftRepaired() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "dr")
        defer { fixture.remove() }
        let environment = try Self.deployer(policy: try Self.permissions(fixture, endpoint).stdout,
                                            name: "\(fixture.name)-deployer", endpoint: endpoint)
        #expect(try deploy(["apply", "--auto-approve"], fixture, environment).status == 0)
        let outputs = try deploy(["output", "--output", "json"], fixture, environment).json()
        let group = try #require(outputs["network.inference_security_group_id"] as? String)
        let key = try #require(outputs["keys.key_id"] as? String)
        let vpc = try #require(outputs["network.vpc_id"] as? String)
        try OutsideActor.run("""
            ec2.authorize_security_group_ingress(GroupId="\(group)", IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            kms.disable_key_rotation(KeyId="\(key)")
            ec2.delete_tags(Resources=["\(vpc)"], Tags=[{"Key": "owner"}])
            """, region: fixture.region)
        let plan = try deploy(["plan", "--output", "json", "--detailed-exitcode"], fixture, environment)
        #expect(plan.status == 2)
        let drift = try #require(try plan.json()["drift"] as? [[String: Any]])
        let drifted = Set(drift.compactMap { $0["address"] as? String })
        #expect(drifted == ["network.inference_security_group", "keys.data_key", "network.vpc"])
        // as a program follows it: JSON Lines, a plan event first, one event per step, a summary last
        let repair = try deploy(["apply", "--auto-approve", "--output", "json"], fixture, environment)
        #expect(repair.status == 0, "\(repair.stderr)")
        let events = try repair.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
        #expect(events.first?["event"] as? String == "plan")
        #expect(events.filter { $0["event"] as? String == "finished" }.count == 3)
        let summary = try #require(events.last)
        #expect(summary["event"] as? String == "summary" && summary["status"] as? String == "complete")
        #expect(Set(summary["updated"] as? [String] ?? []) == drifted)
        let clean = try deploy(["plan", "--detailed-exitcode"], fixture, environment)
        #expect(clean.status == 0, "after repair the plan is clean:\n\(clean.stdout)")
        let rotation = try OutsideActor.run("print(kms.get_key_rotation_status(KeyId=\"\(key)\")[\"KeyRotationEnabled\"])", region: fixture.region)
        #expect(rotation.trimmingCharacters(in: .whitespacesAndNewlines) == "True")
        #expect(try deploy(["destroy", "--auto-approve", "--force", "--empty-buckets"], fixture, environment).status == 0)
    }

    @Test("import adopts a resource made outside deploy, read by its id under the printed policy; plan then changes it in place")
    func importExisting() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "im")
        defer { fixture.remove() }
        let environment = try Self.deployer(policy: try Self.permissions(fixture, endpoint).stdout,
                                            name: "\(fixture.name)-deployer", endpoint: endpoint)
        let vpc = try OutsideActor.run("print(ec2.create_vpc(CidrBlock='10.40.0.0/16')['Vpc']['VpcId'])", region: fixture.region)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? OutsideActor.run("ec2.delete_vpc(VpcId='\(vpc)')", region: fixture.region) }
        let missing = try deploy(["import", "network.vpc", "vpc-0000000000000000f"], fixture, environment)
        #expect(missing.status == 2 && missing.stderr.contains("no aws.ec2.vpc with id 'vpc-0000000000000000f'"), "\(missing.stderr)")
        let imported = try deploy(["import", "network.vpc", vpc], fixture, environment)
        #expect(imported.status == 0, "\(imported.stderr)")
        let show = try deploy(["state", "show", "network.vpc", "--output", "json"], fixture, environment)
        let shown = try show.json()
        #expect(shown["id"] as? String == vpc && (shown["attributes"] as? [String: Any])?["cidr_block"] as? String == "10.40.0.0/16")
        let again = try deploy(["import", "network.vpc", vpc], fixture, environment)
        #expect(again.status == 2 && again.stderr.contains("is already in the state"))
        let plan = try deploy(["plan", "--output", "json"], fixture, environment)
        let phases = try #require(try plan.json()["phases"] as? [[String: Any]])
        let actions = phases.flatMap { $0["actions"] as? [[String: Any]] ?? [] }
        let planned = try #require(actions.first { $0["address"] as? String == "network.vpc" })
        #expect(planned["action"] as? String == "update", "the imported VPC is changed in place (its tags), not created: \(planned)")
        #expect(try deploy(["state", "rm", "network.vpc"], fixture, environment).status == 0)
    }

    @Test("a missing permission fails one resource with its code and request id; the rest goes on; fixed, apply finishes")
    func failedCreate() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "fc")
        defer { fixture.remove() }
        let policy = try Self.permissions(fixture, endpoint).stdout.replacingOccurrences(of: "\"dynamodb:CreateTable\",", with: "")
        #expect(!policy.contains("dynamodb:CreateTable"))
        let limited = try Self.deployer(policy: policy, name: "\(fixture.name)-limited", endpoint: endpoint)
        let apply = try deploy(["apply", "--auto-approve"], fixture, limited)
        #expect(apply.status == 1)
        #expect(apply.stderr.contains("error: storage.audit_table: dynamodb CreateTable failed: AccessDenied"))
        #expect(apply.stderr.contains("request id"))
        #expect(apply.stdout.contains("storage.trail: create complete"), "an independent branch went on")
        #expect(apply.stdout.contains("inference.node[0]: create complete"))
        #expect(apply.stderr.contains("apply incomplete: 48 added, 1 failed."))
        let full = try Self.deployer(policy: try Self.permissions(fixture, endpoint).stdout, name: "\(fixture.name)-full", endpoint: endpoint)
        let again = try deploy(["apply", "--auto-approve"], fixture, full)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("apply complete: 1 added."))
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region) == fixture.expectedCensus())
        #expect(try deploy(["destroy", "--auto-approve", "--force", "--empty-buckets"], fixture, full).status == 0)
    }

    @Test("a resource that failed half-way is tainted and replaced by the next apply")
    func tainted() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "tn")
        defer { fixture.remove() }
        let full = try Self.permissions(fixture, endpoint).stdout
        let limited = try Self.deployer(policy: full.replacingOccurrences(of: "\"cloudtrail:StartLogging\",", with: ""),
                                        name: "\(fixture.name)-limited", endpoint: endpoint)
        let apply = try deploy(["apply", "--auto-approve"], fixture, limited)
        #expect(apply.status == 1)
        #expect(apply.stderr.contains("storage.trail: cloudtrail StartLogging failed: AccessDenied"))
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.statePath))) as? [String: Any]
        let trail = (state?["resources"] as? [[String: Any]])?.first { $0["address"] as? String == "storage.trail" }
        #expect(trail?["status"] as? String == "tainted")
        let environment = try Self.deployer(policy: full, name: "\(fixture.name)-full", endpoint: endpoint)
        let plan = try deploy(["plan"], fixture, environment)
        #expect(plan.stdout.contains("-/+ storage.trail (aws.cloudtrail.trail): tainted by a failed apply"))
        let again = try deploy(["apply", "--auto-approve"], fixture, environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("apply complete: 1 replaced."))
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region) == fixture.expectedCensus())
        #expect(try deploy(["destroy", "--auto-approve", "--force", "--empty-buckets"], fixture, environment).status == 0)
    }

    @Test("a stack for another account is refused before anything is written")
    func wrongAccount() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "wa", account: "999999999999")
        defer { fixture.remove() }
        for command in [["apply", "--auto-approve"], ["destroy", "--auto-approve"]] {
            let result = try deploy(command, fixture, endpoint.keyEnvironment)
            #expect(result.status == 2)
            #expect(result.stderr.contains("the credentials belong to account 123456789012"))
            #expect(result.stderr.contains("the stack is for account 999999999999; nothing was changed"))
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.statePath))
        #expect(!FileManager.default.fileExists(atPath: StateLock.lockPath(forState: fixture.statePath)))
        #expect(try OutsideActor.census(stack: fixture.name, region: fixture.region).values.allSatisfy { $0 == 0 })
    }
}

