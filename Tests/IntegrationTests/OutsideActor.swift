import Foundation

/// Someone changing the account outside deploy, as in a console at 3am: boto3 run as the bootstrap's
/// outside-admin user against the local endpoint.
enum OutsideActor {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a Python snippet with `ec2`, `kms`, `s3`, `iam`, `dynamodb`, `logs`, `cloudtrail`, `autoscaling`, `elbv2` and
    /// `acm` clients in scope, `json`
    /// imported and `signed(service, method, path, body)` to send a signed request boto3 cannot address here (S3
    /// Control's hosts carry the account id); returns its stdout. `isolated`: as the second account's administrator.
    @discardableResult
    static func run(_ snippet: String, region: String, isolated: Bool = false) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let who = isolated ? "ISOLATED" : "OUTSIDE"
        guard let key = environment["DEPLOY_TEST_\(who)_ACCESS_KEY_ID"],
              let secret = environment["DEPLOY_TEST_\(who)_SECRET_ACCESS_KEY"],
              let endpoint = environment["AWS_ENDPOINT_URL"] else {
            throw Failure(description: "the outside-admin keys are not in the environment; start the endpoint with scripts/local-aws")
        }
        let prelude = """
            import json, os, boto3, botocore.auth, botocore.awsrequest, botocore.credentials, requests
            def client(name):
                return boto3.client(name, endpoint_url=\(pythonString(endpoint)), region_name=\(pythonString(region)),
                                    aws_access_key_id=\(pythonString(key)), aws_secret_access_key=\(pythonString(secret)))
            ec2, kms, s3, iam = client("ec2"), client("kms"), client("s3"), client("iam")
            def signed(service, method, path, body=b"", headers={}):
                request = botocore.awsrequest.AWSRequest(method=method, url=\(pythonString(endpoint)) + path, data=body, headers=dict(headers))
                credentials = botocore.credentials.Credentials(\(pythonString(key)), \(pythonString(secret)))
                botocore.auth.S3SigV4Auth(credentials, service, \(pythonString(region))).add_auth(request)
                answer = requests.request(method, request.url, data=body, headers=dict(request.headers), verify=os.environ.get("AWS_CA_BUNDLE", True))
                answer.raise_for_status()
                return answer.content
            dynamodb, logs, cloudtrail = client("dynamodb"), client("logs"), client("cloudtrail")
            autoscaling, elbv2, acm = client("autoscaling"), client("elbv2"), client("acm")

            """
        var clean = environment
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] { clean[name] = nil }
        let result = try DeployProcess.run(["python3", "-c", prelude + snippet], environment: clean,
                                           executable: URL(fileURLWithPath: "/usr/bin/env"))
        guard result.status == 0 else { throw Failure(description: "outside change failed: \(result.stderr)") }
        return result.stdout
    }

    static func pythonString(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// How many live resources of each type carry the stack's name: what exists in the account, whatever the state says.
    static func census(stack: String, region: String) throws -> [String: Int] {
        let output = try run("""
            stack = \(pythonString(stack))
            tagged = [{"Name": "tag:deploy:stack", "Values": [stack]}]
            counts = {}
            counts["aws.ec2.vpc"] = len(ec2.describe_vpcs(Filters=tagged)["Vpcs"])
            counts["aws.ec2.subnet"] = len(ec2.describe_subnets(Filters=tagged)["Subnets"])
            tables = ec2.describe_route_tables(Filters=tagged)["RouteTables"]
            counts["aws.ec2.route_table"] = len(tables)
            counts["aws.ec2.route_table_association"] = sum(1 for t in tables for a in t.get("Associations", []) if not a.get("Main"))
            groups = ec2.describe_security_groups(Filters=tagged)["SecurityGroups"]
            counts["aws.ec2.security_group"] = sum(1 for g in groups if g["GroupName"] != "default")
            counts["aws.ec2.default_security_group"] = sum(1 for g in groups if g["GroupName"] == "default")
            counts["aws.ec2.vpc_endpoint"] = sum(1 for e in ec2.describe_vpc_endpoints(Filters=tagged)["VpcEndpoints"]
                                                 if e["State"].lower() not in ("deleted", "deleting"))
            counts["aws.ec2.default_network_acl"] = sum(1 for a in ec2.describe_network_acls(Filters=tagged)["NetworkAcls"] if a["IsDefault"])
            counts["aws.ec2.flow_log"] = len(ec2.describe_flow_logs(Filters=tagged)["FlowLogs"])
            counts["aws.ec2.instance"] = sum(1 for r in ec2.describe_instances(Filters=tagged)["Reservations"] for i in r["Instances"]
                                             if i["State"]["Name"] not in ("terminated", "shutting-down"))
            counts["aws.logs.log_group"] = len(logs.describe_log_groups(logGroupNamePrefix="/deploy/" + stack + "/")["logGroups"])
            roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(stack + "-")]
            counts["aws.iam.role"] = len(roles)
            counts["aws.iam.role_policy"] = sum(len(iam.list_role_policies(RoleName=r)["PolicyNames"]) for r in roles)
            counts["aws.iam.instance_profile"] = sum(1 for p in iam.list_instance_profiles()["InstanceProfiles"]
                                                     if p["InstanceProfileName"].startswith(stack + "-"))
            keys = 0
            for key in kms.list_keys()["Keys"]:
                tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])}
                if tags.get("deploy:stack") == stack and kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion":
                    keys += 1
            counts["aws.kms.key"] = keys
            counts["aws.kms.alias"] = sum(1 for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/" + stack)
            buckets = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(stack + "-")]
            counts["aws.s3.bucket"] = len(buckets)
            # the objects deploy uploaded: current versions tagged with the stack
            counts["aws.s3.object"] = sum(1 for b in buckets for o in s3.list_objects_v2(Bucket=b).get("Contents", [])
                                          if {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=b, Key=o["Key"])["TagSet"]}
                                             .get("deploy:stack") == stack)
            counts["aws.dynamodb.table"] = sum(1 for t in dynamodb.list_tables()["TableNames"] if t.startswith(stack + "-"))
            counts["aws.cloudtrail.trail"] = sum(1 for t in cloudtrail.describe_trails()["trailList"] if t["Name"].startswith(stack + "-"))
            counts["aws.ec2.launch_template"] = len(ec2.describe_launch_templates(Filters=tagged)["LaunchTemplates"])
            groups = [g for g in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
                      if g["AutoScalingGroupName"].startswith(stack + "-")]
            counts["aws.autoscaling.group"] = len(groups)
            counts["aws.autoscaling.policy"] = sum(len(autoscaling.describe_policies(AutoScalingGroupName=g["AutoScalingGroupName"])["ScalingPolicies"])
                                                   for g in groups)
            balancers = [b for b in elbv2.describe_load_balancers()["LoadBalancers"] if b["LoadBalancerName"].startswith(stack + "-")]
            counts["aws.elbv2.load_balancer"] = len(balancers)
            counts["aws.elbv2.listener"] = sum(len(elbv2.describe_listeners(LoadBalancerArn=b["LoadBalancerArn"])["Listeners"]) for b in balancers)
            counts["aws.elbv2.target_group"] = sum(1 for t in elbv2.describe_target_groups()["TargetGroups"] if t["TargetGroupName"].startswith(stack + "-"))
            certificates = [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]]
            counts["aws.acm.certificate"] = sum(1 for arn in certificates
                                                if {t["Key"]: t.get("Value") for t in acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])}
                                                   .get("deploy:stack") == stack)
            # a fleet's nodes are the group's, not the stack's own instances
            counts["aws.ec2.instance"] -= sum(len(g["Instances"]) for g in groups)
            print(json.dumps({kind: count for kind, count in counts.items() if count}))
            """, region: region)
        return try JSONDecoder().decode([String: Int].self, from: Data(output.utf8))
    }
}
