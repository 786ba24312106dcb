"""The fleet's local proof (scripts/fleet-proof): a scratch copy of Stacks/fleet.json5 applied against the local
endpoint with real artifacts (the debug inference-server, the fixture model, a keys file with a key made for the
test), its nodes booted from the launch template's user data behind HAProxy configured as the stack's Network Load
Balancer, and a steady load through HAProxy's TLS listener (streaming and whole chat completions, each request its own
connection) while one node is stopped, the fleet grows back, and every node is replaced one at a time: no request
fails, no stream is cut (each ends with `data: [DONE]`), more than one node serves, and after the replacement none
of the first nodes does. The nodes' metrics publisher puts their load on the endpoint's CloudWatch with the node
role's own permissions.

Needs the local endpoint's environment (scripts/local-aws start; scripts/test exports it), haproxy, the AWS CLI and
the debug build (DEPLOY_BUILD_DIR, default .build/debug). Skipped without them, except under scripts/test
(DEPLOY_REQUIRE_LOCAL_AWS), where a missing one fails.

Run: python3 -m unittest Tests/PythonTests/test_fleet_proof.py -v
"""
import http.client
import json
import os
import random
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import boto3

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("DEPLOY_BUILD_DIR") or os.path.join(ROOT, ".build", "debug")
DEPLOY = os.path.join(BUILD, "deploy")
SERVER = os.path.join(BUILD, "inference-server")
MODEL = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "models", "llama-q8_0.gguf")
FLEET_PROOF = os.path.join(ROOT, "scripts", "fleet-proof")
NODE_BOOT = os.path.join(ROOT, "scripts", "node-boot")
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID", "DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY")
REQUIRED = bool(os.environ.get("DEPLOY_REQUIRE_LOCAL_AWS"))
CLIENTS = 6
# a stream of 192 tokens (the fixture model's context is 256) lasts about 0.08 s: a node that leaves has some in flight
# each client's pause between requests: six clients stay well under a node's 50 requests a second for one API key
# (the server's --rate-limit) even when one node serves them all
PAUSE = 0.2


def missing():
    """What this test needs and does not have."""
    reasons = [f"{name} is not set (start the local endpoint: scripts/local-aws)" for name in ENDPOINT_VARIABLES
               if not os.environ.get(name)]
    reasons += [f"{name} is not installed" for name in ("haproxy", "aws", "openssl") if shutil.which(name) is None]
    reasons += [f"{path} is not built" for path in (DEPLOY, SERVER) if not os.access(path, os.X_OK)]
    return reasons


class Load:
    """CLIENTS clients sending chat completions through the listener until stopped, every other one streaming; each
    request a new TLS connection, checked against the stack's certificate (a TCP load balancer balances connections:
    a keep-alive client stays on its node until its connection ends, behind HAProxy as behind an NLB). Failures and
    cut streams are kept with what went wrong."""

    def __init__(self, url, key, certificate):
        self.host, port = url.removeprefix("https://").split(":")
        self.port = int(port)
        self.key = key
        self.context = ssl.create_default_context(cadata=certificate)
        self.context.check_hostname = False  # it names inference.fleet.internal, not the loopback address
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.phase = "two nodes"
        self.counts = {}  # phase -> {"requests", "streams"}
        self.failures = []
        self.cut = []
        self.threads = [threading.Thread(target=self.client, args=(n % 2 == 0,), daemon=True) for n in range(CLIENTS)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def client(self, streaming):
        while not self.stopping.is_set():
            phase = self.phase
            failure, cut = self.request(streaming)
            with self.lock:
                counts = self.counts.setdefault(phase, {"requests": 0, "streams": 0})
                counts["requests"] += 1
                counts["streams"] += streaming
                if failure:
                    self.failures.append(f"{phase}: {failure}")
                if cut:
                    self.cut.append(f"{phase}: {cut}")
            time.sleep(PAUSE * random.uniform(0.5, 1.5))

    def request(self, streaming):
        """(failure, cut): what went wrong with one request, or None."""
        body = json.dumps({"model": "model", "messages": [{"role": "user", "content": f"Count to {random.randint(3, 99)}"}],
                           "max_tokens": 192 if streaming else 48, "stream": streaming})
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=60)
        started = False
        try:
            connection.request("POST", "/v1/chat/completions", body, {
                "Authorization": f"Bearer {self.key}", "Content-Type": "application/json", "Connection": "close"})
            response = connection.getresponse()
            started = response.status == 200
            text = response.read().decode()
            if response.status != 200:
                return f"status {response.status}: {text[:200]}", None
            if not streaming:
                json.loads(text)["choices"][0]["message"]["content"]
                return None, None
            events = [line.removeprefix("data: ") for line in text.splitlines() if line.startswith("data: ")]
            if not events or events[-1] != "[DONE]" or any('"error"' in event for event in events):
                return None, f"ended with {events[-1:]}"
            return None, None
        except (OSError, http.client.HTTPException, ValueError, KeyError) as error:
            if streaming and started:
                return None, f"{type(error).__name__}: {error}"
            return f"{type(error).__name__}: {error}", None
        finally:
            connection.close()

    def total(self, field):
        with self.lock:
            return sum(counts[field] for counts in self.counts.values())


class FleetProofTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reasons = missing()
        if reasons:
            if REQUIRED:
                raise AssertionError("DEPLOY_REQUIRE_LOCAL_AWS is set, but: " + "; ".join(reasons))
            raise unittest.SkipTest("; ".join(reasons))
        cls.work = tempfile.mkdtemp(prefix="fleet-proof-")
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        cls.name = "fp-" + "".join(random.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=6))
        cls.environment = dict(os.environ)
        # the health check's and the deregistration delay's seconds at a tenth, as scripts/test runs the endpoint
        cls.environment.setdefault("LOCAL_AWS_HEALTH_CHECK_SECONDS_SCALE", "0.1")
        cls.admin = dict(cls.environment, AWS_ACCESS_KEY_ID=os.environ["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"],
                         AWS_SECRET_ACCESS_KEY=os.environ["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"])

        shutil.copytree(os.path.join(ROOT, "Templates"), os.path.join(cls.work, "Templates"))
        with open(os.path.join(ROOT, "Stacks", "fleet.json5")) as source:
            stack = source.read()
        stack = stack.replace('name: "private-inference-fleet"', f'name: "{cls.name}"')
        stack = re.sub(r"\bmin: \d+,", "min: 2,", stack)
        stack = re.sub(r"\bdesired: \d+,", "desired: 2,", stack)
        cls.stack = os.path.join(cls.work, "stack.json5")
        cls.state = os.path.join(cls.work, "state.json")
        with open(cls.stack, "w") as out:
            out.write(stack)
        artifacts = os.path.join(cls.work, "artifacts")
        os.makedirs(os.path.join(artifacts, "tls"))
        shutil.copy(SERVER, os.path.join(artifacts, "inference-server"))
        shutil.copy(MODEL, os.path.join(artifacts, "model.gguf"))
        added = subprocess.run([SERVER, "keys", "add", "fleet-proof", "--keys", os.path.join(artifacts, "keys.json")],
                               capture_output=True, text=True, check=True)
        cls.key = added.stdout.strip()
        certificate, key = os.path.join(cls.work, "listener.crt"), os.path.join(cls.work, "listener.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                        "-subj", "/CN=inference.fleet.internal", "-keyout", key, "-out", certificate],
                       capture_output=True, check=True)
        with open(certificate) as pem:
            cls.certificate = pem.read()
        with open(key) as pem, open(os.path.join(artifacts, "tls", "listener.pem"), "w") as out:
            out.write(cls.certificate + pem.read())

        target = ["--stack", cls.stack, "--state", cls.state]
        cls.addClassCleanup(cls.deploy, "destroy", "--auto-approve", "--force", "--empty-buckets", *target)
        applied = cls.deploy("apply", "--auto-approve", *target)
        if applied.returncode != 0:
            raise AssertionError(f"apply failed:\n{applied.stderr[-3000:]}")

    @classmethod
    def deploy(cls, *arguments):
        return subprocess.run([DEPLOY, *arguments], capture_output=True, text=True, env=cls.admin, timeout=300)

    def proof(self, *arguments):
        """One fleet-proof command against this test's proof; its standard output."""
        run = subprocess.run([FLEET_PROOF, arguments[0], "--dir", self.directory, *arguments[1:]], capture_output=True,
                             text=True, env=self.environment, timeout=300)
        self.assertEqual(run.returncode, 0, f"fleet-proof {' '.join(arguments)}:\n{run.stderr[-3000:]}")
        sys.stderr.write("".join(line + "\n" for line in run.stderr.splitlines() if " drained: " in line))
        return run.stdout.strip()

    def served(self):
        """Chat completions each node's audit log records for the test's key, by node name."""
        counts = {}
        for node in json.loads(self.proof("status"))["nodes"]:
            path = os.path.join(node["root"], "var/log/inference/audit.jsonl")
            records = []
            if os.path.exists(path):
                with open(path) as log:
                    records = [json.loads(line) for line in log]
            counts[node["name"]] = sum(1 for r in records if r.get("identity") == "fleet-proof" and r.get("route") == "/v1/chat/completions")
        return counts

    def test_no_request_fails_and_no_stream_is_cut_while_nodes_stop_and_are_replaced(self):
        began = time.monotonic()
        self.directory = os.path.join(self.work, "proof")
        url = self.proof("up", "--stack", self.stack, "--state", self.state)
        self.addCleanup(subprocess.run, [FLEET_PROOF, "down", "--dir", self.directory], capture_output=True, env=self.environment)
        first = [node["name"] for node in json.loads(self.proof("status"))["nodes"]]
        self.assertEqual(len(first), 2, "the group's desired capacity")

        load = Load(url, self.key, self.certificate).start()
        self.addCleanup(load.stop)
        time.sleep(3)
        load.phase = "one node stopped"
        stopped = self.proof("stop")
        time.sleep(3)
        load.phase = "a node added"
        self.proof("add")
        time.sleep(2)
        load.phase = "replacing every node"
        before_replace = self.served()
        self.proof("replace")
        load.phase = "replaced"
        replaced = self.served()
        published = [subprocess.run([NODE_BOOT, "publish", "--root", node["root"]],
                                    capture_output=True, text=True, env=self.environment)
                     for node in json.loads(self.proof("status"))["nodes"] if node["in_service"]]
        time.sleep(3)
        load.stop()
        status = json.loads(self.proof("status"))
        self.proof("down")  # the servers flush their audit logs as they stop
        served = self.served()
        seconds = time.monotonic() - began

        figures = {"seconds": round(seconds), "requests": load.total("requests"), "streams": load.total("streams"),
                   "failed": len(load.failures), "cut": len(load.cut), "phases": load.counts, "served": served}
        print(f"\nfleet proof: {json.dumps(figures)}", file=sys.stderr)
        self.assertEqual(load.failures, [], "no request fails")
        self.assertEqual(load.cut, [], "no stream is cut")
        self.assertTrue(all(load.counts.get(phase, {}).get("requests") for phase in
                            ("two nodes", "one node stopped", "a node added", "replacing every node", "replaced")),
                        f"the load ran through every phase: {load.counts}")
        self.assertEqual(sum(served.values()), load.total("requests"), f"each request was served once by a node: {served}")
        self.assertGreater(sum(1 for count in served.values() if count), 1, f"more than one node served: {served}")

        in_service = [node["name"] for node in status["nodes"] if node["in_service"]]
        self.assertEqual(len(in_service), 2, status)
        self.assertTrue(set(in_service).isdisjoint(first + [stopped]), f"every first node was replaced: {in_service}")
        self.assertTrue(all(node["balancer"] == {"status": "MAINT", "connections": 0, "served": node["balancer"]["served"]}
                            for node in status["nodes"] if not node["in_service"]),
                        f"HAProxy sends a retired node nothing: {status}")
        self.assertTrue(all(node["balancer"]["status"] == "UP" for node in status["nodes"] if node["in_service"]), status)
        retired = [name for name in served if name not in in_service]
        self.assertEqual({name: served[name] for name in retired}, {name: replaced[name] for name in retired},
                         "no retired node served once the replacement was done")
        self.assertGreater(sum(served[name] for name in in_service), sum(before_replace.get(name, 0) for name in in_service),
                           "the new nodes served the load")

        for run in published:
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertIn("published QueueDepth=", run.stdout)
        with open(self.state) as source:
            region = json.load(source)["region"]
        cloudwatch = boto3.client("cloudwatch", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=region,
                                  verify=os.environ["AWS_CA_BUNDLE"], aws_access_key_id=self.admin["AWS_ACCESS_KEY_ID"],
                                  aws_secret_access_key=self.admin["AWS_SECRET_ACCESS_KEY"])
        metrics = cloudwatch.list_metrics(Namespace="Deploy/Inference",
                                          Dimensions=[{"Name": "AutoScalingGroupName", "Value": f"{self.name}-nodes"}])["Metrics"]
        self.assertTrue({"QueueDepth", "SlotUtilization"} <= {metric["MetricName"] for metric in metrics}, metrics)


if __name__ == "__main__":
    unittest.main()
