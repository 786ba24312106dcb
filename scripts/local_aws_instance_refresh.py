"""EC2 Auto Scaling instance refresh for the local endpoint: moto has no StartInstanceRefresh, DescribeInstanceRefreshes,
CancelInstanceRefresh or RollbackInstanceRefresh. moto authorises an action by its name, so these are IAM's
autoscaling:StartInstanceRefresh and so on, like every other.

A refresh replaces the group's instances in batches, as AWS does, and each DescribeInstanceRefreshes of the group
takes it one step (deterministic, and as fast as a test polls): the batch launched by the last step enters service
(InService, registered with the group's target groups), then the next batch starts. Without MaxHealthyPercentage
(or at 100) a batch is as many instances as may be out of service while MinHealthyPercentage (default 90) of the
desired capacity stays in service, rounded up, at least one: those are deregistered from the target groups (they
drain), terminated, and their replacements launched (Pending until the next step). With MaxHealthyPercentage above
100 the replacements are launched first, as many as fit above the desired capacity, and the instances they replace
are terminated once they are in service. CheckpointPercentages bound the batches (no batch crosses a checkpoint) but
the refresh does not wait there; InstanceWarmup and health checks by the load balancer are not waited for either.
Replacements launch through moto's own group, from the DesiredConfiguration's launch template version (or the
group's own configuration without one); SkipMatching skips the instances already on it, and protected instances are
left alone unless ScaleInProtectedInstances is Refresh. A refresh that succeeds makes its DesiredConfiguration the
group's launch template (or its MixedInstancesPolicy's LaunchTemplateSpecification).

Statuses: Pending, then InProgress at the first step; Successful. StartInstanceRefresh while one is active is
refused with InstanceRefreshInProgress. CancelInstanceRefresh: Cancelling while a batch is launching, Cancelled once
it is in service (nothing is undone); ActiveInstanceRefreshNotFound when none is active. RollbackInstanceRefresh
(only with a DesiredConfiguration and a group on a numbered launch template version, else IrreversibleInstanceRefresh)
goes RollbackInProgress and replaces, in the same batches, every instance the refresh launched from the group's
configuration before it, then RollbackSuccessful; the group keeps (gets back) that configuration.

Failure, a local test hook: an instance launched from a launch template version whose user data (once base64-decoded)
contains DEPLOY_LOCAL_REFRESH_FAIL fails its health checks when its batch should enter service. The refresh then
fails as in AWS: Failed, StatusReason naming the instances, the group replacing them from its own configuration; or,
with Preferences.AutoRollback, RollbackInProgress and then RollbackSuccessful (RollbackFailed when the configuration
rolled back to carries the marker too).

Also corrected: moto reports an Auto Scaling instance's LaunchTemplate Version as the template's default version
and tags the EC2 instance aws:ec2launchtemplate:version with it; here both are the version the instance was launched
from (the group's version, resolved at launch), which is what tells a refreshed instance from an old one."""
import base64
import binascii
import copy
import math
import uuid
from datetime import datetime, timezone

from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError
from moto.autoscaling.models import FakeAutoScalingGroup, InstanceState
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError

FAILURE_MARKER = b"DEPLOY_LOCAL_REFRESH_FAIL"
# a refresh in these holds its group: no other may start
ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress")
CANCELLABLE = ("Pending", "InProgress", "RollbackInProgress")
REVERSIBLE = ("Pending", "InProgress")
# what moto's group launches from: the fields its _set_launch_configuration sets
CONFIGURATION_FIELDS = ("ec2_launch_template", "launch_template_version", "provided_launch_template_version",
                        "launch_config", "launch_configuration_name", "mixed_instances_policy")


class InstanceRefreshInProgress(AutoscalingClientError):
    code = "InstanceRefreshInProgress"
    message = "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh."


class ActiveInstanceRefreshNotFound(AutoscalingClientError):
    code = "ActiveInstanceRefreshNotFound"


class IrreversibleInstanceRefresh(AutoscalingClientError):
    code = "IrreversibleInstanceRefresh"


def now():
    return datetime.now(timezone.utc)


class GroupConfiguration:
    """What a group launches from, kept apart from the group so that it can be launched from or restored."""

    def __init__(self, values):
        self.values = values

    @classmethod
    def of(cls, group):
        return cls({name: copy.deepcopy(getattr(group, name, None)) if name == "mixed_instances_policy"
                    else getattr(group, name, None) for name in CONFIGURATION_FIELDS})

    def apply(self, group):
        for name, value in self.values.items():
            setattr(group, name, copy.deepcopy(value) if name == "mixed_instances_policy" else value)

    def identity(self):
        """What an instance launched from this configuration was launched from, as InstanceState.launched_from."""
        template = self.values["ec2_launch_template"]
        if template is None:
            return ("configuration", self.values["launch_configuration_name"])
        return ("template", template.id, template.get_version(self.values["launch_template_version"]).number)

    def has_numbered_version(self):
        return self.values["ec2_launch_template"] is None or str(self.values["launch_template_version"]).isdigit()


def desired_configuration(group, desired):
    """The group's configuration with DesiredConfiguration applied, by moto's own group code."""
    previous = GroupConfiguration.of(group)
    policy = copy.deepcopy(desired.get("MixedInstancesPolicy"))
    template = desired.get("LaunchTemplate")
    if policy is None and template is not None and group.mixed_instances_policy:
        policy = copy.deepcopy(group.mixed_instances_policy)
        policy["LaunchTemplate"]["LaunchTemplateSpecification"] = template
    try:
        group.launch_config = group.launch_configuration_name = None
        group.mixed_instances_policy = policy
        group._set_launch_configuration(None, {} if policy else template, policy)
        wanted = GroupConfiguration.of(group)
        wanted.identity()  # the version must exist
        return wanted
    except EC2ClientError as error:
        raise ValidationError(f"You must use a valid fully-formed launch template. {error.message}")
    finally:
        previous.apply(group)


def launched_from(state):
    return getattr(state, "launched_from", None)


def fails_health_checks(state):
    source = launched_from(state)
    if source is None or source[0] != "template":
        return False
    template = state.auto_scaling_group.ec2_backend.get_launch_template(source[1])
    user_data = template.get_version(source[2]).user_data
    try:
        return FAILURE_MARKER in base64.b64decode(str(user_data or ""))
    except (binascii.Error, ValueError):
        return False


def register_with_target_groups(group, backend, instance_ids):
    for arn in group.target_group_arns:
        target_group = backend.elbv2_backend.target_groups.get(arn)
        if target_group is not None and instance_ids:
            backend.elbv2_backend.register_targets(arn, [{"Id": i, "Port": target_group.port} for i in instance_ids])


def retire(group, backend, instance_ids):
    """Auto Scaling's termination: out of the target groups (they drain), out of the group, terminated."""
    for arn in group.target_group_arns:
        target_group = backend.elbv2_backend.target_groups.get(arn)
        registered = [{"Id": i} for i in instance_ids if target_group is not None and i in target_group.targets]
        if registered:
            backend.elbv2_backend.deregister_targets(arn, registered)
    group.instance_states = [s for s in group.instance_states if s.instance.id not in instance_ids]
    if instance_ids:
        backend.ec2_backend.terminate_instances(list(instance_ids))


def launch(group, backend, configuration, count, lifecycle_state):
    """Launches through moto's group, as if the group's configuration were this one; returns the new instance ids."""
    if count <= 0:
        return []
    current = GroupConfiguration.of(group)
    before = {id(state) for state in group.instance_states}
    configuration.apply(group)
    try:
        group.replace_autoscaling_group_instances(count, group.get_propagated_tags())
    finally:
        current.apply(group)
    launched = [state for state in group.instance_states if id(state) not in before]
    for state in launched:
        state.lifecycle_state = lifecycle_state
    ids = [state.instance.id for state in launched]
    if lifecycle_state == "InService":
        register_with_target_groups(group, backend, ids)
    return ids


class InstanceRefresh:
    def __init__(self, group, strategy, preferences, desired_configuration, target, previous):
        self.id = str(uuid.uuid4())
        self.group_name = group.name
        self.strategy = strategy
        self.preferences = preferences
        self.desired_configuration = desired_configuration  # as asked, for DescribeInstanceRefreshes
        self.target = target  # what the replacements launch from
        self.previous = previous  # the group's configuration at the start, what a rollback returns to
        self.status, self.status_reason, self.rollback_details = "Pending", None, None
        self.start_time, self.end_time = now(), None
        states = [s for s in group.instance_states if s.lifecycle_state in ("InService", "Pending")]
        if preferences["ScaleInProtectedInstances"] != "Refresh":
            states = [s for s in states if not s.protected_from_scale_in]
        self.total = len(states)
        if preferences["SkipMatching"]:
            states = [s for s in states if launched_from(s) != target.identity()]
        self.to_replace = [s.instance.id for s in states]
        self.in_flight = []  # (the instance being replaced, its replacement), launched by the last step
        self.launched = []  # every replacement this refresh launched

    def instances_to_update(self):
        return len(self.to_replace) + len(self.in_flight)

    def percentage_complete(self):
        return 100 if self.total == 0 else math.floor(100 * (self.total - self.instances_to_update()) / self.total)

    def progress_details(self):
        return {"LivePoolProgress": {"PercentageComplete": self.percentage_complete(),
                                     "InstancesToUpdate": self.instances_to_update()}}

    def launches_first(self):
        return self.preferences.get("MaxHealthyPercentage", 100) > 100

    def batch_size(self, group):
        desired = group.desired_capacity or 0
        if self.launches_first():
            room = math.floor(desired * self.preferences["MaxHealthyPercentage"] / 100) - desired
        else:
            room = desired - math.ceil(desired * self.preferences["MinHealthyPercentage"] / 100)
        size = max(1, room)
        if self.status == "InProgress":
            done = self.total - self.instances_to_update()
            boundaries = [math.ceil(self.total * p / 100) for p in self.preferences.get("CheckpointPercentages") or []]
            size = min([size] + [b - done for b in boundaries if b > done])
        return size

    def finish(self, status, reason=None):
        self.status, self.end_time = status, now()
        if reason:
            self.status_reason = reason

    def advance(self, backend):
        """One step: the batch in flight enters service (or fails), then the next batch starts."""
        group = backend.autoscaling_groups.get(self.group_name)
        if group is None:
            return self.finish("Failed", "The Auto Scaling group was deleted.")
        if self.status == "Pending":
            self.status = "InProgress"
        if self.status == "Cancelling":
            # the batch in flight enters service (a step of its own, so that Cancelling is seen), and nothing more
            if self.in_flight:
                self.settle(group, backend)
                return
            return self.finish("Cancelled")
        if self.in_flight and not self.settle(group, backend):
            return
        if not self.to_replace:
            if self.status == "RollbackInProgress":
                self.previous.apply(group)
                return self.finish("RollbackSuccessful")
            if self.desired_configuration:
                self.target.apply(group)
            return self.finish("Successful")
        size = self.batch_size(group)
        batch, self.to_replace = self.to_replace[:size], self.to_replace[size:]
        if not self.launches_first():
            retire(group, backend, batch)
        replacements = launch(group, backend, self.target, len(batch), "Pending")
        self.launched += replacements
        self.in_flight = list(zip(batch, replacements))
        backend.update_attached_elbs(group.name)

    def settle(self, group, backend):
        """The batch in flight enters service; False when it failed its health checks instead."""
        states = {state.instance.id: state for state in group.instance_states}
        failed = [new for _, new in self.in_flight if new in states and fails_health_checks(states[new])]
        if failed:
            self.fail(group, backend, failed, states)
            return False
        entering = [new for _, new in self.in_flight if new in states]
        for new in entering:
            states[new].lifecycle_state = "InService"
        register_with_target_groups(group, backend, entering)
        retire(group, backend, [old for old, _ in self.in_flight if old in states])
        self.in_flight = []
        return True

    def fail(self, group, backend, failed, states):
        source = launched_from(states[failed[0]])
        reason = (f"Instance refresh failed: the new instances {', '.join(failed)} (launch template {source[1]} "
                  f"version {source[2]}) failed their health checks.")
        for instance_id in failed:
            states[instance_id].health_status = "Unhealthy"
        if self.status == "InProgress" and self.preferences["AutoRollback"]:
            return self.start_rollback(group, backend, reason)
        unhealthy = self.abandon_in_flight(group, backend)
        if self.status == "RollbackInProgress":
            return self.finish("RollbackFailed", reason)
        # Auto Scaling replaces an unhealthy instance from the group's own configuration
        retire(group, backend, unhealthy)
        launch(group, backend, GroupConfiguration.of(group), len(unhealthy), "InService")
        self.finish("Cancelled" if self.status == "Cancelling" else "Failed", reason)

    def abandon_in_flight(self, group, backend):
        """Ends the batch in flight: a replacement whose old instance still serves is terminated; the others are
        returned (their old instances are gone)."""
        alive = {state.instance.id for state in group.instance_states}
        retire(group, backend, [new for old, new in self.in_flight if old in alive and new in alive])
        orphans = [new for old, new in self.in_flight if old not in alive and new in alive]
        self.in_flight = []
        return orphans

    def start_rollback(self, group, backend, reason):
        self.rollback_details = {
            "RollbackReason": reason, "RollbackStartTime": now(),
            "PercentageCompleteOnRollback": self.percentage_complete(),
            "InstancesToUpdateOnRollback": self.instances_to_update(),
            "ProgressDetailsOnRollback": self.progress_details(),
        }
        orphans = self.abandon_in_flight(group, backend)
        alive = {state.instance.id for state in group.instance_states}
        self.to_replace = orphans + [i for i in self.launched if i in alive and i not in orphans]
        self.total = len(self.to_replace)
        self.target = self.previous
        self.status, self.status_reason = "RollbackInProgress", reason

    def cancel(self):
        if self.in_flight:
            self.status = "Cancelling"
        else:
            self.finish("Cancelled")

    def description(self):
        answer = {
            "InstanceRefreshId": self.id, "AutoScalingGroupName": self.group_name, "Status": self.status,
            "StartTime": self.start_time, "PercentageComplete": self.percentage_complete(),
            "InstancesToUpdate": self.instances_to_update(), "ProgressDetails": self.progress_details(),
            "Preferences": self.preferences, "Strategy": self.strategy,
        }
        optional = {"StatusReason": self.status_reason, "EndTime": self.end_time,
                    "DesiredConfiguration": self.desired_configuration, "RollbackDetails": self.rollback_details}
        answer.update({name: value for name, value in optional.items() if value})
        return answer


def preferences_with_defaults(asked):
    preferences = {"MinHealthyPercentage": 90, "SkipMatching": False, "AutoRollback": False,
                   "ScaleInProtectedInstances": "Ignore", "StandbyInstances": "Ignore",
                   **{name: value for name, value in (asked or {}).items() if value is not None}}
    minimum, maximum = preferences["MinHealthyPercentage"], preferences.get("MaxHealthyPercentage")
    if not 0 <= minimum <= 100:
        raise ValidationError("MinHealthyPercentage must be between 0 and 100.")
    if maximum is not None and not (100 <= maximum <= 200 and maximum - minimum <= 100):
        raise ValidationError("MaxHealthyPercentage must be between 100 and 200, and at most 100 above MinHealthyPercentage.")
    checkpoints = preferences.get("CheckpointPercentages") or []
    if checkpoints != sorted(set(checkpoints)) or any(not 1 <= p <= 100 for p in checkpoints):
        raise ValidationError("CheckpointPercentages must be between 1 and 100, in ascending order.")
    return preferences


def refreshes_of(backend, group_name):
    """The group's refreshes, newest first."""
    return backend.__dict__.setdefault("instance_refreshes", {}).setdefault(group_name, [])


def group_named(backend, name):
    group = backend.autoscaling_groups.get(name)
    if group is None:
        raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
    return group


def start_instance_refresh(self):
    backend = self.autoscaling_backend
    group = group_named(backend, self._get_param("AutoScalingGroupName"))
    refreshes = refreshes_of(backend, group.name)
    if any(refresh.status in ACTIVE for refresh in refreshes):
        raise InstanceRefreshInProgress()
    strategy = self._get_param("Strategy") or "Rolling"
    if strategy != "Rolling":
        raise ValidationError(f"The {strategy} strategy is not supported by the local endpoint; use Rolling.")
    preferences = preferences_with_defaults(self._get_param("Preferences"))
    desired = self._get_param("DesiredConfiguration") or None
    previous = GroupConfiguration.of(group)
    target = desired_configuration(group, desired) if desired else previous
    if preferences["AutoRollback"] and not (desired and previous.has_numbered_version()):
        raise ValidationError("AutoRollback needs a DesiredConfiguration and a group on a numbered launch template version.")
    refresh = InstanceRefresh(group, strategy, preferences, desired, target, previous)
    refreshes.insert(0, refresh)
    return ActionResult({"InstanceRefreshId": refresh.id})


def describe_instance_refreshes(self):
    backend = self.autoscaling_backend
    refreshes = refreshes_of(backend, self._get_param("AutoScalingGroupName"))
    for refresh in refreshes:
        if refresh.status in ACTIVE:
            refresh.advance(backend)
    wanted = self._get_param("InstanceRefreshIds") or []
    listed = [refresh for refresh in refreshes if not wanted or refresh.id in wanted]
    start, size = int(self._get_param("NextToken") or 0), int(self._get_param("MaxRecords") or 50)
    next_token = str(start + size) if start + size < len(listed) else None
    return ActionResult({"InstanceRefreshes": [r.description() for r in listed[start:start + size]], "NextToken": next_token})


def cancel_instance_refresh(self):
    backend = self.autoscaling_backend
    group = group_named(backend, self._get_param("AutoScalingGroupName"))
    refresh = next((r for r in refreshes_of(backend, group.name) if r.status in CANCELLABLE), None)
    if refresh is None:
        raise ActiveInstanceRefreshNotFound(f"No in progress or pending Instance Refresh found for Auto Scaling group {group.name}")
    refresh.cancel()
    return ActionResult({"InstanceRefreshId": refresh.id})


def rollback_instance_refresh(self):
    backend = self.autoscaling_backend
    group = group_named(backend, self._get_param("AutoScalingGroupName"))
    refresh = next((r for r in refreshes_of(backend, group.name) if r.status in REVERSIBLE), None)
    if refresh is None:
        raise ActiveInstanceRefreshNotFound(f"No in progress or pending Instance Refresh found for Auto Scaling group {group.name}")
    if not refresh.desired_configuration:
        raise IrreversibleInstanceRefresh("The instance refresh cannot be rolled back: it has no desired configuration.")
    if not refresh.previous.has_numbered_version():
        raise IrreversibleInstanceRefresh("The instance refresh cannot be rolled back: the group uses the launch "
                                          "template's $Latest or $Default version.")
    refresh.start_rollback(group, backend, "RollbackInstanceRefresh was called.")
    return ActionResult({"InstanceRefreshId": refresh.id})


_moto_replace_instances = FakeAutoScalingGroup.replace_autoscaling_group_instances
_moto_instance_launch_template = InstanceState.launch_template


def replace_autoscaling_group_instances(self, count_needed, propagated_tags):
    before = {id(state) for state in self.instance_states}
    _moto_replace_instances(self, count_needed, propagated_tags)
    source = GroupConfiguration.of(self).identity()
    for state in self.instance_states:
        if id(state) not in before:
            state.launched_from = source
            if source[0] == "template":
                state.instance.add_tags({"aws:ec2launchtemplate:version": str(source[2])})


def instance_launch_template(self):
    source = launched_from(self)
    if source is None:
        return _moto_instance_launch_template.fget(self)
    if source[0] != "template":
        return None
    template = self.auto_scaling_group.ec2_backend.get_launch_template(source[1])
    return {"LaunchTemplateId": template.id, "LaunchTemplateName": template.name, "Version": str(source[2])}


FakeAutoScalingGroup.replace_autoscaling_group_instances = replace_autoscaling_group_instances
InstanceState.launch_template = property(instance_launch_template)
AutoScalingResponse.start_instance_refresh = start_instance_refresh
AutoScalingResponse.describe_instance_refreshes = describe_instance_refreshes
AutoScalingResponse.cancel_instance_refresh = cancel_instance_refresh
AutoScalingResponse.rollback_instance_refresh = rollback_instance_refresh
