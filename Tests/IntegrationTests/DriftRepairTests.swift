import Foundation
import Testing

/// Drift that a stack leaves implicit, repaired for real: the default stack applied once, under exactly the policy
/// `deploy permissions` prints; then, one change made outside deploy at a time, the live check fails with the
/// change's rule, the plan shows the change, apply makes it, and afterwards `plan --detailed-exitcode` exits 0 (a
/// fresh read of the account equals the stack) and the live check passes again.
@Suite("drift repaired against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct DriftRepairTests {
    /// A change made outside deploy; the finding it must raise (rule and address), if it weakens the posture; the
    /// planned update it must show (address and attribute).
    struct Drift: Sendable, CustomTestStringConvertible {
        var name: String
        var finding: String?
        var update: (address: String, attribute: String)
        var snippet: String

        var testDescription: String { name }
    }

    static let drifts: [Drift] = [
        Drift(name: "a managed policy attached to the node role", finding: "iam-role-no-administrator-policy keys.node_role",
              update: ("keys.node_role", "managed_policy_arns"),
              snippet: "iam.attach_role_policy(RoleName=stack + '-node', PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')"),
        Drift(name: "a new inline policy on the node role", finding: "iam-role-effective-permissions keys.node_role",
              update: ("keys.node_role", "inline_policy_names"), snippet: """
            iam.put_role_policy(RoleName=stack + '-node', PolicyName='backdoor', PolicyDocument=json.dumps(
                {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
            """),
        Drift(name: "a foreign security group on the node", finding: "ec2-only-stack-security-groups inference.node[0]",
              update: ("inference.node[0]", "security_group_ids"), snippet: """
            foreign = ec2.create_security_group(GroupName=stack + '-foreign-node', Description='not the stack', VpcId=vpc)['GroupId']
            instance = node()
            ec2.modify_instance_attribute(InstanceId=instance['InstanceId'],
                                          Groups=[g['GroupId'] for g in instance['SecurityGroups']] + [foreign])
            """),
        Drift(name: "a foreign security group on an interface endpoint",
              finding: "ec2-only-stack-security-groups network.interface_endpoint[0]",
              update: ("network.interface_endpoint[0]", "security_group_ids"), snippet: """
            foreign = ec2.create_security_group(GroupName=stack + '-foreign-endpoint', Description='not the stack', VpcId=vpc)['GroupId']
            ec2.modify_vpc_endpoint(VpcEndpointId=endpoint('kms'), AddSecurityGroupIds=[foreign])
            """),
        Drift(name: "a one-day lifecycle rule on the audit bucket", finding: "s3-audit-bucket-retention storage.audit_bucket",
              update: ("storage.audit_bucket", "lifecycle_expiration_days"), snippet: """
            s3.put_bucket_lifecycle_configuration(Bucket=bucket('audit'), LifecycleConfiguration={'Rules': [
                {'ID': 'expire', 'Filter': {'Prefix': ''}, 'Status': 'Enabled', 'Expiration': {'Days': 2557},
                 'NoncurrentVersionExpiration': {'NoncurrentDays': 2557}},
                {'ID': 'quietly', 'Filter': {'Prefix': 'AWSLogs/'}, 'Status': 'Enabled', 'Expiration': {'Days': 1}}]})
            """),
        Drift(name: "the audit bucket's encryption deleted", finding: "s3-bucket-kms-encryption storage.audit_bucket",
              update: ("storage.audit_bucket", "sse_algorithm"), snippet: "s3.delete_bucket_encryption(Bucket=bucket('audit'))"),
        Drift(name: "a public ACL grant on the access-log bucket", finding: "s3-bucket-no-public-acl storage.access_logs_bucket",
              update: ("storage.access_logs_bucket", "public_acl_grants"),
              snippet: "s3.put_bucket_acl(Bucket=bucket('access-logs'), ACL='public-read')"),
        Drift(name: "a public statement in the artifacts bucket's policy", finding: "s3-bucket-policy-not-public storage.artifacts_bucket",
              update: ("storage.artifacts_bucket", "policy"), snippet: """
            policy = s3.get_bucket_policy(Bucket=bucket('artifacts'))['Policy']
            s3.put_bucket_policy(Bucket=bucket('artifacts'), Policy=add_statement(policy,
                {'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::' + bucket('artifacts') + '/*'}))
            """),
        Drift(name: "versioning suspended", finding: "s3-bucket-versioning storage.artifacts_bucket",
              update: ("storage.artifacts_bucket", "versioning"),
              snippet: "s3.put_bucket_versioning(Bucket=bucket('artifacts'), VersioningConfiguration={'Status': 'Suspended'})"),
        Drift(name: "SSH opened to the internet", finding: "sg-no-admin-ports-from-anywhere network.inference_security_group",
              update: ("network.inference_security_group", "ingress"), snippet: """
            ec2.authorize_security_group_ingress(GroupId=group(stack + '-inference'), IpPermissions=[
                {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
            """),
        Drift(name: "IMDSv1 allowed", finding: "ec2-imdsv2 inference.node[0]", update: ("inference.node[0]", "metadata_http_tokens"),
              snippet: "ec2.modify_instance_metadata_options(InstanceId=node()['InstanceId'], HttpTokens='optional')"),
        Drift(name: "key rotation off", finding: "kms-key-rotation keys.data_key", update: ("keys.data_key", "enable_key_rotation"),
              snippet: "kms.disable_key_rotation(KeyId=key())"),
        Drift(name: "SSH opened to the IPv6 internet", finding: "sg-no-admin-ports-from-anywhere network.inference_security_group",
              update: ("network.inference_security_group", "ingress"), snippet: """
            ec2.authorize_security_group_ingress(GroupId=group(stack + '-inference'), IpPermissions=[
                {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'Ipv6Ranges': [{'CidrIpv6': '::/0'}]}])
            """),
        Drift(name: "the inference port opened to the IPv6 internet", finding: "sg-inference-port-allowed-cidrs network.inference_security_group",
              update: ("network.inference_security_group", "ingress"), snippet: """
            ec2.authorize_security_group_ingress(GroupId=group(stack + '-inference'), IpPermissions=[
                {'IpProtocol': 'tcp', 'FromPort': 8080, 'ToPort': 8080, 'Ipv6Ranges': [{'CidrIpv6': '::/0'}]}])
            """),
        Drift(name: "the audit logs expired on a date", finding: "s3-audit-bucket-retention storage.audit_bucket",
              update: ("storage.audit_bucket", "lifecycle_other_rules"), snippet: """
            import datetime
            rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket('audit'))['Rules']
            soon = (datetime.datetime.utcnow() + datetime.timedelta(days=26)).strftime('%Y-%m-%dT00:00:00Z')
            s3.put_bucket_lifecycle_configuration(Bucket=bucket('audit'), LifecycleConfiguration={'Rules': rules + [
                {'ID': 'wipe', 'Filter': {'Prefix': 'AWSLogs/'}, 'Status': 'Enabled', 'Expiration': {'Date': soon}}]})
            """),
        Drift(name: "the audit logs moved to deep archive", finding: nil, update: ("storage.audit_bucket", "lifecycle_other_rules"), snippet: """
            rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket('audit'))['Rules']
            s3.put_bucket_lifecycle_configuration(Bucket=bucket('audit'), LifecycleConfiguration={'Rules': rules + [
                {'ID': 'cold', 'Filter': {'Prefix': ''}, 'Status': 'Enabled', 'Transitions': [{'Days': 1, 'StorageClass': 'DEEP_ARCHIVE'}]}]})
            """),
        Drift(name: "everything but one action, inline on the flow-log role", finding: "iam-role-effective-permissions network.flow_log_role",
              update: ("network.flow_log_role", "inline_policy_names"), snippet: """
            iam.put_role_policy(RoleName=stack + '-flow-logs', PolicyName='almost', PolicyDocument=json.dumps(
                {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'NotAction': 'iam:DeleteRole', 'Resource': '*'}]}))
            """),
        Drift(name: "the trail's key taken away", finding: "cloudtrail-kms-encryption storage.trail", update: ("storage.trail", "kms_key_id"),
              snippet: "cloudtrail.update_trail(Name=stack + '-trail', KmsKeyId='')"),
        Drift(name: "the model swapped for other bytes under its own digest", finding: nil, update: ("storage.model", "sha256"), snippet: """
            key = next(o['Key'] for o in s3.list_objects_v2(Bucket=bucket('artifacts'))['Contents'] if o['Key'].startswith('models/'))
            old = s3.get_object(Bucket=bucket('artifacts'), Key=key)
            body = old['Body'].read()
            tags = s3.get_object_tagging(Bucket=bucket('artifacts'), Key=key)['TagSet']
            s3.put_object(Bucket=bucket('artifacts'), Key=key, Body=bytes(255 - b for b in body), Metadata=old['Metadata'],
                          ContentType=old['ContentType'], ServerSideEncryption='aws:kms', SSEKMSKeyId=old['SSEKMSKeyId'],
                          Tagging='&'.join(f"{t['Key']}={t['Value']}" for t in tags).replace(':', '%3A'))
            """),
        Drift(name: "the artifacts replicated to another account's bucket", finding: nil,
              update: ("storage.artifacts_bucket", "replication_rules"), snippet: """
            sink = stack + '-sink'
            s3.create_bucket(Bucket=sink, CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})
            s3.put_bucket_versioning(Bucket=sink, VersioningConfiguration={'Status': 'Enabled'})
            s3.put_bucket_replication(Bucket=bucket('artifacts'), ReplicationConfiguration={
                'Role': 'arn:aws:iam::999999999999:role/copier',
                'Rules': [{'ID': 'out', 'Status': 'Enabled', 'Prefix': '', 'Destination': {'Bucket': 'arn:aws:s3:::' + sink}}]})
            """),
        Drift(name: "the audit bucket's events sent to a foreign queue", finding: nil,
              update: ("storage.audit_bucket", "notification_targets"), snippet: """
            s3.put_bucket_notification_configuration(Bucket=bucket('audit'), NotificationConfiguration={'QueueConfigurations': [
                {'QueueArn': 'arn:aws:sqs:eu-west-1:999999999999:exfil', 'Events': ['s3:ObjectCreated:*']}]})
            """),
        Drift(name: "the artifacts readable from any web page", finding: nil, update: ("storage.artifacts_bucket", "cors_rules"),
              snippet: "s3.put_bucket_cors(Bucket=bucket('artifacts'), CORSConfiguration={'CORSRules': [{'AllowedMethods': ['GET'], 'AllowedOrigins': ['*']}]})"),
        Drift(name: "the audit records set to expire", finding: nil, update: ("storage.audit_table", "ttl_attribute"), snippet: """
            dynamodb.update_time_to_live(TableName=stack + '-audit', TimeToLiveSpecification={'Enabled': True, 'AttributeName': 'request_id'})
            """),
        Drift(name: "management events no longer recorded", finding: "cloudtrail-logging storage.trail",
              update: ("storage.trail", "management_events"), snippet: """
            cloudtrail.put_event_selectors(TrailName=stack + '-trail', EventSelectors=[{'ReadWriteType': 'ReadOnly', 'IncludeManagementEvents': False}])
            """),
    ]

    /// The default stack, applied once for every case, by a user holding exactly the printed policy.
    struct Deployed: Sendable {
        var fixture: StackFixture
        var environment: [String: String]
        var account: String
    }

    static let deployed: Result<Deployed, any Error> = Result {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "dr")
        let environment = try LifecycleTests.appliedUnderPrintedPolicy(fixture, endpoint)
        return Deployed(fixture: fixture, environment: environment, account: endpoint.account)
    }

    func deploy(_ arguments: [String], _ deployed: Deployed) throws -> DeployProcess.Result {
        try DeployProcess.run(arguments + ["--stack", deployed.fixture.stackPath, "--state", deployed.fixture.statePath],
                              environment: deployed.environment)
    }

    func failedFindings(_ deployed: Deployed) throws -> (DeployProcess.Result, Set<String>) {
        let check = try deploy(["check", "--live", "--format", "json"], deployed)
        let reports = (try? JSONSerialization.jsonObject(with: Data(check.stdout.utf8))) as? [[String: Any]] ?? []
        let findings = (reports.first?["findings"] as? [[String: Any]]) ?? []
        return (check, LiveCheckTests.failed(findings))
    }

    @Test("the check fails with the drift's rule, the plan shows it, apply repairs it, and nothing is left to change",
          arguments: drifts)
    func repaired(_ drift: Drift) throws {
        let deployed = try Self.deployed.get()
        try OutsideActor.run(LiveCheckTests.prelude(deployed.fixture.name, account: deployed.account) + drift.snippet,
                             region: deployed.fixture.region)

        let (broken, failed) = try failedFindings(deployed)
        if let finding = drift.finding {
            #expect(broken.status == 1, "\(broken.stderr)")
            #expect(failed.contains(finding), "\(failed)")
        } else {
            #expect(broken.status == 0 && failed.isEmpty, "\(failed) \(broken.stderr)")
        }

        let plan = try deploy(["plan", "--output", "json", "--detailed-exitcode"], deployed)
        #expect(plan.status == 2, "\(plan.stderr)")
        let document = (try? plan.json()) ?? [:]
        let phases = (document["phases"] as? [[String: Any]]) ?? []
        let actions = phases.flatMap { ($0["actions"] as? [[String: Any]]) ?? [] }
        let planned = actions.first { $0["address"] as? String == drift.update.address }
        #expect(planned?["action"] as? String == "update", "\(actions.map { "\($0["address"] ?? "") \($0["action"] ?? "")" })")
        let attributes = ((planned?["changes"] as? [[String: Any]]) ?? []).compactMap { $0["attribute"] as? String }
        #expect(attributes.contains(drift.update.attribute), "\(attributes)")

        let apply = try deploy(["apply", "--auto-approve"], deployed)
        #expect(apply.status == 0, "\(apply.stderr)\n\(apply.stdout)")
        #expect(apply.stdout.contains("\(drift.update.address): update complete"), "\(apply.stdout)")

        let again = try deploy(["plan", "--detailed-exitcode"], deployed)
        #expect(again.status == 0, "after the repair the account equals the stack: \(again.stdout)\(again.stderr)")
        let (clean, stillFailed) = try failedFindings(deployed)
        #expect(clean.status == 0 && stillFailed.isEmpty, "\(stillFailed) \(clean.stderr)")
    }
}
