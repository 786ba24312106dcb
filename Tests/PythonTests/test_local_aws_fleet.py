"""The local AWS endpoint's fleet behaviours (scripts/local_aws_instance_refresh.py, scripts/local_aws_target_health.py),
through boto3 against `scripts/local-aws start`, IAM enforced: an instance refresh replacing an Auto Scaling group's
instances in batches that keep MinHealthyPercentage in service, refused while another runs, cancelled, rolled back by
hand and on the failure hook, and refused to a user without autoscaling:StartInstanceRefresh; and target health as a
load balancer sees it, initial to healthy by the clock, draining on deregistration, and probed for real over HTTP.

Run: python3 -m pytest Tests/PythonTests/test_local_aws_fleet.py -q
"""
import base64
import http.server
import itertools
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LOCAL_AWS = os.path.join(ROOT, "scripts", "local-aws")
# health check seconds run 50 times faster: a 10-second interval is 0.2 s, a 300-second deregistration delay 6 s
SECONDS_SCALE = 0.02
FLEET_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["autoscaling:*", "elasticloadbalancing:*", "ec2:*"], "Resource": "*"}]}
TERMINAL = {"Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"}
ENDPOINT = {}
LISTENER_PORTS = itertools.count(9001)


def setUpModule():
    directory = tempfile.mkdtemp(prefix="local-aws-fleet-")
    targets = os.path.join(directory, "targets.json")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment.update(LOCAL_AWS_TARGETS=targets, LOCAL_AWS_HEALTH_CHECK_SECONDS_SCALE=str(SECONDS_SCALE))
    ENDPOINT.update(directory=directory, targets=targets, environment=environment)
    subprocess.run([LOCAL_AWS, "start", directory], check=True, capture_output=True, env=environment)
    with open(os.path.join(directory, "env")) as source:
        for line in source:
            name, _, value = line.removeprefix("export ").strip().partition("=")
            ENDPOINT[name] = shlex.split(value)[0] if value else ""


def tearDownModule():
    if "directory" in ENDPOINT:
        subprocess.run([LOCAL_AWS, "stop", ENDPOINT["directory"]], capture_output=True, env=ENDPOINT["environment"])
        shutil.rmtree(ENDPOINT["directory"], ignore_errors=True)


def client(service, key_id, secret):
    return boto3.client(service, endpoint_url=ENDPOINT["AWS_ENDPOINT_URL"], region_name=ENDPOINT["AWS_REGION"],
                        aws_access_key_id=key_id, aws_secret_access_key=secret, verify=ENDPOINT["AWS_CA_BUNDLE"],
                        config=Config(retries={"max_attempts": 1}))


class StatusServer:
    """A loopback HTTP server answering every GET with one status."""

    def __init__(self, status):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status if self.path == "/health" else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class LocalFleetTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        outside = (ENDPOINT["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"], ENDPOINT["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"])
        iam = client("iam", *outside)
        iam.create_user(UserName="fleet-admin")
        iam.put_user_policy(UserName="fleet-admin", PolicyName="fleet", PolicyDocument=json.dumps(FLEET_POLICY))
        key = iam.create_access_key(UserName="fleet-admin")["AccessKey"]
        fleet = (key["AccessKeyId"], key["SecretAccessKey"])
        cls.ec2, cls.autoscaling, cls.elb = (client(s, *fleet) for s in ("ec2", "autoscaling", "elbv2"))
        cls.vpc = cls.ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        cls.subnet = cls.ec2.create_subnet(VpcId=cls.vpc, CidrBlock="10.40.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        cls.load_balancer = cls.elb.create_load_balancer(Name="fleet", Type="network", Scheme="internal",
                                                         Subnets=[cls.subnet])["LoadBalancers"][0]["LoadBalancerArn"]
        template = cls.ec2.create_launch_template(LaunchTemplateName="node", LaunchTemplateData={
            "ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "UserData": user_data("version 1")})["LaunchTemplate"]
        cls.template = template["LaunchTemplateId"]
        for text in ("version 2", "version 3\nDEPLOY_LOCAL_REFRESH_FAIL\n"):
            cls.ec2.create_launch_template_version(LaunchTemplateId=cls.template, LaunchTemplateData={
                "ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "UserData": user_data(text)})

    def target_group(self, name, interval=10, **health_check):
        arn = self.elb.create_target_group(Name=name, Protocol="TCP", Port=8443, VpcId=self.vpc, HealthCheckIntervalSeconds=interval,
                                           HealthCheckTimeoutSeconds=5, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
                                           **health_check)["TargetGroups"][0]["TargetGroupArn"]
        self.elb.create_listener(LoadBalancerArn=self.load_balancer, Protocol="TCP", Port=next(LISTENER_PORTS),
                                 DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])
        return arn

    def group(self, name, target_group=None):
        self.autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name, MinSize=0, MaxSize=8, DesiredCapacity=4, VPCZoneIdentifier=self.subnet,
            LaunchTemplate={"LaunchTemplateId": self.template, "Version": "1"},
            TargetGroupARNs=[target_group] if target_group else [])
        return name

    def described_group(self, name):
        return self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]

    def start(self, name, version, **preferences):
        return self.autoscaling.start_instance_refresh(
            AutoScalingGroupName=name, Strategy="Rolling",
            DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": self.template, "Version": version}},
            Preferences={"MinHealthyPercentage": 50, **preferences})["InstanceRefreshId"]

    def refresh(self, name, refresh_id):
        return self.autoscaling.describe_instance_refreshes(AutoScalingGroupName=name, InstanceRefreshIds=[refresh_id])["InstanceRefreshes"][0]

    def run_to_the_end(self, name, refresh_id):
        """Describes the refresh until it ends; the statuses seen and the group's instances after each step."""
        statuses, steps = [], []
        for _ in range(20):
            refresh = self.refresh(name, refresh_id)
            statuses.append(refresh["Status"])
            steps.append(self.described_group(name)["Instances"])
            if refresh["Status"] in TERMINAL:
                return refresh, statuses, steps
        self.fail(f"the refresh did not end: {statuses}")

    def test_a_refresh_replaces_the_instances_in_batches_that_keep_the_minimum_healthy(self):
        target_group = self.target_group("refresh")
        # the replaced instances drain for 60 s (scaled), longer than the test takes however loaded the machine
        self.elb.modify_target_group_attributes(TargetGroupArn=target_group, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "3000"}])
        name = self.group("refresh", target_group)
        old = {i["InstanceId"] for i in self.described_group(name)["Instances"]}
        self.assertEqual({i["LaunchTemplate"]["Version"] for i in self.described_group(name)["Instances"]}, {"1"})
        refresh_id = self.start(name, "2")
        with self.assertRaises(ClientError) as refused:
            self.start(name, "2")
        self.assertEqual(refused.exception.response["Error"]["Code"], "InstanceRefreshInProgress")

        refresh, statuses, steps = self.run_to_the_end(name, refresh_id)
        self.assertEqual(statuses, ["InProgress", "InProgress", "Successful"])
        for instances in steps:
            self.assertGreaterEqual(sum(i["LifecycleState"] == "InService" for i in instances), 2, instances)
        on_version_2 = [[i for i in instances if i["LaunchTemplate"]["Version"] == "2"] for instances in steps]
        self.assertEqual([len(step) for step in on_version_2], [2, 4, 4])
        self.assertEqual([sum(i["LifecycleState"] == "Pending" for i in step) for step in on_version_2], [2, 2, 0])
        self.assertEqual((refresh["PercentageComplete"], refresh["InstancesToUpdate"]), (100, 0))
        self.assertEqual(refresh["Preferences"]["MinHealthyPercentage"], 50)
        self.assertIn("EndTime", refresh)

        group = self.described_group(name)
        self.assertEqual(group["LaunchTemplate"]["Version"], "2")
        new = {i["InstanceId"] for i in group["Instances"]}
        self.assertEqual(len(new), 4)
        self.assertFalse(new & old)
        self.assertEqual({(i["LaunchTemplate"]["Version"], i["LifecycleState"]) for i in group["Instances"]}, {("2", "InService")})
        reservations = self.ec2.describe_instances(InstanceIds=sorted(new | old))["Reservations"]
        instances = {i["InstanceId"]: i for r in reservations for i in r["Instances"]}
        self.assertEqual({instances[i]["State"]["Name"] for i in old}, {"terminated"})
        self.assertEqual({instances[i]["State"]["Name"] for i in new}, {"running"})
        self.assertEqual({t["Value"] for i in new for t in instances[i]["Tags"] if t["Key"] == "aws:ec2launchtemplate:version"}, {"2"})
        health = {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in
                  self.elb.describe_target_health(TargetGroupArn=target_group)["TargetHealthDescriptions"]}
        self.assertEqual({health[i] for i in old}, {"draining"})
        self.assertLessEqual({health[i] for i in new}, {"initial", "healthy"})
        # all on the desired version: a refresh with SkipMatching has nothing to do
        again = self.autoscaling.start_instance_refresh(AutoScalingGroupName=name, Preferences={"SkipMatching": True})["InstanceRefreshId"]
        self.assertEqual(self.run_to_the_end(name, again)[1], ["Successful"])
        self.assertEqual({i["InstanceId"] for i in self.described_group(name)["Instances"]}, new)

    def test_a_cancelled_refresh_keeps_what_it_replaced_and_the_group_configuration(self):
        name = self.group("cancel")
        refresh_id = self.start(name, "2")
        self.assertEqual(self.refresh(name, refresh_id)["Status"], "InProgress")
        self.autoscaling.cancel_instance_refresh(AutoScalingGroupName=name)
        refresh, statuses, _ = self.run_to_the_end(name, refresh_id)
        self.assertEqual(statuses, ["Cancelling", "Cancelled"])
        with self.assertRaises(ClientError) as nothing_active:
            self.autoscaling.cancel_instance_refresh(AutoScalingGroupName=name)
        self.assertEqual(nothing_active.exception.response["Error"]["Code"], "ActiveInstanceRefreshNotFound")
        group = self.described_group(name)
        self.assertEqual(group["LaunchTemplate"]["Version"], "1")
        self.assertEqual(sorted(i["LaunchTemplate"]["Version"] for i in group["Instances"]), ["1", "1", "2", "2"])
        # a cancelled refresh no longer holds the group
        self.assertEqual(self.run_to_the_end(name, self.start(name, "1", SkipMatching=True))[1][-1], "Successful")

    def test_failing_health_checks_with_auto_rollback_end_back_on_the_previous_version(self):
        name = self.group("auto-rollback")
        refresh, statuses, steps = self.run_to_the_end(name, self.start(name, "3", AutoRollback=True))
        self.assertEqual(statuses[0], "InProgress")
        self.assertIn("RollbackInProgress", statuses)
        self.assertEqual(refresh["Status"], "RollbackSuccessful")
        self.assertIn("failed their health checks", refresh["RollbackDetails"]["RollbackReason"])
        self.assertEqual(refresh["RollbackDetails"]["InstancesToUpdateOnRollback"], 4)
        for instances in steps:
            self.assertGreaterEqual(sum(i["LifecycleState"] == "InService" for i in instances), 2, instances)
        group = self.described_group(name)
        self.assertEqual(group["LaunchTemplate"]["Version"], "1")
        self.assertEqual([(i["LaunchTemplate"]["Version"], i["LifecycleState"], i["HealthStatus"]) for i in group["Instances"]],
                         [("1", "InService", "Healthy")] * 4)

    def test_failing_health_checks_without_rollback_fail_the_refresh(self):
        name = self.group("fail")
        refresh, statuses, _ = self.run_to_the_end(name, self.start(name, "3"))
        self.assertEqual(statuses, ["InProgress", "Failed"])
        self.assertIn("failed their health checks", refresh["StatusReason"])
        group = self.described_group(name)
        self.assertEqual(group["LaunchTemplate"]["Version"], "1")
        self.assertEqual(sorted(i["LaunchTemplate"]["Version"] for i in group["Instances"]), ["1"] * 4)

    def test_a_rollback_by_hand_replaces_what_the_refresh_replaced(self):
        name = self.group("rollback")
        refresh_id = self.start(name, "2")
        self.refresh(name, refresh_id)
        self.refresh(name, refresh_id)  # two on version 2 in service, two launching
        self.autoscaling.rollback_instance_refresh(AutoScalingGroupName=name)
        refresh, statuses, _ = self.run_to_the_end(name, refresh_id)
        self.assertEqual(statuses[0], "RollbackInProgress")
        self.assertEqual(refresh["Status"], "RollbackSuccessful")
        self.assertEqual(refresh["RollbackDetails"]["PercentageCompleteOnRollback"], 50)
        group = self.described_group(name)
        self.assertEqual((group["LaunchTemplate"]["Version"], sorted(i["LaunchTemplate"]["Version"] for i in group["Instances"])),
                         ("1", ["1"] * 4))
        # without a desired configuration there is nothing to roll back to
        self.autoscaling.start_instance_refresh(AutoScalingGroupName=name)
        with self.assertRaises(ClientError) as irreversible:
            self.autoscaling.rollback_instance_refresh(AutoScalingGroupName=name)
        self.assertEqual(irreversible.exception.response["Error"]["Code"], "IrreversibleInstanceRefresh")
        self.autoscaling.cancel_instance_refresh(AutoScalingGroupName=name)

    def test_each_operation_is_authorised_by_its_own_action(self):
        name = self.group("denied")
        outside = client("iam", ENDPOINT["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"], ENDPOINT["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"])
        outside.create_user(UserName="refresh-reader")
        outside.put_user_policy(UserName="refresh-reader", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "autoscaling:DescribeInstanceRefreshes", "Resource": "*"}]}))
        key = outside.create_access_key(UserName="refresh-reader")["AccessKey"]
        reader = client("autoscaling", key["AccessKeyId"], key["SecretAccessKey"])
        self.assertEqual(reader.describe_instance_refreshes(AutoScalingGroupName=name)["InstanceRefreshes"], [])
        for call in (reader.start_instance_refresh, reader.cancel_instance_refresh, reader.rollback_instance_refresh):
            with self.assertRaises(ClientError) as denied:
                call(AutoScalingGroupName=name)
            self.assertEqual(denied.exception.response["Error"]["Code"], "AccessDenied")
            self.assertIn(f"autoscaling:{denied.exception.operation_name}", denied.exception.response["Error"]["Message"])

    def health(self, target_group, instance_id):
        return self.elb.describe_target_health(TargetGroupArn=target_group, Targets=[{"Id": instance_id}])["TargetHealthDescriptions"][0]["TargetHealth"]

    def wait_for(self, target_group, instance_id, state):
        deadline = time.monotonic() + 5
        while (health := self.health(target_group, instance_id))["State"] != state and time.monotonic() < deadline:
            time.sleep(0.05)
        return health

    def test_a_registered_target_is_initial_until_its_checks_pass_then_drains_when_deregistered(self):
        target_group = self.target_group("clock", interval=30)  # a check every 0.6 s, healthy after two
        instance = self.ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=self.subnet)["Instances"][0]["InstanceId"]
        self.elb.register_targets(TargetGroupArn=target_group, Targets=[{"Id": instance}])
        initial = self.health(target_group, instance)
        self.assertEqual(initial["State"], "initial")
        self.assertIn(initial["Reason"], ("Elb.RegistrationInProgress", "Elb.InitialHealthChecking"))
        self.assertEqual(self.wait_for(target_group, instance, "healthy"), {"State": "healthy"})
        self.elb.deregister_targets(TargetGroupArn=target_group, Targets=[{"Id": instance}])
        self.assertEqual(self.health(target_group, instance)["Reason"], "Target.DeregistrationInProgress")
        listed = self.elb.describe_target_health(TargetGroupArn=target_group)["TargetHealthDescriptions"]
        self.assertEqual([(d["Target"]["Id"], d["TargetHealth"]["State"]) for d in listed], [(instance, "draining")])
        unused = self.elb.create_target_group(Name="unused", Protocol="TCP", Port=8443, VpcId=self.vpc)["TargetGroups"][0]["TargetGroupArn"]
        self.elb.register_targets(TargetGroupArn=unused, Targets=[{"Id": instance}])
        self.assertEqual(self.health(unused, instance)["Reason"], "Target.NotInUse")

    def test_listed_targets_are_probed_for_real(self):
        target_group = self.target_group("probed", HealthCheckProtocol="HTTP", HealthCheckPath="/health")
        servers = {"up": StatusServer(200), "down": StatusServer(503)}
        self.addCleanup(lambda: [server.close() for server in servers.values()])
        instances = {role: self.ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=self.subnet)["Instances"][0]["InstanceId"]
                     for role in servers}
        with open(ENDPOINT["targets"], "w") as out:
            json.dump({instances[role]: server.address for role, server in servers.items()}, out)
        self.elb.register_targets(TargetGroupArn=target_group, Targets=[{"Id": i} for i in instances.values()])
        self.assertEqual(self.wait_for(target_group, instances["up"], "healthy"), {"State": "healthy"})
        self.assertEqual(self.wait_for(target_group, instances["down"], "unhealthy"), {
            "State": "unhealthy", "Reason": "Target.ResponseCodeMismatch", "Description": "Health checks failed with these codes: [503]"})


def user_data(text):
    return base64.b64encode(text.encode()).decode()


if __name__ == "__main__":
    unittest.main()
