"""inference-server serve through the official OpenAI Python client (and httpx, prometheus-client's parser):
chat and completions, streaming, stop sequences, max_tokens, seeds, usage against the tokenizer's counts, the
errors as the client raises them, a load of 16 concurrent clients, the audit log, the metrics, and TLS.

Run by scripts/test after the Swift tests, against the debug build: python3 -m unittest discover -s Tests/PythonTests
"""
import concurrent.futures
import json
import os
import re
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import httpx
import openai
from prometheus_client.parser import text_string_to_metric_families

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BINARY = os.path.join(ROOT, ".build", "debug", "inference-server")
MODEL = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "models", "llama-q8_0.gguf")


def start_serve(arguments):
    """Starts `inference-server serve` with `arguments` (on port 0) and waits for its listening line: the process and
    its base URL."""
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r"listening on (https?)://127\.0\.0\.1:(\d+)", line)
    if not match:
        process.kill()
        raise RuntimeError("serve did not start: " + line + process.stderr.read())
    return process, f"{match.group(1)}://127.0.0.1:{match.group(2)}"


class Server:
    """A serve process on a free loopback port, with a fresh key and audit log."""

    def __init__(self, *extra, tls=None):
        self.directory = tempfile.mkdtemp(prefix="inference-py-")
        self.keys = os.path.join(self.directory, "keys.json")
        self.audit = os.path.join(self.directory, "audit.jsonl")
        self.key = subprocess.run([BINARY, "keys", "add", "ci", "--keys", self.keys], check=True, capture_output=True, text=True).stdout.strip()
        arguments = [BINARY, "serve", "--model", MODEL, "--port", "0", "--keys", self.keys, "--audit-log", self.audit,
                     "--parallel", "8", "--ctx", "256", "--threads", "2", "--model-id", "qwen2-test", "--rate-limit", "0", *extra]
        if tls:
            arguments += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.process, self.base = start_serve(arguments)

    def client(self, **options):
        options.setdefault("api_key", self.key)
        return openai.OpenAI(base_url=self.base + "/v1", max_retries=0, **options)

    def stop(self):
        self.process.terminate()
        code = self.process.wait(timeout=30)
        self.process.stdout.close()
        self.process.stderr.close()
        return code


class OpenAIClientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.client = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"SIGTERM ends serve with 0, not {code}"

    def tokens(self, text):
        output = subprocess.run([BINARY, "tokenize", "--model", MODEL, "--text", text, "--add-bos"], check=True, capture_output=True, text=True)
        return len(output.stdout.split())

    def test_chat_and_usage(self):
        reply = self.client.chat.completions.create(model="qwen2-test", messages=[{"role": "user", "content": "Hello"}],
                                                    max_tokens=6, temperature=0)
        self.assertEqual(reply.object, "chat.completion")
        self.assertEqual(reply.choices[0].message.role, "assistant")
        self.assertEqual(reply.choices[0].finish_reason, "length")
        self.assertEqual(reply.usage.completion_tokens, 6)
        self.assertEqual(reply.usage.total_tokens, reply.usage.prompt_tokens + 6)

    def test_completion_usage_matches_tokenizer(self):
        prompt = "Once upon a time"
        reply = self.client.completions.create(model="qwen2-test", prompt=prompt, max_tokens=5, temperature=0)
        self.assertEqual(reply.usage.prompt_tokens, self.tokens(prompt))
        self.assertEqual(reply.usage.completion_tokens, 5)
        greedy = subprocess.run([BINARY, "generate", "--model", MODEL, "--prompt", prompt, "--max-tokens", "5", "--temperature", "0",
                                 "--threads", "2"], check=True, capture_output=True, text=True).stdout
        self.assertEqual(reply.choices[0].text, greedy, "the server gives generate's greedy text")

    def test_streaming(self):
        stream = self.client.chat.completions.create(model="qwen2-test", messages=[{"role": "user", "content": "Hi"}], max_tokens=5,
                                                     temperature=0, stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
        self.assertEqual(chunks[0].choices[0].delta.role, "assistant")
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
        whole = self.client.chat.completions.create(model="qwen2-test", messages=[{"role": "user", "content": "Hi"}], max_tokens=5, temperature=0)
        self.assertEqual(text, whole.choices[0].message.content)
        finishes = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
        self.assertEqual(finishes, ["length"])
        self.assertEqual(chunks[-1].usage.completion_tokens, 5)
        text_stream = list(self.client.completions.create(model="qwen2-test", prompt="Hello", max_tokens=3, temperature=0, stream=True))
        self.assertTrue(text_stream and text_stream[-1].choices[0].finish_reason == "length")

    def test_seeds_and_stop(self):
        ask = lambda seed: self.client.completions.create(model="qwen2-test", prompt="The llama", max_tokens=12, temperature=1.0,
                                                          seed=seed).choices[0].text
        self.assertEqual(ask(7), ask(7))
        self.assertNotEqual(ask(7), ask(8))
        free = self.client.completions.create(model="qwen2-test", prompt="The llama", max_tokens=12, temperature=0).choices[0].text
        self.assertGreater(len(free), 4, "twelve greedy tokens give text to cut")
        stop = free[2:4]
        stopped = self.client.completions.create(model="qwen2-test", prompt="The llama", max_tokens=12, temperature=0, stop=[stop])
        self.assertEqual(stopped.choices[0].finish_reason, "stop")
        self.assertEqual(stopped.choices[0].text, free[:free.index(stop)])

    def test_errors_as_the_client_raises_them(self):
        with self.assertRaises(openai.AuthenticationError):
            self.server.client(api_key="sk-wrong").models.list()
        with self.assertRaises(openai.BadRequestError) as caught:
            self.client.chat.completions.create(model="qwen2-test", messages=[{"role": "user", "content": "x"}], temperature=5)
        self.assertEqual(caught.exception.body["param"], "temperature")
        with self.assertRaises(openai.NotFoundError):
            self.client.models.retrieve("gpt-9")
        with self.assertRaises(openai.BadRequestError) as long:
            self.client.completions.create(model="qwen2-test", prompt="word " * 600)
        self.assertEqual(long.exception.code, "context_length_exceeded")
        self.assertEqual([model.id for model in self.client.models.list()], ["qwen2-test"])

    def test_metrics_parse_with_prometheus_client(self):
        self.client.completions.create(model="qwen2-test", prompt="Hello", max_tokens=2)
        text = httpx.get(self.server.base + "/metrics", headers={"Authorization": f"Bearer {self.server.key}"}).text
        families = {family.name: family for family in text_string_to_metric_families(text)}
        self.assertIn("inference_requests", families)
        self.assertIn("inference_time_to_first_token_seconds", families)
        self.assertEqual(families["inference_time_to_first_token_seconds"].type, "histogram")
        self.assertGreater(sum(sample.value for sample in families["inference_generated_tokens"].samples), 0)


class ShutdownTests(unittest.TestCase):
    def test_sigterm_finishes_the_stream_in_flight_then_exits_zero(self):
        server = Server()
        stream = server.client().completions.create(model="qwen2-test", prompt="Once", max_tokens=200, stream=True)
        chunks = iter(stream)
        first = next(chunks)
        server.process.terminate()
        rest = list(chunks)
        # ran to its end: a finish reason came (the random-weight model may also end it with its end-of-sequence token)
        self.assertIn((rest or [first])[-1].choices[0].finish_reason, ("length", "stop"), "the stream in flight ran to its end")
        self.assertEqual(server.process.wait(timeout=30), 0)
        with self.assertRaises(openai.APIConnectionError):
            server.client().models.list()
        with open(server.audit) as log:
            self.assertEqual(len(log.readlines()), 1, "its audit record was written before exit")
        server.process.stdout.close()
        server.process.stderr.close()

    def test_drain_limit_ends_what_still_runs_with_an_error_then_exits_zero(self):
        # --drain-seconds 0: at SIGTERM nothing has time to finish. Thirty-two streams on eight slots keep the
        # server busy for seconds, so the signal lands while most of them run or wait; each ends with an error
        # event instead of a finish reason and [DONE], and serve exits 0 at once rather than when they are done.
        server = Server("--drain-seconds", "0")
        endings, started = [], threading.Barrier(33)

        def stream():
            body = {"model": "qwen2-test", "prompt": "Once", "max_tokens": 240, "stream": True, "temperature": 0}
            lines = []
            try:
                with httpx.stream("POST", server.base + "/v1/completions", json=body, timeout=60,
                                  headers={"Authorization": f"Bearer {server.key}"}) as response:
                    started.wait(timeout=30)
                    lines = [line for line in response.iter_lines() if line.startswith("data: ")]
            except httpx.HTTPError:
                pass
            endings.append(lines)

        threads = [threading.Thread(target=stream) for _ in range(32)]
        for thread in threads:
            thread.start()
        started.wait(timeout=30)
        signalled = time.monotonic()
        server.process.terminate()
        self.assertEqual(server.process.wait(timeout=30), 0)
        stopped = time.monotonic() - signalled
        for thread in threads:
            thread.join(timeout=30)
        cut = [lines for lines in endings if not lines or lines[-1] != "data: [DONE]"]
        self.assertGreater(len(cut), 0, "some streams were still running at the signal")
        self.assertTrue(any('"error"' in line for lines in cut for line in lines[-1:]), "a cut stream's last event is an error")
        self.assertLess(stopped, 10, f"serve took {stopped:.1f} s to stop with nothing left to finish")
        self.assertIn("at most 0 s", server.process.stderr.read())
        server.process.stdout.close()
        server.process.stderr.close()


class LoadTests(unittest.TestCase):
    def test_sixteen_clients_three_hundred_requests(self):
        # sixteen clients share one address here, through one pool that may hold more than sixteen sockets at a moment
        server = Server()
        try:
            client = server.client()

            def one(index):
                if index % 3 == 0:
                    chunks = list(client.completions.create(model="qwen2-test", prompt=f"Request {index}", max_tokens=6, stream=True))
                    return bool(chunks)
                reply = client.chat.completions.create(model="qwen2-test", messages=[{"role": "user", "content": f"Request {index}"}], max_tokens=6)
                return reply.usage.completion_tokens > 0

            with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
                results = list(pool.map(one, range(300)))
            self.assertEqual(results.count(True), 300)
        finally:
            self.assertEqual(server.stop(), 0)
        with open(server.audit) as log:
            records = [json.loads(line) for line in log]
        self.assertEqual(len(records), 300, "exactly one audit record per request")
        self.assertTrue(all(record["status"] == 200 for record in records))
        verified = subprocess.run([BINARY, "audit", "verify", server.audit], capture_output=True, text=True)
        self.assertEqual(verified.returncode, 0, verified.stderr)
        self.assertIn("300 records", verified.stdout)


class TLSTests(unittest.TestCase):
    def test_openai_client_over_tls_with_a_test_ca(self):
        directory = tempfile.mkdtemp(prefix="inference-tls-")
        path = lambda name: os.path.join(directory, name)
        with open(path("ext.cnf"), "w") as extension:
            extension.write("subjectAltName=IP:127.0.0.1\n")
        for arguments in (
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
             "-out", path("server.pem"), "-days", "2", "-extfile", path("ext.cnf")],
        ):
            subprocess.run(["openssl", *arguments], check=True, capture_output=True)
        server = Server(tls=(path("server.pem"), path("server.key")))
        try:
            self.assertTrue(server.base.startswith("https://"))
            client = server.client(http_client=httpx.Client(verify=ssl.create_default_context(cafile=path("ca.pem"))))
            reply = client.chat.completions.create(model="qwen2-test", messages=[{"role": "user", "content": "Hi"}], max_tokens=3)
            self.assertEqual(reply.usage.completion_tokens, 3)
            with self.assertRaises(openai.APIConnectionError):
                server.client().models.list()
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
