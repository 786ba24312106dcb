"""moto's server (what `moto_server` runs), with corrections where it differs from AWS.

Two are in how it evaluates policy conditions.

The stacks' buckets deny every request that does not arrive over TLS (a Deny with Bool aws:SecureTransport =
"false"). moto takes a condition operator it does not know (Bool is one) as satisfied, and answers DENIED, not "does
not apply", for a statement whose condition fails: either way that statement would refuse every object call. Here
Bool is evaluated, an unmet condition makes a statement not apply (as in AWS), and aws:SecureTransport is true, as it
is for every request: scripts/local-aws serves only TLS.

moto authorises S3 Control's account Block Public Access calls as s3:PutPublicAccessBlock (the operation's name);
AWS's IAM action is s3:PutAccountPublicAccessBlock, which is what `deploy permissions` grants. moto names CloudWatch's
actions by the service's signing name, monitoring:PutMetricData; AWS's IAM prefix is cloudwatch:, which is what the
node role's policy and `deploy permissions` grant: here they are authorised as cloudwatch: actions. And moto fails with an
internal error on server access logging to a bucket whose policy has a statement with Principal "*" (a TLS-only
Deny, in every bucket of the stacks): it reads such a statement as if its principal were a map. Last, moto keeps a
VPC's default network ACL after the VPC is deleted; AWS deletes it with the VPC. And moto has no MonitorInstances
or UnmonitorInstances (detailed monitoring on and off): here they set the instance's monitoring state as AWS does.
DynamoDB's UpdateTable ignores SSESpecification in moto; here it changes the table's key as in AWS. Deleting a
network ACL entry that is not there fails with an internal error in moto; here with AWS's
InvalidNetworkAclEntry.NotFound (a delete repeated after its answer was lost meets it). moto's KMS ignores a key's
rotation period: here EnableKeyRotation keeps RotationPeriodInDays and GetKeyRotationStatus returns it while rotation
is on, as AWS does. moto keeps an instance profile's tags but has no ListInstanceProfileTags; here it lists them.
moto's CreateLaunchTemplateVersion keeps UserData as a bare string, not in the type CreateLaunchTemplate keeps it in,
and an Auto Scaling group launching from such a version fails with an internal error; here both keep it alike.

The node's role may put an audit checkpoint only as a conditional write (a Null condition on s3:if-none-match: the
request must carry If-None-Match, so that it can never overwrite a shipped file). moto passes no condition keys to
identity policies and takes Null as satisfied; here Null is evaluated, with s3:if-none-match present exactly when the
request carries If-None-Match, as in AWS. And moto refuses to turn on Object Lock for a bucket that holds objects
(BucketNeedsToBeNew); AWS allows it on any versioned bucket.

Fleets, each in its own module (imported below for its corrections, which its docstring details). moto has no EC2
Auto Scaling instance refresh: local_aws_instance_refresh.py adds StartInstanceRefresh, DescribeInstanceRefreshes,
CancelInstanceRefresh and RollbackInstanceRefresh (authorised as autoscaling:StartInstanceRefresh and so on), which
replace the group's instances in batches that keep MinHealthyPercentage in service, one batch for each
DescribeInstanceRefreshes, and give the group its DesiredConfiguration on success; and it reports an instance's
launch template version as the one it was launched from, not the template's default. A test hook: new instances
from a launch template version whose user data contains DEPLOY_LOCAL_REFRESH_FAIL fail their health checks, so
that the refresh fails (or, with AutoRollback, rolls back). moto reports every registered ELBv2 target healthy:
local_aws_target_health.py makes a target initial until HealthyThresholdCount checks at HealthCheckIntervalSeconds
have passed, draining while it deregisters, unused when its instance is stopped or terminated, and probes for real
the targets that the JSON file named by LOCAL_AWS_TARGETS maps to a host:port (the others pass every check);
LOCAL_AWS_HEALTH_CHECK_SECONDS_SCALE (default 1) scales those seconds for tests. moto answers PutScalingPolicy with
a field AWS does not have (PolicyArn), which its serializer drops: here the answer carries PolicyARN, as in AWS.
moto's UpdateAutoScalingGroup drops a group's mixed-instances policy when the call names none; AWS keeps it, as here.
moto's ModifyListener refuses the TLS protocol (it knows HTTP, HTTPS and TCP); here a TLS listener is modified as AWS
does, its certificate checked.
Everything else is moto's own."""
import contextvars
import copy
import inspect
import sys

from moto.iam import policy_conditions
from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase, PermissionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend
from moto.ec2.models.launch_templates import LaunchTemplate
from moto.ec2.utils import parse_user_data
from moto.dynamodb.responses import DynamoHandler
from moto.ec2.responses.monitoring import Monitoring
from moto.kms.responses import KmsResponse
from moto.iam.responses import IamResponse
from moto.autoscaling.models import FakeAutoScalingGroup
from moto.autoscaling.responses import AutoScalingResponse
from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import ELBv2Backend
from moto.core.responses import ActionResult
from moto.core.types import Base64EncodedString
from moto.s3.models import FakeBucket, S3Backend
from moto.server import main

import local_aws_instance_refresh  # noqa: F401 (its corrections are made on import)
import local_aws_target_health  # noqa: F401


def bool_operation(expected, actual):
    wanted = expected if isinstance(expected, list) else [expected]
    return str(actual).lower() in [str(value).lower() for value in wanted]


policy_conditions.CONDITION_OPERATIONS["Bool"] = bool_operation

# the headers of the request being authorised, for the condition keys that come from them
_request_headers = contextvars.ContextVar("request_headers", default={})
_moto_is_action_permitted = IAMPolicyStatement.is_action_permitted


def null_conditions_hold(statement, values):
    """Null: "true" wants the key absent, "false" present (moto takes the operator as satisfied)."""
    for key, expected in (statement.get("Condition") or {}).get("Null", {}).items():
        wanted = [str(value).lower() for value in (expected if isinstance(expected, list) else [expected])]
        if str(key not in values).lower() not in wanted:
            return False
    return True


def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
    values = dict(incoming_condition_values or {})
    values.setdefault("aws:SecureTransport", "true")
    headers = {name.lower(): value for name, value in dict(_request_headers.get()).items()}
    if action == "s3:PutObject" and "if-none-match" in headers:
        values.setdefault("s3:if-none-match", headers["if-none-match"])
    if self._statement.get("Condition") and not (self._check_conditions(values) and null_conditions_hold(self._statement, values)):
        return PermissionResult.NEUTRAL
    return _moto_is_action_permitted(self, action, resource, principal, values)


IAMPolicyStatement.is_action_permitted = is_action_permitted

ACCOUNT_ACTIONS = {f"s3:{verb}PublicAccessBlock": f"s3:{verb}AccountPublicAccessBlock" for verb in ("Get", "Put", "Delete")}
# moto's action prefix is the signing name in the request's credential scope; IAM's differs for CloudWatch
IAM_PREFIXES = {"monitoring": "cloudwatch"}
_moto_request_init = IAMRequestBase.__init__


def request_init(self, account_id, method, path, data, body, headers, action):
    _moto_request_init(self, account_id, method, path, data, body, headers, action)
    if path.startswith("/v20180820/"):
        self._action = ACCOUNT_ACTIONS.get(self._action, self._action)
    prefix, _, name = self._action.partition(":")
    self._action = f"{IAM_PREFIXES.get(prefix, prefix)}:{name}"


IAMRequestBase.__init__ = request_init

_moto_check_action_permitted = IAMRequestBase.check_action_permitted


def check_action_permitted(self, resource):
    token = _request_headers.set(self._headers)
    try:
        return _moto_check_action_permitted(self, resource)
    finally:
        _request_headers.reset(token)


IAMRequestBase.check_action_permitted = check_action_permitted

_moto_put_object_lock_configuration = S3Backend.put_object_lock_configuration


def put_object_lock_configuration(self, bucket_name, lock_enabled, mode=None, days=None, years=None):
    bucket = self.get_bucket(bucket_name)
    if not bucket.is_versioned:
        return _moto_put_object_lock_configuration(self, bucket_name, lock_enabled, mode, days, years)
    if lock_enabled:
        bucket.object_lock_enabled = True
    bucket.default_lock_mode, bucket.default_lock_days, bucket.default_lock_years = mode, days, years


S3Backend.put_object_lock_configuration = put_object_lock_configuration

_moto_log_permissions = FakeBucket._log_permissions_enabled_policy


def log_permissions_enabled_policy(target_bucket, target_prefix):
    import json
    policy = target_bucket.policy
    if not policy:
        return False
    document = json.loads(policy.decode())
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    # moto's check, on only the statements it can read: those that name their principals in a map
    readable = [s for s in statements if isinstance(s.get("Principal"), dict)]
    original = target_bucket.policy
    try:
        target_bucket.policy = json.dumps({**document, "Statement": readable}).encode()
        return _moto_log_permissions(target_bucket, target_prefix)
    finally:
        target_bucket.policy = original


FakeBucket._log_permissions_enabled_policy = staticmethod(log_permissions_enabled_policy)

_moto_delete_vpc = EC2Backend.delete_vpc


def delete_vpc(self, vpc_id):
    vpc = _moto_delete_vpc(self, vpc_id)
    for acl_id in [acl.id for acl in self.network_acls.values() if acl.vpc_id == vpc_id]:
        self.network_acls.pop(acl_id, None)
    return vpc


EC2Backend.delete_vpc = delete_vpc

_moto_delete_network_acl_entry = EC2Backend.delete_network_acl_entry


def delete_network_acl_entry(self, network_acl_id, rule_number, egress):
    acl = self.get_network_acl(network_acl_id)
    if not any(e.egress == egress and e.rule_number == rule_number for e in acl.network_acl_entries):
        raise EC2ClientError("InvalidNetworkAclEntry.NotFound",
                             f"The network ACL entry identified by {rule_number} ({'egress' if egress else 'ingress'}) does not exist")
    return _moto_delete_network_acl_entry(self, network_acl_id, rule_number, egress)


EC2Backend.delete_network_acl_entry = delete_network_acl_entry


_moto_create_launch_template_version = LaunchTemplate.create_version


def create_launch_template_version(self, data, description):
    if data.get("UserData") is not None and not isinstance(data["UserData"], Base64EncodedString):
        data = {**data, "UserData": parse_user_data(data["UserData"])}
    return _moto_create_launch_template_version(self, data, description)


LaunchTemplate.create_version = create_launch_template_version


def set_monitoring(state, action):
    def respond(self):
        self.error_on_dryrun()
        items = []
        for instance_id in self._get_param("InstanceIds", []):
            self.ec2_backend.get_instance(instance_id).monitoring_state = state
            items.append(f"<item><instanceId>{instance_id}</instanceId><monitoring><state>{state}</state></monitoring></item>")
        return (f'<{action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>{action}</requestId>'
                f'<instancesSet>{"".join(items)}</instancesSet></{action}Response>')
    return respond


Monitoring.monitor_instances = set_monitoring("enabled", "MonitorInstances")
Monitoring.unmonitor_instances = set_monitoring("disabled", "UnmonitorInstances")

_moto_update_table = DynamoHandler.update_table


def update_table(self):
    specification = self.body.get("SSESpecification")
    if specification is not None:
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        # Enabled false: back to a key AWS owns, which DescribeTable shows as no SSE description
        table.sse_specification = dict(specification) if specification.get("Enabled") else None
        if table.sse_specification and "KMSMasterKeyId" not in table.sse_specification:
            table.sse_specification["KMSMasterKeyId"] = table._get_default_encryption_key(table.account_id, table.region_name)
    return _moto_update_table(self)


DynamoHandler.update_table = update_table

_moto_enable_key_rotation = KmsResponse.enable_key_rotation
_moto_get_key_rotation_status = KmsResponse.get_key_rotation_status


def enable_key_rotation(self):
    answer = _moto_enable_key_rotation(self)
    key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
    key.rotation_period_in_days = int(self._get_param("RotationPeriodInDays") or 365)
    return answer


def get_key_rotation_status(self):
    import json
    answer = json.loads(_moto_get_key_rotation_status(self))
    key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
    if answer.get("KeyRotationEnabled"):
        answer["RotationPeriodInDays"] = getattr(key, "rotation_period_in_days", 365)
    return json.dumps(answer)


def list_instance_profile_tags(self):
    profile = self.backend.get_instance_profile(profile_name=self._get_param("InstanceProfileName"))
    return ActionResult({"Tags": list(profile.tags), "IsTruncated": False})


IamResponse.list_instance_profile_tags = list_instance_profile_tags
KmsResponse.enable_key_rotation = enable_key_rotation
KmsResponse.get_key_rotation_status = get_key_rotation_status

_moto_put_scaling_policy = AutoScalingResponse.put_scaling_policy


def put_scaling_policy(self):
    """AWS answers PutScalingPolicy with PolicyARN; moto names the field PolicyArn, which its serializer drops."""
    answer = _moto_put_scaling_policy(self)
    arn = answer.result["PolicyArn"]
    return ActionResult({"PolicyARN": arn, "Alarms": []})


AutoScalingResponse.put_scaling_policy = put_scaling_policy

_moto_update_group = FakeAutoScalingGroup.update
_update_group_signature = inspect.signature(_moto_update_group)


def update_group(self, *args, **kwargs):
    """UpdateAutoScalingGroup without a launch template or a mixed-instances policy keeps the group's (moto drops it)."""
    bound = _update_group_signature.bind(self, *args, **kwargs)
    if not bound.arguments.get("launch_template") and not bound.arguments.get("mixed_instances_policy") and self.mixed_instances_policy:
        kept = copy.deepcopy(self.mixed_instances_policy)
        specification = kept["LaunchTemplate"]["LaunchTemplateSpecification"]
        if specification.get("LaunchTemplateId"):
            specification.pop("LaunchTemplateName", None)  # moto adds the name, then refuses a specification with both
        bound.arguments["mixed_instances_policy"] = kept
    return _moto_update_group(*bound.args, **bound.kwargs)


FakeAutoScalingGroup.update = update_group

_moto_modify_listener = ELBv2Backend.modify_listener


def modify_listener(self, arn, port=None, protocol=None, ssl_policy=None, certificates=None, actions=None):
    """ModifyListener of a TLS listener, which moto refuses (it knows HTTP, HTTPS and TCP): its certificate checked as
    for HTTPS, the rest moto's."""
    if protocol != "TLS":
        return _moto_modify_listener(self, arn, port, protocol, ssl_policy, certificates, actions)
    listener = self.describe_listeners(load_balancer_arn=None, listener_arns=[arn])[0]
    if certificates:
        if not self._certificate_exists(certificate_arn=certificates[0]["CertificateArn"]):
            raise ELBClientError("CertificateNotFound", f"Certificate {certificates[0]['CertificateArn']} not found")
        listener.certificate = certificates[0]["CertificateArn"]
        listener.certificates = [c["CertificateArn"] for c in certificates]
    elif not listener.certificates:
        raise ELBClientError("InvalidConfigurationRequest",
                        "You must provide a list containing exactly one certificate if the listener protocol is TLS.")
    modified = _moto_modify_listener(self, arn, port, None, ssl_policy, None, actions)
    modified.protocol = "TLS"
    return modified


ELBv2Backend.modify_listener = modify_listener

if __name__ == "__main__":
    sys.exit(main())
