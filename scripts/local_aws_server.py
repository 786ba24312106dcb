"""moto's server (what `moto_server` runs), with two corrections to how it evaluates policy conditions.

The stacks' buckets deny every request that does not arrive over TLS (a Deny with Bool aws:SecureTransport =
"false"). moto takes a condition operator it does not know (Bool is one) as satisfied, and answers DENIED, not "does
not apply", for a statement whose condition fails: either way that statement would refuse every object call. Here
Bool is evaluated, an unmet condition makes a statement not apply (as in AWS), and aws:SecureTransport is true, as it
is for every request: scripts/local-aws serves only TLS. Everything else is moto's own."""
import sys

from moto.iam import policy_conditions
from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.server import main


def bool_operation(expected, actual):
    wanted = expected if isinstance(expected, list) else [expected]
    return str(actual).lower() in [str(value).lower() for value in wanted]


policy_conditions.CONDITION_OPERATIONS["Bool"] = bool_operation

_moto_is_action_permitted = IAMPolicyStatement.is_action_permitted


def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
    values = dict(incoming_condition_values or {})
    values.setdefault("aws:SecureTransport", "true")
    if self._statement.get("Condition") and not self._check_conditions(values):
        return PermissionResult.NEUTRAL
    return _moto_is_action_permitted(self, action, resource, principal, values)


IAMPolicyStatement.is_action_permitted = is_action_permitted

if __name__ == "__main__":
    sys.exit(main())
