"""The node's metrics publisher (Templates/node/metrics-publisher.sh) against the local AWS endpoint: it scrapes a
stand-in for inference-server's /metrics (values the test sets, behind an API key, over http or https) and publishes
with the AWS CLI as an IAM user holding only PutMetricData, as the node's instance profile would; what CloudWatch then
holds is read back by a second user. The clock the script reads (`date`) is pinned by a stand-in on PATH, so the
rate's interval is exact.

Run: python3 -m pytest Tests/PythonTests/test_metrics_publisher.py -q
"""
import http.server
import json
import os
import shlex
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from datetime import datetime, timedelta, timezone

import boto3

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCRIPT = os.path.join(ROOT, "Templates", "node", "metrics-publisher.sh")
LOCAL_AWS = os.path.join(ROOT, "scripts", "local-aws")
REGION = "us-east-1"
NAMESPACE = "Deploy/Inference"
API_KEY = "sk-" + "5e" * 32
# where systemd would put them; the script roots both in DEPLOY_NODE_ROOT
STATE_DIRECTORY = "/var/lib/metrics-publisher"
CREDENTIALS_DIRECTORY = "/run/credentials/metrics-publisher.service"
METRICS = {"QueueDepth": "Count", "ActiveSequences": "Count", "SlotUtilization": "Percent",
           "GeneratedTokensPerSecond": "Count/Second"}


def exposition(queue, active, parallel, generated):
    """What inference-server's /metrics says, cut to the families around the ones read (Metrics.render's shape)."""
    return (
        "# HELP inference_requests_total HTTP requests answered, by route and status.\n"
        "# TYPE inference_requests_total counter\n"
        'inference_requests_total{route="/metrics",status="200"} 7\n'
        "# HELP inference_generated_tokens_total Tokens generated.\n# TYPE inference_generated_tokens_total counter\n"
        f"inference_generated_tokens_total {generated}\n"
        'inference_token_latency_seconds_bucket{le="0.005"} 0\n'
        "# HELP inference_queue_depth Requests waiting for a slot.\n# TYPE inference_queue_depth gauge\n"
        f"inference_queue_depth {queue}\n"
        "# HELP inference_active_sequences Sequences being generated now.\n# TYPE inference_active_sequences gauge\n"
        f"inference_active_sequences {active}\n"
        "# HELP inference_parallel_slots Sequences that can be generated at once.\n# TYPE inference_parallel_slots gauge\n"
        f"inference_parallel_slots {parallel}\n"
        "# TYPE inference_kv_cache_tokens gauge\ninference_kv_cache_tokens 4096\n"
    )


class FakeServer:
    """/metrics as inference-server answers it: 401 without the key, the text the test sets with it."""

    def __init__(self, tls=None):
        owner = self
        self.text = exposition(0, 0, 8, 0)
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests += 1
                if self.path != "/metrics":
                    status, body = 404, b"no route\n"
                elif self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    status, body = 401, b'{"error": {"message": "invalid API key"}}\n'
                else:
                    status, body = 200, owner.text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MetricsPublisherTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="metrics-publisher-")
        cls.endpoint_dir = os.path.join(cls.work, "aws")
        subprocess.run([LOCAL_AWS, "start", cls.endpoint_dir], check=True, capture_output=True, timeout=60)
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        cls.addClassCleanup(subprocess.run, [LOCAL_AWS, "stop", cls.endpoint_dir], capture_output=True)
        cls.aws = {}
        with open(os.path.join(cls.endpoint_dir, "env")) as lines:
            for line in lines:
                name, value = line.removeprefix("export ").rstrip("\n").split("=", 1)
                cls.aws[name] = shlex.split(value)[0] if value else ""

        admin = cls.client("iam", cls.aws["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"], cls.aws["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"])
        # the node role's grant, under AWS's action names (the local endpoint authorises CloudWatch as cloudwatch:);
        # the condition is the role's, which moto does not evaluate (it passes either way)
        cls.node_keys = cls.user(admin, "metrics-node", [{
            "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": NAMESPACE}}}])
        reader = cls.user(admin, "metrics-reader", [{
            "Effect": "Allow", "Resource": "*", "Action": ["cloudwatch:ListMetrics", "cloudwatch:GetMetricStatistics"]}])
        cls.cloudwatch = cls.client("cloudwatch", *reader)

        # `date` with the clock the test sets (DEPLOY_TEST_NOW, seconds since the epoch), any format
        cls.bin = os.path.join(cls.work, "bin")
        os.makedirs(cls.bin)
        with open(os.path.join(cls.bin, "date"), "w") as stand_in:
            stand_in.write(f'#!/bin/sh\nexec {shutil.which("date")} -d "@$DEPLOY_TEST_NOW" "$@"\n')
        os.chmod(os.path.join(cls.bin, "date"), 0o755)

    @classmethod
    def client(cls, service, key, secret):
        return boto3.client(service, region_name=REGION, endpoint_url=cls.aws["AWS_ENDPOINT_URL"],
                            verify=cls.aws["AWS_CA_BUNDLE"], aws_access_key_id=key, aws_secret_access_key=secret)

    @staticmethod
    def user(admin, name, statements):
        admin.create_user(UserName=name)
        admin.put_user_policy(UserName=name, PolicyName="grant",
                              PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
        key = admin.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def setUp(self):
        # each test its own node root and group, so that what one publishes is not another's
        self.root = tempfile.mkdtemp(dir=self.work)
        self.group = "inference-" + os.path.basename(self.root).replace("_", "-").lower()
        credentials = os.path.join(self.root, CREDENTIALS_DIRECTORY.lstrip("/"))
        os.makedirs(credentials)
        with open(os.path.join(credentials, "metrics-key"), "w") as out:
            out.write(API_KEY + "\n")
        self.server = FakeServer()
        self.addCleanup(self.server.close)
        self.outputs = []

    def tearDown(self):
        # neither the API key nor the AWS secret ever reaches the journal
        for output in self.outputs:
            self.assertNotIn(API_KEY, output)
            self.assertNotIn(self.node_keys[1], output)

    def run_publisher(self, now, **overrides):
        environment = {
            "PATH": self.bin + os.pathsep + os.environ["PATH"], "HOME": self.root,
            "AWS_CONFIG_FILE": os.path.join(self.root, "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.root, "no-credentials"),
            "AWS_ENDPOINT_URL": self.aws["AWS_ENDPOINT_URL"], "AWS_CA_BUNDLE": self.aws["AWS_CA_BUNDLE"],
            "AWS_ACCESS_KEY_ID": self.node_keys[0], "AWS_SECRET_ACCESS_KEY": self.node_keys[1],
            "NODE_REGION": REGION, "METRICS_NAMESPACE": NAMESPACE, "ASG_NAME": self.group, "PORT": str(self.server.port),
            "STATE_DIRECTORY": STATE_DIRECTORY, "CREDENTIALS_DIRECTORY": CREDENTIALS_DIRECTORY,
            "DEPLOY_NODE_ROOT": self.root, "DEPLOY_TEST_NOW": str(now),
        }
        environment.update(overrides)
        run = subprocess.run(["sh", SCRIPT], env=environment, capture_output=True, text=True, timeout=60)
        self.outputs += [run.stdout, run.stderr]
        return run

    def reading(self):
        with open(os.path.join(self.root, STATE_DIRECTORY.lstrip("/"), "generated-tokens")) as state:
            return state.read()

    def statistics(self, name, start):
        """Every data point of `name` in this test's group from `start` on, in one period, with its unit checked."""
        answer = self.cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE, MetricName=name, Dimensions=[{"Name": "AutoScalingGroupName", "Value": self.group}],
            StartTime=datetime.fromtimestamp(start - 60, timezone.utc), EndTime=datetime.fromtimestamp(start, timezone.utc) + timedelta(hours=1),
            Period=3600 * 2, Statistics=["SampleCount", "Minimum", "Maximum"], Unit=METRICS[name])
        points = answer["Datapoints"]
        if not points:
            return {"SampleCount": 0}
        self.assertEqual(len(points), 1, points)
        self.assertEqual(points[0]["Unit"], METRICS[name])
        return points[0]

    def published(self):
        metrics = self.cloudwatch.list_metrics(Namespace=NAMESPACE, Dimensions=[{"Name": "AutoScalingGroupName", "Value": self.group}])
        for metric in metrics["Metrics"]:
            self.assertEqual(metric["Dimensions"], [{"Name": "AutoScalingGroupName", "Value": self.group}])
        return {metric["MetricName"] for metric in metrics["Metrics"]}

    def test_two_runs_publish_the_gauges_then_the_rate_between_them(self):
        start = int(time.time()) - 300
        self.server.text = exposition(queue=3, active=6, parallel=8, generated=5000)
        first = self.run_publisher(start)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(self.reading(), f"{start} 5000\n")
        # no earlier reading: no rate yet
        self.assertEqual(self.published(), {"QueueDepth", "ActiveSequences", "SlotUtilization"})

        self.server.text = exposition(queue=1, active=2, parallel=8, generated=6200)
        second = self.run_publisher(start + 60)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("GeneratedTokensPerSecond=20.000", second.stdout)
        self.assertEqual(self.reading(), f"{start + 60} 6200\n")
        self.assertEqual(self.published(), set(METRICS))

        queue = self.statistics("QueueDepth", start)
        self.assertEqual((queue["SampleCount"], queue["Maximum"], queue["Minimum"]), (2, 3, 1))
        active = self.statistics("ActiveSequences", start)
        self.assertEqual((active["SampleCount"], active["Maximum"], active["Minimum"]), (2, 6, 2))
        utilization = self.statistics("SlotUtilization", start)
        self.assertEqual((utilization["Maximum"], utilization["Minimum"]), (75, 25))
        # 1200 tokens over the pinned 60 s
        rate = self.statistics("GeneratedTokensPerSecond", start)
        self.assertEqual((rate["SampleCount"], rate["Maximum"]), (1, 20))
        self.assertEqual(self.server.requests, 2)

    def test_a_counter_that_went_back_restarts_the_rate(self):
        start = int(time.time()) - 300
        state = os.path.join(self.root, STATE_DIRECTORY.lstrip("/"))
        os.makedirs(state)
        with open(os.path.join(state, "generated-tokens"), "w") as out:
            out.write(f"{start} 9000\n")
        # the server restarted: its counter begins again below the last reading
        self.server.text = exposition(queue=0, active=1, parallel=4, generated=100)
        restarted = self.run_publisher(start + 60)
        self.assertEqual(restarted.returncode, 0, restarted.stderr)
        self.assertNotIn("GeneratedTokensPerSecond", restarted.stdout)
        self.assertEqual(self.reading(), f"{start + 60} 100\n")
        self.assertEqual(self.published(), {"QueueDepth", "ActiveSequences", "SlotUtilization"})

        self.server.text = exposition(queue=0, active=1, parallel=4, generated=700)
        after = self.run_publisher(start + 120)
        self.assertEqual(after.returncode, 0, after.stderr)
        rate = self.statistics("GeneratedTokensPerSecond", start)
        self.assertEqual((rate["SampleCount"], rate["Minimum"], rate["Maximum"]), (1, 10, 10))
        self.assertEqual(self.statistics("SlotUtilization", start)["Maximum"], 25)

    def test_a_failed_scrape_publishes_nothing_and_fails(self):
        start = int(time.time()) - 300
        self.server.text = exposition(queue=2, active=2, parallel=8, generated=10)
        down = f"http://127.0.0.1:{free_port()}/metrics"
        cases = {
            "server down": ({"NODE_METRICS_URL": down}, "cannot read " + down),
            "no key": ({"CREDENTIALS_DIRECTORY": ""}, "returned error: 401"),
            "no such route": ({"NODE_METRICS_URL": f"http://127.0.0.1:{self.server.port}/nothing"}, "returned error: 404"),
        }
        for case, (overrides, reason) in cases.items():
            with self.subTest(case):
                run = self.run_publisher(start, **overrides)
                self.assertEqual(run.returncode, 1)
                self.assertEqual(run.stdout, "")
                self.assertEqual(len(run.stderr.splitlines()), 1, run.stderr)
                self.assertIn(reason, run.stderr)
                self.assertTrue(run.stderr.startswith("metrics-publisher: ") and run.stderr.endswith("; nothing published\n"))
        # a family missing from the text (another server, an older one) is a failed scrape too, never a zero
        self.server.text = "\n".join(line for line in exposition(2, 2, 8, 10).splitlines() if "queue_depth" not in line)
        missing = self.run_publisher(start)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("has no inference_queue_depth; nothing published", missing.stderr)
        self.assertEqual(self.published(), set())
        self.assertFalse(os.path.exists(os.path.join(self.root, STATE_DIRECTORY.lstrip("/"), "generated-tokens")))

    def test_a_refused_publish_fails_in_one_line_without_the_credentials(self):
        self.server.text = exposition(queue=2, active=2, parallel=8, generated=10)
        refused = self.run_publisher(int(time.time()) - 300, AWS_ACCESS_KEY_ID="AKIAEXAMPLEUNKNOWN00")
        self.assertEqual(refused.returncode, 1)
        self.assertEqual(len(refused.stderr.splitlines()), 1, refused.stderr)
        self.assertRegex(refused.stderr, r"^metrics-publisher: cannot publish to CloudWatch \(Deploy/Inference in us-east-1\): "
                                         r"An error occurred \(\w+\) when calling the PutMetricData operation.*; nothing published\n$")
        self.assertEqual(self.published(), set())

    def test_https_to_the_loopback_address_alone_skips_the_certificate_check(self):
        # the local endpoint's certificate names 127.0.0.1 and localhost, signed by a CA no client here trusts
        tls = os.path.join(self.endpoint_dir, "tls")
        server = FakeServer(tls=(os.path.join(tls, "server.pem"), os.path.join(tls, "server.key")))
        self.addCleanup(server.close)
        server.text = exposition(queue=5, active=8, parallel=8, generated=0)
        start = int(time.time()) - 300
        loopback = self.run_publisher(start, NODE_METRICS_URL=f"https://127.0.0.1:{server.port}/metrics")
        self.assertEqual(loopback.returncode, 0, loopback.stderr)
        self.assertEqual(self.statistics("SlotUtilization", start)["Maximum"], 100)
        for url in (f"https://localhost:{server.port}/metrics", f"https://127.0.0.1:{server.port}@localhost:{server.port}/metrics"):
            with self.subTest(url):
                other = self.run_publisher(start + 60, NODE_METRICS_URL=url)
                self.assertEqual(other.returncode, 1)
                self.assertIn("certificate", other.stderr)
        self.assertEqual(self.statistics("QueueDepth", start)["SampleCount"], 1)


if __name__ == "__main__":
    unittest.main()
