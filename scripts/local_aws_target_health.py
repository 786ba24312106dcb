"""ELBv2 target health as a load balancer sees it, for the local endpoint (moto reports every registered target healthy).

A target is `initial` from its registration (Reason Elb.RegistrationInProgress until the first check, then
Elb.InitialHealthChecking) until HealthyThresholdCount consecutive checks have passed, and `unhealthy` after
UnhealthyThresholdCount consecutive failures; a healthy target turns unhealthy, and back, by the same thresholds.
The checks fall every HealthCheckIntervalSeconds from the registration. A deregistered target, and one whose instance
was terminated, is `draining` (Target.DeregistrationInProgress) for the group's deregistration_delay.timeout_seconds,
and is listed while it drains. An instance that is stopped or terminated is `unused` (Target.InvalidState); so is
every target of a group no load balancer forwards to (Target.NotInUse), and one that is not registered
(Target.NotRegistered); with health checks disabled a target is `unavailable` (Target.HealthCheckDisabled).

What a check finds: LOCAL_AWS_TARGETS may name a JSON file (read at every DescribeTargetHealth, so that a test can
write it once it knows its instance ids) mapping a target id to "host:port". A target listed there is probed for real,
by the group's HealthCheckProtocol: HTTP or HTTPS (the certificate not verified, as a load balancer does not)
GET on HealthCheckPath, passing when the status is in the Matcher's HttpCode; anything else (TCP, TLS) a TCP connect.
A target not listed passes every check, so that plain moto tests still see their targets turn healthy.

Time: LOCAL_AWS_HEALTH_CHECK_SECONDS_SCALE (default 1) multiplies every interval, timeout and deregistration delay,
so that a test can run the thresholds in a fraction of a second. Checks are evaluated when DescribeTargetHealth
asks: the checks that have fallen due since the last answer all take the result of one probe made then (a check
that no one watched cannot be run afterwards), so a target's state is a function of its registration time, the
clock and what its address answers."""
import http.client
import json
import os
import socket
import ssl
import time
from dataclasses import dataclass

from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

TARGETS_FILE = "LOCAL_AWS_TARGETS"
SECONDS_SCALE = "LOCAL_AWS_HEALTH_CHECK_SECONDS_SCALE"
# a probe's timeout, scaled, is never under this: a TLS handshake on a loaded machine takes its time
SHORTEST_PROBE_TIMEOUT = 1.0


def seconds(value):
    return float(value) * float(os.environ.get(SECONDS_SCALE) or 1)


@dataclass
class CheckResult:
    passed: bool
    reason: str = ""
    description: str = ""


PASSED = CheckResult(True)


@dataclass
class TargetChecks:
    """One registration's health checks so far."""
    registered_at: float
    checks_run: int = 0
    passes: int = 0
    failures: int = 0
    state: str = "initial"
    last_failure: CheckResult | None = None

    def record(self, result, healthy_threshold, unhealthy_threshold):
        if result.passed:
            self.passes, self.failures = self.passes + 1, 0
            if self.passes >= healthy_threshold:
                self.state = "healthy"
        else:
            self.passes, self.failures, self.last_failure = 0, self.failures + 1, result
            if self.failures >= unhealthy_threshold:
                self.state = "unhealthy"


def target_addresses():
    path = os.environ.get(TARGETS_FILE)
    if not path or not os.path.exists(path):
        return {}
    with open(path) as source:
        return json.load(source)


def status_matches(status, matcher):
    for part in str((matcher or {}).get("HttpCode") or "200").split(","):
        low, _, high = part.strip().partition("-")
        if int(low) <= status <= int(high or low):
            return True
    return False


def probe(group, address):
    host, _, port = address.rpartition(":")
    timeout = max(SHORTEST_PROBE_TIMEOUT, seconds(group.health_check_timeout_seconds))
    protocol = (group.health_check_protocol or "TCP").upper()
    try:
        if protocol in ("HTTP", "HTTPS"):
            if protocol == "HTTPS":
                context = ssl.create_default_context()
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
                connection = http.client.HTTPSConnection(host, int(port), timeout=timeout, context=context)
            else:
                connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
            try:
                connection.request("GET", group.health_check_path or "/", headers={"User-Agent": "ELB-HealthChecker/2.0"})
                status = connection.getresponse().status
            finally:
                connection.close()
            if status_matches(status, getattr(group, "matcher", None)):
                return PASSED
            return CheckResult(False, "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{status}]")
        socket.create_connection((host, int(port)), timeout=timeout).close()
        return PASSED
    except (socket.timeout, TimeoutError):
        return CheckResult(False, "Target.Timeout", "Request timed out")
    except (OSError, http.client.HTTPException):
        return CheckResult(False, "Target.FailedHealthChecks", "Health checks failed")


def checks_of(group):
    if not hasattr(group, "target_checks"):
        group.target_checks = {}  # target id -> TargetChecks
        group.draining_since = {}  # target id -> (monotonic time, target)
    return group.target_checks


def run_due_checks(group, target_id, checks):
    due = int((time.monotonic() - checks.registered_at) / seconds(group.health_check_interval_seconds)) - checks.checks_run
    if due <= 0:
        return
    address = target_addresses().get(target_id)
    result = probe(group, address) if address else PASSED
    healthy, unhealthy = int(group.healthy_threshold_count), int(group.unhealthy_threshold_count)
    # beyond the larger threshold, more of the same result changes nothing
    for _ in range(min(due, max(healthy, unhealthy))):
        checks.record(result, healthy, unhealthy)
    checks.checks_run += due


def still_draining(group, target_id):
    checks_of(group)
    since = group.draining_since.get(target_id)
    delay = seconds(group.attributes.get("deregistration_delay.timeout_seconds", 300))
    return since is not None and time.monotonic() - since[0] < delay


_moto_register = FakeTargetGroup.register
_moto_deregister = FakeTargetGroup.deregister


def register(self, targets):
    _moto_register(self, targets)
    checks = checks_of(self)
    for target in targets:
        # registering a target that is registered already changes nothing; one that drains starts again
        if target["Id"] not in checks or target["Id"] in self.draining_since:
            checks[target["Id"]] = TargetChecks(registered_at=time.monotonic())
        self.draining_since.pop(target["Id"], None)


def start_draining(group, targets):
    checks = checks_of(group)
    for target in targets:
        checks.pop(target["Id"], None)
        group.draining_since[target["Id"]] = (time.monotonic(), target)


def deregister(self, targets):
    registered = [self.targets[t["Id"]] for t in targets if t["Id"] in self.targets]
    _moto_deregister(self, targets)
    start_draining(self, registered)


def deregister_terminated_instances(self, instance_ids):
    leaving = [target for target_id, target in self.targets.items() if target_id in instance_ids]
    for target in leaving:
        self.targets.pop(target["Id"])
    start_draining(self, leaving)


def health_for(self, target, ec2_backend):
    target_id = target["Id"]
    registered = self.targets.get(target_id)

    def health(state, reason=None, description=None):
        port = (registered or target).get("Port", self.port)
        return FakeHealthStatus(target_id, port, self.health_check_port, state, reason, description)

    if registered is None:
        if still_draining(self, target_id):
            return health("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
        return health("unused", "Target.NotRegistered", "Target is not registered to the target group")
    if not self.load_balancer_arns:
        return health("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
    instance = ec2_backend.get_instance_by_id(target_id) if self.target_type == "instance" else None
    if instance is not None and instance.state in ("stopping", "stopped", "shutting-down", "terminated"):
        word = "stopped" if instance.state in ("stopping", "stopped") else "terminated"
        return health("unused", "Target.InvalidState", f"Target is in the {word} state")
    if not self.health_check_enabled:
        return health("unavailable", "Target.HealthCheckDisabled", "Health checks disabled")
    checks = checks_of(self).setdefault(target_id, TargetChecks(registered_at=time.monotonic()))
    run_due_checks(self, target_id, checks)
    if checks.state == "healthy":
        return health("healthy")
    if checks.state == "unhealthy":
        return health("unhealthy", checks.last_failure.reason, checks.last_failure.description)
    if checks.checks_run == 0:
        return health("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
    return health("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")


def describe_target_health(self, target_group_arn, targets):
    group = self.target_groups.get(target_group_arn)
    if group is None:
        return _moto_describe_target_health(self, target_group_arn, targets)
    if not targets:
        checks_of(group)
        targets = list(group.targets.values()) + [
            target for target_id, (_, target) in group.draining_since.items() if still_draining(group, target_id)]
    return [group.health_for(target, self.ec2_backend) for target in targets]


_moto_describe_target_health = ELBv2Backend.describe_target_health
FakeTargetGroup.register = register
FakeTargetGroup.deregister = deregister
FakeTargetGroup.deregister_terminated_instances = deregister_terminated_instances
FakeTargetGroup.health_for = health_for
ELBv2Backend.describe_target_health = describe_target_health
