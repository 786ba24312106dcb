"""`deploy check`'s machine reports read by the tools that consume them: SARIF 2.1.0 validated against the OASIS
schema (committed in Fixtures/sarif, with its licence), JUnit XML parsed by junitparser. Run by scripts/test
against the debug build."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import jsonschema
import junitparser

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEPLOY = os.path.join(ROOT, ".build", "debug", "deploy")
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Fixtures", "sarif", "sarif-schema-2.1.0.json")


class CheckReportTests(unittest.TestCase):
    def setUp(self):
        """The default stack with the audit table's deletion protection off: one medium failure."""
        self.work = tempfile.mkdtemp(prefix="check-reports-")
        self.addCleanup(shutil.rmtree, self.work, True)
        stacks = os.path.join(self.work, "Stacks")
        os.makedirs(os.path.join(stacks, "artifacts"))
        text = open(os.path.join(ROOT, "Stacks", "private-inference.json5")).read()
        with open(os.path.join(stacks, "private-inference.json5"), "w") as out:
            out.write(text.replace("audit_retention_days: 2557,", "audit_retention_days: 2557, table_deletion_protection: false,"))
        for name in ("inference-server", "model.gguf", "keys.json"):
            with open(os.path.join(stacks, "artifacts", name), "w") as out:
                out.write(f"a stand-in for {name}\n")
        shutil.copytree(os.path.join(ROOT, "Templates"), os.path.join(self.work, "Templates"))
        self.stack = os.path.join(stacks, "private-inference.json5")

    def report(self, kind):
        path = os.path.join(self.work, f"report.{kind}")
        result = subprocess.run([DEPLOY, "check", "--plan", "--stack", self.stack, "--format", kind, "--out", path],
                                capture_output=True, text=True, cwd=self.work)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, "", "the report went to --out")
        return path

    def test_sarif_validates_against_the_schema(self):
        log = json.load(open(self.report("sarif")))
        jsonschema.validate(log, json.load(open(SCHEMA)))
        run = log["runs"][0]
        self.assertGreaterEqual(len(run["tool"]["driver"]["rules"]), 35)
        [result] = run["results"]
        self.assertEqual(result["ruleId"], "dynamodb-deletion-protection")
        self.assertEqual(result["level"], "warning")
        location = result["locations"][0]
        self.assertEqual(location["physicalLocation"]["artifactLocation"]["uri"], "Templates/storage.json5")
        self.assertEqual(location["logicalLocations"][0]["fullyQualifiedName"], "storage.audit_table")
        rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
        self.assertEqual(rule["id"], result["ruleId"])
        self.assertIn("FSBP/DynamoDB.6", rule["properties"]["tags"])
        # GitHub code scanning reads security-severity only as a string holding a number from 0 to 10
        for entry in run["tool"]["driver"]["rules"]:
            severity = entry["properties"]["security-severity"]
            self.assertIsInstance(severity, str, entry["id"])
            self.assertTrue(0.0 <= float(severity) <= 10.0, entry["id"])
        self.assertEqual(rule["properties"]["security-severity"], "5.5")

    def test_junit_parses(self):
        xml = junitparser.JUnitXml.fromfile(self.report("junit"))
        cases = [case for suite in xml for case in suite]
        self.assertGreater(len(cases), 50)
        failed = [case for case in cases if case.result and isinstance(case.result[0], junitparser.Failure)]
        self.assertEqual([case.name for case in failed], ["dynamodb-deletion-protection storage.audit_table"])
        self.assertEqual(failed[0].result[0].type, "medium")


if __name__ == "__main__":
    unittest.main()
