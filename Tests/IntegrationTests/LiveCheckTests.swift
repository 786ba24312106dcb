import Foundation
import Testing

/// `deploy check --live` against the local endpoint: the default stack, applied, passes every rule; then changes
/// made outside deploy (as in a console at 3am) break it one at a time, and after each the failures are exactly the
/// breaks so far, each reported by its rule on its resource, with exit 1. It runs in the bootstrap's second account:
/// some breaks change account-wide settings, which in the shared account would reach every other test's stacks.
@Suite("deploy check against the account", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct LiveCheckTests {
    /// A change made outside deploy and the findings (rule and address) it must add.
    struct Break: Sendable {
        var findings: [String]
        var snippet: String

        init(_ findings: String..., by snippet: String) {
            self.findings = findings
            self.snippet = snippet
        }
    }

    /// Helpers for the snippets: the stack's name, its tagged filter, and its resources' ids.
    static func prelude(_ stack: String, account: String) -> String {
        """
        import base64
        stack = '\(stack)'
        account = '\(account)'
        tagged = [{'Name': 'tag:deploy:stack', 'Values': [stack]}]
        bucket = lambda kind: f'{stack}-{account}-{kind}'
        vpc = ec2.describe_vpcs(Filters=tagged)['Vpcs'][0]['VpcId']
        def group(name):
            return next(g['GroupId'] for g in ec2.describe_security_groups(Filters=tagged)['SecurityGroups'] if g['GroupName'] == name)
        def node():
            return next(i for r in ec2.describe_instances(Filters=tagged)['Reservations'] for i in r['Instances']
                        if i['State']['Name'] == 'running')
        def key():
            return next(a['TargetKeyId'] for a in kms.list_aliases()['Aliases'] if a['AliasName'] == 'alias/' + stack)
        def endpoint(service):
            return next(e['VpcEndpointId'] for e in ec2.describe_vpc_endpoints(Filters=tagged)['VpcEndpoints']
                        if e['ServiceName'].endswith('.' + service) and e['State'].lower() not in ('deleted', 'deleting'))
        def add_statement(document, statement):
            document = json.loads(document) if isinstance(document, str) else document
            document['Statement'].append(statement)
            return json.dumps(document)
        def node_policy():
            return iam.get_role_policy(RoleName=stack + '-node', PolicyName='inference-node')['PolicyDocument']
        def put_node_policy(statement):
            iam.put_role_policy(RoleName=stack + '-node', PolicyName='inference-node', PolicyDocument=add_statement(node_policy(), statement))

        """
    }

    /// In order: each change leaves the earlier ones in place, and none hides another's finding.
    static let breaks: [Break] = [
        Break("kms-key-rotation keys.data_key", by: "kms.disable_key_rotation(KeyId=key())"),
        Break("sg-no-admin-ports-from-anywhere network.inference_security_group", by: """
            ec2.authorize_security_group_ingress(GroupId=group(stack + '-inference'), IpPermissions=[
                {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
            """),
        Break("sg-inference-port-allowed-cidrs network.inference_security_group", by: """
            ec2.authorize_security_group_ingress(GroupId=group(stack + '-inference'), IpPermissions=[
                {'IpProtocol': 'tcp', 'FromPort': 8080, 'ToPort': 8080, 'IpRanges': [{'CidrIp': '203.0.113.0/24'}]}])
            """),
        Break("vpc-default-security-group-closed network.default_security_group", by: """
            default = next(g['GroupId'] for g in ec2.describe_security_groups(Filters=[{'Name': 'vpc-id', 'Values': [vpc]}])['SecurityGroups']
                           if g['GroupName'] == 'default')
            ec2.authorize_security_group_ingress(GroupId=default, IpPermissions=[
                {'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443, 'IpRanges': [{'CidrIp': '10.40.0.0/16'}]}])
            """),
        Break("nacl-no-admin-ports-from-anywhere network.default_network_acl", by: """
            acl = ec2.describe_network_acls(Filters=[{'Name': 'vpc-id', 'Values': [vpc]}, {'Name': 'default', 'Values': ['true']}])['NetworkAcls'][0]
            ec2.create_network_acl_entry(NetworkAclId=acl['NetworkAclId'], RuleNumber=50, Protocol='6', RuleAction='allow', Egress=False,
                                         CidrBlock='0.0.0.0/0', PortRange={'From': 22, 'To': 22})
            """),
        Break("route-table-no-internet-route network.private_routes", by: """
            gateway = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
            ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
            table = next(t['RouteTableId'] for t in ec2.describe_route_tables(Filters=tagged)['RouteTables'])
            ec2.create_route(RouteTableId=table, DestinationCidrBlock='0.0.0.0/0', GatewayId=gateway)
            """),
        Break("subnet-no-public-ip network.private_subnet[0]", by: """
            subnet = next(s['SubnetId'] for s in ec2.describe_subnets(Filters=tagged)['Subnets'] if s['AvailabilityZone'] == 'eu-west-1a')
            ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={'Value': True})
            """),
        Break("logs-group-retention network.flow_log_group", by: "logs.put_retention_policy(logGroupName='/deploy/' + stack + '/flow-logs', retentionInDays=30)"),
        Break("vpc-interface-endpoints network.vpc", "ec2-managed-by-ssm inference.node[0]",
              by: "ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint('ssmmessages')])"),
        Break("vpc-s3-gateway-endpoint network.vpc", by: "ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint('s3')])"),
        Break("vpc-flow-logs network.vpc", by: """
            ec2.delete_flow_logs(FlowLogIds=[f['FlowLogId'] for f in ec2.describe_flow_logs(Filters=tagged)['FlowLogs']])
            """),
        Break("ec2-imdsv2 inference.node[0]", by: "ec2.modify_instance_metadata_options(InstanceId=node()['InstanceId'], HttpTokens='optional')"),
        Break("ec2-only-stack-security-groups inference.node[0]", by: """
            foreign = ec2.create_security_group(GroupName='lc-foreign-node', Description='not the stack', VpcId=vpc)['GroupId']
            instance = node()
            ec2.modify_instance_attribute(InstanceId=instance['InstanceId'],
                                          Groups=[g['GroupId'] for g in instance['SecurityGroups']] + [foreign])
            """),
        Break("ec2-only-stack-security-groups network.interface_endpoint[0]", by: """
            foreign = ec2.create_security_group(GroupName='lc-foreign-endpoint', Description='not the stack', VpcId=vpc)['GroupId']
            ec2.modify_vpc_endpoint(VpcEndpointId=endpoint('kms'), AddSecurityGroupIds=[foreign])
            """),
        Break("ec2-detailed-monitoring inference.node[0]", by: "ec2.unmonitor_instances(InstanceIds=[node()['InstanceId']])"),
        Break("ec2-no-secrets-in-user-data inference.node[0]", by: """
            ec2.modify_instance_attribute(InstanceId=node()['InstanceId'],
                                          UserData={'Value': base64.b64encode(b'#!/bin/sh\\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\\n')})
            """),
        Break("ec2-volume-encryption inference.node[0]", by: """
            instance = node()
            volume = ec2.create_volume(AvailabilityZone=instance['Placement']['AvailabilityZone'], Size=1, Encrypted=False)['VolumeId']
            ec2.attach_volume(VolumeId=volume, InstanceId=instance['InstanceId'], Device='/dev/sdf')
            """),
        Break("ec2-no-public-ip inference.node[0]", by: """
            address = ec2.allocate_address(Domain='vpc')['AllocationId']
            ec2.associate_address(AllocationId=address, InstanceId=node()['InstanceId'])
            """),
        Break("ec2-instance-profile inference.node[0]", by: """
            instance = node()['InstanceId']
            for association in ec2.describe_iam_instance_profile_associations(
                    Filters=[{'Name': 'instance-id', 'Values': [instance]}])['IamInstanceProfileAssociations']:
                ec2.disassociate_iam_instance_profile(AssociationId=association['AssociationId'])
            """),
        Break("cloudtrail-logging storage.trail", by: "cloudtrail.stop_logging(Name=stack + '-trail')"),
        Break("cloudtrail-multi-region storage.trail", by: "cloudtrail.update_trail(Name=stack + '-trail', IsMultiRegionTrail=False)"),
        Break("cloudtrail-log-file-validation storage.trail",
              by: "cloudtrail.update_trail(Name=stack + '-trail', EnableLogFileValidation=False)"),
        Break("cloudtrail-kms-encryption storage.trail", by: "cloudtrail.update_trail(Name=stack + '-trail', KmsKeyId='')"),
        Break("s3-bucket-public-access-block storage.artifacts_bucket", by: "s3.delete_public_access_block(Bucket=bucket('artifacts'))"),
        Break("s3-bucket-versioning storage.artifacts_bucket",
              by: "s3.put_bucket_versioning(Bucket=bucket('artifacts'), VersioningConfiguration={'Status': 'Suspended'})"),
        Break("s3-bucket-kms-encryption storage.artifacts_bucket", by: """
            s3.put_bucket_encryption(Bucket=bucket('artifacts'), ServerSideEncryptionConfiguration={
                'Rules': [{'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'AES256'}}]})
            """),
        Break("s3-bucket-secure-transport storage.artifacts_bucket", by: """
            s3.put_bucket_policy(Bucket=bucket('artifacts'), Policy=json.dumps({'Version': '2012-10-17', 'Statement': [
                {'Effect': 'Allow', 'Principal': {'AWS': f'arn:aws:iam::{account}:root'}, 'Action': 's3:GetObject',
                 'Resource': 'arn:aws:s3:::' + bucket('artifacts') + '/*'}]}))
            """),
        Break("s3-bucket-policy-not-public storage.artifacts_bucket", by: """
            policy = s3.get_bucket_policy(Bucket=bucket('artifacts'))['Policy']
            s3.put_bucket_policy(Bucket=bucket('artifacts'), Policy=add_statement(policy,
                {'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::' + bucket('artifacts') + '/*'}))
            """),
        Break("s3-object-stack-key storage.api_keys", by: """
            s3.copy_object(Bucket=bucket('artifacts'), Key='config/keys.json', ServerSideEncryption='AES256',
                           CopySource={'Bucket': bucket('artifacts'), 'Key': 'config/keys.json'})
            """),
        Break("s3-bucket-acls-disabled storage.access_logs_bucket", by: """
            s3.put_bucket_ownership_controls(Bucket=bucket('access-logs'), OwnershipControls={'Rules': [{'ObjectOwnership': 'ObjectWriter'}]})
            """),
        // the "public ACL" of the issue; on AWS, Block Public Access would refuse it first
        Break("s3-bucket-no-public-acl storage.access_logs_bucket", by: "s3.put_bucket_acl(Bucket=bucket('access-logs'), ACL='public-read')"),
        Break("s3-audit-bucket-retention storage.audit_bucket", by: """
            s3.put_bucket_lifecycle_configuration(Bucket=bucket('audit'), LifecycleConfiguration={'Rules': [
                {'ID': 'expire', 'Filter': {'Prefix': ''}, 'Status': 'Enabled', 'Expiration': {'Days': 2557},
                 'NoncurrentVersionExpiration': {'NoncurrentDays': 2557}},
                {'ID': 'quietly', 'Filter': {'Prefix': 'AWSLogs/'}, 'Status': 'Enabled', 'Expiration': {'Days': 1}}]})
            """),
        // a deleted configuration is no encryption, never the state's memory of the key
        Break("s3-bucket-kms-encryption storage.audit_bucket", by: "s3.delete_bucket_encryption(Bucket=bucket('audit'))"),
        Break("s3-audit-bucket-access-logging storage.audit_bucket", by: "s3.put_bucket_logging(Bucket=bucket('audit'), BucketLoggingStatus={})"),
        // the stack locks new audit objects 30 days in COMPLIANCE mode; someone shortens it to a day anyone may lift
        Break("s3-bucket-object-lock storage.audit_bucket", by: """
            s3.put_object_lock_configuration(Bucket=bucket('audit'), ObjectLockConfiguration={'ObjectLockEnabled': 'Enabled',
                'Rule': {'DefaultRetention': {'Mode': 'GOVERNANCE', 'Days': 1}}})
            """),
        Break("s3-bucket-public-access-block storage.audit_bucket", "cloudtrail-bucket-not-public storage.trail",
              by: "s3.delete_public_access_block(Bucket=bucket('audit'))"),
        Break("iam-no-service-wildcards keys.node_policy",
              by: "put_node_policy({'Effect': 'Allow', 'Action': 's3:*', 'Resource': 'arn:aws:s3:::' + bucket('artifacts') + '/*'})"),
        Break("iam-no-privilege-escalation keys.node_policy", "iam-role-effective-permissions keys.node_role", by: "put_node_policy({'Effect': 'Allow', 'Action': 'iam:PassRole', 'Resource': '*'})"),
        Break("iam-no-administrator-statement keys.node_policy", by: "put_node_policy({'Effect': 'Allow', 'Action': '*', 'Resource': '*'})"),
        Break("iam-role-no-administrator-policy keys.node_role",
              by: "iam.attach_role_policy(RoleName=stack + '-node', PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')"),
        Break("iam-trust-no-wildcard-principal keys.node_role", by: """
            trust = iam.get_role(RoleName=stack + '-node')['Role']['AssumeRolePolicyDocument']
            iam.update_assume_role_policy(RoleName=stack + '-node', PolicyDocument=add_statement(trust,
                {'Effect': 'Allow', 'Principal': {'AWS': '*'}, 'Action': 'sts:AssumeRole'}))
            """),
        Break("iam-cross-account-external-id keys.node_role", by: """
            trust = iam.get_role(RoleName=stack + '-node')['Role']['AssumeRolePolicyDocument']
            iam.update_assume_role_policy(RoleName=stack + '-node', PolicyDocument=add_statement(trust,
                {'Effect': 'Allow', 'Principal': {'AWS': 'arn:aws:iam::999999999999:root'}, 'Action': 'sts:AssumeRole'}))
            """),
        Break("dynamodb-point-in-time-recovery storage.audit_table", by: """
            dynamodb.update_continuous_backups(TableName=stack + '-audit',
                                               PointInTimeRecoverySpecification={'PointInTimeRecoveryEnabled': False})
            """),
        Break("dynamodb-deletion-protection storage.audit_table",
              by: "dynamodb.update_table(TableName=stack + '-audit', DeletionProtectionEnabled=False)"),
        Break("dynamodb-kms-encryption storage.audit_table",
              by: "dynamodb.update_table(TableName=stack + '-audit', SSESpecification={'Enabled': False})"),
        Break("kms-key-policy-not-public keys.data_key", by: """
            policy = kms.get_key_policy(KeyId=key(), PolicyName='default')['Policy']
            kms.put_key_policy(KeyId=key(), PolicyName='default', Policy=add_statement(policy,
                {'Effect': 'Allow', 'Principal': {'AWS': '*'}, 'Action': 'kms:Decrypt', 'Resource': '*'}))
            """),
        Break("kms-key-deletion-window keys.data_key", by: "kms.schedule_key_deletion(KeyId=key(), PendingWindowInDays=7)"),
        Break("ec2-ebs-encryption-by-default keys.ebs_encryption_by_default", by: "ec2.disable_ebs_encryption_by_default()"),
        Break("s3-account-public-access-block storage.account_public_access_block", by: """
            signed('s3', 'PUT', '/v20180820/configuration/publicAccessBlock', headers={'x-amz-account-id': account}, body=(
                b'<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">'
                b'<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>'
                b'<BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets>'
                b'</PublicAccessBlockConfiguration>'))
            """),
    ]

    static func check(_ fixture: StackFixture, _ environment: [String: String]) throws -> (DeployProcess.Result, [[String: Any]]) {
        let result = try DeployProcess.run(["check", "--live", "--format", "json", "--stack", fixture.stackPath, "--state", fixture.statePath],
                                           environment: environment)
        let reports = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [[String: Any]] ?? []
        return (result, (reports.first?["findings"] as? [[String: Any]]) ?? [])
    }

    static func failed(_ findings: [[String: Any]]) -> Set<String> {
        Set(findings.filter { $0["status"] as? String == "fail" }.map { "\($0["rule"] ?? "") \($0["address"] ?? "")" })
    }

    @Test("the applied default stack passes every rule live; each out-of-band break adds exactly its findings")
    func breaksAreReported() throws {
        let endpoint = try LocalEndpoint.require()
        let fixture = try StackFixture(prefix: "lc", account: endpoint.isolatedAccount)
        defer { fixture.remove() }
        // the audit bucket under Object Lock (its rule has something to hold it to)
        let stackText = try String(contentsOfFile: fixture.stackPath, encoding: .utf8)
        try stackText.replacingOccurrences(of: "audit_retention_days: 2557,", with: "audit_retention_days: 2557, audit_object_lock_days: 30,")
            .write(toFile: fixture.stackPath, atomically: true, encoding: .utf8)
        let environment = endpoint.isolatedEnvironment
        let target = ["--stack", fixture.stackPath, "--state", fixture.statePath]
        let apply = try DeployProcess.run(["apply", "--auto-approve"] + target, environment: environment)
        try #require(apply.status == 0, "\(apply.stderr)")
        defer {
            _ = try? OutsideActor.run(Self.prelude(fixture.name, account: endpoint.isolatedAccount) + """
                ec2.enable_ebs_encryption_by_default()
                for gateway in ec2.describe_internet_gateways(Filters=[{'Name': 'attachment.vpc-id', 'Values': [vpc]}])['InternetGateways']:
                    ec2.detach_internet_gateway(InternetGatewayId=gateway['InternetGatewayId'], VpcId=vpc)
                    ec2.delete_internet_gateway(InternetGatewayId=gateway['InternetGatewayId'])
                for address in ec2.describe_addresses()['Addresses']:
                    if address.get('InstanceId') == node()['InstanceId']:
                        ec2.disassociate_address(AssociationId=address['AssociationId'])
                        ec2.release_address(AllocationId=address['AllocationId'])
                """, region: fixture.region, isolated: true)
            _ = try? DeployProcess.run(["destroy", "--auto-approve", "--force", "--empty-buckets"] + target, environment: environment)
        }

        let (clean, findings) = try Self.check(fixture, environment)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(Self.failed(findings).isEmpty)
        #expect(Set(findings.compactMap { $0["rule"] as? String }).count >= 45, "every rule looked at something")
        // (a rule that keeps what it read out of its evidence, user data, has none to show)
        let unread = findings.filter { ($0["evidence"] as? [String: Any])?.isEmpty == false && ($0["observed"] as? [String])?.isEmpty != false }
            .map { "\($0["rule"] ?? "") \($0["address"] ?? "")" }
        #expect(unread.isEmpty, "every finding read its resource from the account: \(unread)")
        let broken = Set(Self.breaks.flatMap(\.findings).compactMap { $0.split(separator: " ").first.map(String.init) })
        #expect(broken == Set(findings.compactMap { $0["rule"] as? String }), "every rule is broken by a change below")

        var expected: Set<String> = []
        for change in Self.breaks {
            expected.formUnion(change.findings)
            let (broken, after) = try Self.check(fixture, environment, after: change, account: endpoint.isolatedAccount)
            #expect(broken.status == 1, "\(change.findings): \(broken.stderr)")
            let failed = Self.failed(after)
            #expect(failed == expected, "after \(change.findings): missing \(expected.subtracting(failed)), unexpected \(failed.subtracting(expected))")
            if failed != expected { break }
        }
    }

    static func check(_ fixture: StackFixture, _ environment: [String: String], after change: Break,
                      account: String) throws -> (DeployProcess.Result, [[String: Any]]) {
        try OutsideActor.run(prelude(fixture.name, account: account) + change.snippet, region: fixture.region, isolated: true)
        return try check(fixture, environment)
    }
}
