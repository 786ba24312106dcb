"""The policy `deploy permissions` prints, checked for real AWS by the IAM linter parliament (PyPI): the local
endpoint evaluates resource ARNs for S3 alone, so it cannot tell an action scoped to a resource type IAM does not
authorise it on. Run by scripts/test against the debug build."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from parliament import analyze_policy_string

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEPLOY = os.path.join(ROOT, ".build", "debug", "deploy")
# the findings that mean real AWS would deny or refuse the policy
REFUSED = {"UNKNOWN_ACTION", "UNKNOWN_PREFIX", "UNKNOWN_PRINCIPAL", "RESOURCE_MISMATCH", "MALFORMED_JSON", "UNKNOWN_OPERATOR"}


class DeployerPolicyTests(unittest.TestCase):
    def policy(self, stack):
        """The named-resource policy of a shipped stack, copied beside stand-in artifacts (the real ones are built)."""
        work = tempfile.mkdtemp(prefix="deployer-policy-")
        self.addCleanup(shutil.rmtree, work, True)
        os.makedirs(os.path.join(work, "Stacks", "artifacts"))
        shutil.copy(os.path.join(ROOT, "Stacks", f"{stack}.json5"), os.path.join(work, "Stacks"))
        for name in ("inference-server", "model.gguf", "keys.json"):
            with open(os.path.join(work, "Stacks", "artifacts", name), "w") as out:
                out.write(f"a stand-in for {name}\n")
        os.symlink(os.path.abspath(os.path.join(ROOT, "Templates")), os.path.join(work, "Templates"))
        return subprocess.run([DEPLOY, "permissions", "--stack", os.path.join(work, "Stacks", f"{stack}.json5")],
                              check=True, capture_output=True, text=True).stdout

    def test_every_action_exists_and_is_on_a_resource_type_it_authorises(self):
        for stack in ("private-inference", "air-gapped"):
            with self.subTest(stack=stack):
                text = self.policy(stack)
                statements = json.loads(text)["Statement"]
                self.assertGreater(sum(len(s["Action"]) if isinstance(s["Action"], list) else 1 for s in statements), 50)
                refused = [(finding.issue, finding.detail) for finding in analyze_policy_string(text).findings
                           if finding.issue in REFUSED]
                self.assertEqual(refused, [], f"parliament on the {stack} stack's policy")


if __name__ == "__main__":
    unittest.main()
