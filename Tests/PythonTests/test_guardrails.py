"""inference-server serve --policy through the official OpenAI Python client (and httpx, prometheus-client's parser):
masking with typed placeholders and their restoring (pseudonymization), whole and streamed (a masked value never
leaves in pieces), the audit record that keeps only placeholders, input and output blocks, quotas under 32 racing
clients, concurrent streams and a restart, the policy's hot reload (a good edit replaces it, a bad one is refused
with its file:line:col and counted), control tokens in user content read as text, and a start with a bad policy.

The test model has random weights; to make it write a chosen text, a request asks for a JSON schema whose value is
a constant: the answer is that JSON string, with white space around it.

Run by scripts/test after the Swift tests, against the debug build: python3 -m unittest discover -s Tests/PythonTests
"""
import concurrent.futures
import hashlib
import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import httpx
import openai
from prometheus_client.parser import text_string_to_metric_families

from test_openai_client import start_serve

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BINARY = os.path.join(ROOT, ".build", "debug", "inference-server")
MODEL = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "models", "llama-q8_0.gguf")
MODEL_ID = "guard-test"


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def write_atomically(path, text):
    """A new file in place of the old (a new inode, so the server's stat sees the change whatever the mtime)."""
    temporary = path + ".tmp"
    with open(temporary, "w") as file:
        file.write(text)
    os.replace(temporary, path)


def token_count(text, parse_special=True):
    """The tokens of `text` with the beginning of sequence, as the server counts a prompt."""
    arguments = [BINARY, "tokenize", "--model", MODEL, "--text", text, "--add-bos"] + ([] if parse_special else ["--no-parse-special"])
    return len(subprocess.run(arguments, check=True, capture_output=True, text=True).stdout.split())


def constant(text):
    """A response_format that makes the model write `text` (as a JSON string)."""
    return {"type": "json_schema", "json_schema": {"name": "x", "schema": {"const": text}}}


class Server:
    """A serve process with a policy file on a free loopback port, with one key per name and a fresh audit log.
    stderr is read all along (the policy's reload messages come there while it runs)."""

    def __init__(self, policy, names=("ci",), *extra):
        self.directory = tempfile.mkdtemp(prefix="inference-guard-")
        self.policy = os.path.join(self.directory, "policy.json5")
        self.keys = os.path.join(self.directory, "keys.json")
        self.audit = os.path.join(self.directory, "audit.jsonl")
        with open(self.policy, "w") as file:
            file.write(policy)
        self.key = {name: subprocess.run([BINARY, "keys", "add", name, "--keys", self.keys], check=True, capture_output=True,
                                         text=True).stdout.strip() for name in names}
        self.arguments = [BINARY, "serve", "--model", MODEL, "--port", "0", "--keys", self.keys, "--audit-log", self.audit,
                          "--parallel", "8", "--ctx", "256", "--threads", "2", "--model-id", MODEL_ID, "--rate-limit", "0",
                          "--policy", self.policy, *extra]
        self.start()

    def start(self):
        self.errors = []
        self.process, self.base = start_serve(self.arguments)
        self.reader = threading.Thread(target=lambda: self.errors.extend(self.process.stderr), daemon=True)
        self.reader.start()

    def stderr(self):
        return "".join(self.errors)

    def client(self, name="ci", **options):
        return openai.OpenAI(base_url=self.base + "/v1", api_key=self.key[name], max_retries=0, **options)

    def metrics(self):
        response = httpx.get(self.base + "/metrics", headers={"Authorization": f"Bearer {self.key['ci']}"})
        response.raise_for_status()
        return response.text

    def samples(self, name):
        """The samples of one metric family: {frozenset of label items: value}."""
        for family in text_string_to_metric_families(self.metrics()):
            if family.name == name:
                return {frozenset(sample.labels.items()): sample.value for sample in family.samples if sample.name.startswith(name)}
        return {}

    def policy_digests(self):
        return [dict(labels)["sha256"] for labels in self.samples("inference_guardrail_policy_info")]

    def records(self):
        with open(self.audit) as log:
            return [json.loads(line) for line in log if line.strip()]

    def record(self, request_id):
        """The audit record of one request (written before its answer; polled a moment in case)."""
        for _ in range(50):
            found = [record for record in self.records() if record.get("requestId") == request_id]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no audit record for {request_id}")

    def stop(self):
        self.process.terminate()
        code = self.process.wait(timeout=30)
        self.reader.join(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()
        return code


MAIN_POLICY = """{
  version: 1,
  default: {
    detectors: { email: "mask", phone: "mask", payment_card: { input: "block", output: "mask" }, aws_secret_key: "block" },
    words: [ { name: "codenames", phrases: ["Project Falcon"], action: "mask" } ],
    patterns: [ { name: "employee-id", regex: "EMP-[0-9]{6}", action: "mask" } ],
    pseudonymize: true,
    record_matches: false,
    control_tokens: "text",
    stream_window: 64,
  },
  profiles: [
    // the same rules, the model's placeholders left as they are
    { name: "plain", identities: ["plain"], pseudonymize: false },
    // an address may be asked about, never answered with
    { name: "outblock", identities: ["outblock"], detectors: { email: { input: "allow", output: "block" } } },
    { name: "raw", identities: ["raw"], control_tokens: "allow" },
  ],
}
"""

PROMPT = "mail jane.doe@example.com about Project  FALCON"
# long enough that a stream sends most of it before the end, in pieces of a token or two, with the addresses inside
ANSWER = ("one two three four five six seven eight nine ten, [EMAIL_1] and [CODENAMES_1] x ops@example.org y, "
          "then eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty")
# what the caller gets: the request's own values restored, the model's own address masked
RESTORED = "ten, jane.doe@example.com and Project  FALCON x [EMAIL_2] y, then"
# what the model wrote as the audit log keeps it (and the caller gets without pseudonymization)
MASKED = "ten, [EMAIL_1] and [CODENAMES_1] x [EMAIL_2] y, then"


class GuardrailTests(unittest.TestCase):
    """Masking, restoring, blocking and control tokens, on one server under MAIN_POLICY."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(MAIN_POLICY, ("ci", "plain", "outblock", "raw"))

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"SIGTERM ends serve with 0, not {code}"

    def ask(self, name="ci", prompt=PROMPT, answer=ANSWER, **options):
        """A chat completion made to write `answer`: (the message's text, its request id)."""
        raw = self.server.client(name).chat.completions.with_raw_response.create(
            model=MODEL_ID, messages=[{"role": "user", "content": prompt}], max_tokens=200, temperature=0,
            response_format=constant(answer), **options)
        reply = raw.parse()
        self.assertEqual(reply.choices[0].finish_reason, "stop", "the model wrote the whole constant")
        return reply.choices[0].message.content, raw.headers["x-request-id"]

    def ask_streamed(self, name="ci", prompt=PROMPT, answer=ANSWER):
        """The same, streamed: the content of each chunk, and the request id."""
        raw = self.server.client(name).chat.completions.with_raw_response.create(
            model=MODEL_ID, messages=[{"role": "user", "content": prompt}], max_tokens=200, temperature=0,
            response_format=constant(answer), stream=True)
        chunks = list(raw.parse())
        finishes = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
        self.assertEqual(finishes, ["stop"])
        return [chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices], raw.headers["x-request-id"]

    def assert_no_pieces(self, chunks, whole=()):
        """No chunk carries part of an address or a codename: a value the caller may see (in `whole`) comes in one
        chunk, and any other never, not even in part (the model's own address goes out only as its placeholder)."""
        for chunk in chunks:
            rest = chunk
            for value in whole:
                rest = rest.replace(value, "")
            for piece in ("@", "ops", "example", "jane", "doe", "Project", "FALCON", "Falcon"):
                self.assertNotIn(piece, rest, f"a chunk carried (part of) a masked value: {chunk!r} (chunks: {chunks!r})")

    # masking and restoring

    def test_input_values_come_back_to_the_caller(self):
        text, _ = self.ask()
        # the model saw only the placeholders; the caller gets the values back, as they were written
        self.assertIn("ten, jane.doe@example.com and Project  FALCON x ", text)

    def test_the_models_own_address_stays_masked(self):
        # an address the model wrote itself is not the caller's: it is masked as the next placeholder and stays one
        text, _ = self.ask()
        self.assertNotIn("ops@example.org", text)
        self.assertIn(RESTORED, text)

    def test_without_pseudonymization_the_answer_keeps_the_placeholders(self):
        text, _ = self.ask("plain")
        self.assertIn(MASKED, text)
        self.assertNotIn("@", text)

    def test_stream_restores_the_requests_values_as_a_whole_answer_does(self):
        whole, _ = self.ask()
        chunks, _ = self.ask_streamed()
        self.assertGreater(len([chunk for chunk in chunks if chunk]), 3, "the answer came in several chunks (one per half window judged), not all at its end")
        streamed = "".join(chunks)
        for placeholder in ("[EMAIL_1]", "[CODENAMES_1]"):
            self.assertNotIn(placeholder, streamed, f"a placeholder of the request's own value reached the caller unrestored: {chunks!r}")
        self.assertIn("ten, jane.doe@example.com and Project  FALCON x ", streamed)
        self.assertEqual(streamed, whole, "the streamed answer is the whole answer")

    def test_stream_never_sends_a_masked_value_in_pieces(self):
        chunks, _ = self.ask_streamed()
        self.assertNotIn("ops@example.org", "".join(chunks))
        self.assert_no_pieces(chunks, ["jane.doe@example.com", "Project  FALCON"])

    def test_stream_without_pseudonymization(self):
        whole, _ = self.ask("plain")
        chunks, _ = self.ask_streamed("plain")
        self.assertGreater(len([chunk for chunk in chunks if chunk]), 3, "the answer came in several chunks (one per half window judged), not all at its end")
        self.assertEqual("".join(chunks), whole)
        self.assertIn(MASKED, "".join(chunks))
        self.assert_no_pieces(chunks)

    def test_audit_record_keeps_placeholders_never_values(self):
        _, whole_id = self.ask()
        _, stream_id = self.ask_streamed()
        digest = sha256(MAIN_POLICY)
        for request_id in (whole_id, stream_id):
            record = self.server.record(request_id)
            self.assertEqual(record["status"], 200)
            self.assertIn("mail [EMAIL_1] about [CODENAMES_1]", record["prompt"])
            self.assertIn(MASKED, record["completion"])
            guardrails = record["guardrails"]
            self.assertEqual(guardrails["policy"], digest, "the record names the policy by the SHA-256 of its file")
            self.assertEqual(guardrails["profile"], "default")
            self.assertIsInstance(guardrails["microseconds"], int)
            decisions = {(d["rule"], d["direction"], d["action"]): d for d in guardrails["decisions"]}
            self.assertEqual(decisions[("email", "input", "mask")]["count"], 1)
            self.assertEqual(decisions[("codenames", "input", "mask")]["count"], 1)
            self.assertEqual(decisions[("email", "output", "mask")]["count"], 1)
            self.assertTrue(all("matches" not in d for d in guardrails["decisions"]), "record_matches is off")
        with open(self.server.audit) as log:
            content = log.read()
        for value in ("jane.doe@example.com", "Project  FALCON", "ops@example.org"):
            self.assertNotIn(value, content, "a masked value reached the audit log")

    def test_a_stream_its_client_cuts_keeps_placeholders_in_the_audit_log(self):
        """The client resets the connection once its own address has come back to it: the record of what reached it
        keeps the placeholder (found by a hostile review: it kept the restored address)."""
        body = {"model": MODEL_ID, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 200, "temperature": 0,
                "response_format": constant(ANSWER + " and" * 25), "stream": True}
        request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   f"Authorization: Bearer {self.server.key['ci']}\r\nContent-Length: {len(json.dumps(body))}\r\n\r\n{json.dumps(body)}")
        host, port = self.server.base.rsplit("/", 1)[1].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(request.encode())
            seen = b""
            while b"jane.doe@example.com" not in seen:
                data = connection.recv(4096)
                self.assertTrue(data, "the stream ended before the address came back")
                seen += data
            request_id = re.search(rb"X-Request-Id: (\S+)", seen, re.IGNORECASE).group(1).decode()
            # a reset, not a polite close: the server's next write fails
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        record = self.server.record(request_id)
        self.assertNotIn("jane.doe@example.com", json.dumps(record), "the caller's restored address reached the audit log")
        self.assertIn("[EMAIL_1]", record["completion"])

    # blocks

    def test_input_block_names_the_rule_not_the_value(self):
        card = "4111 1111 1111 1111"
        with self.assertRaises(openai.BadRequestError) as caught:
            self.server.client().chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": f"pay with {card} today"}],
                                                         max_tokens=5)
        error = caught.exception
        self.assertEqual(error.code, "guardrail_blocked")
        self.assertIn("rule 'payment_card'", error.message)
        self.assertEqual(error.body["param"], "messages[0].content")
        self.assertNotIn("4111", json.dumps(error.body))
        request_id = error.response.headers["x-request-id"]
        with self.assertRaises(openai.BadRequestError) as streamed:
            self.server.client().completions.create(model=MODEL_ID, prompt=f"card {card}", max_tokens=5, stream=True)
        self.assertEqual(streamed.exception.code, "guardrail_blocked")
        self.assertEqual(streamed.exception.body["param"], "prompt")
        record = self.server.record(request_id)
        self.assertEqual(record["status"], 400)
        self.assertEqual([(d["rule"], d["direction"], d["action"], d["count"]) for d in record["guardrails"]["decisions"]],
                         [("payment_card", "input", "block", 1)])
        with open(self.server.audit) as log:
            self.assertNotIn("4111", log.read())

    def test_stop_sequences_are_judged_by_the_input_rules(self):
        """A blocked value in a stop sequence is a 400 naming `stop`, and no stop sequence reaches the audit log raw
        (found by a hostile review: they were recorded before they were judged); a masked one is kept masked."""
        with self.assertRaises(openai.BadRequestError) as caught:
            self.server.client().chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "hello"}], max_tokens=5,
                                                         stop=["bob@example.com", "4111 1111 1111 1111"])
        self.assertEqual((caught.exception.code, caught.exception.body["param"]), ("guardrail_blocked", "stop"))
        record = self.server.record(caught.exception.response.headers["x-request-id"])
        self.assertNotIn("bob@example.com", json.dumps(record))
        self.assertNotIn("4111", json.dumps(record))
        raw = self.server.client().chat.completions.with_raw_response.create(
            model=MODEL_ID, messages=[{"role": "user", "content": "hello"}], max_tokens=3, stop=["carol@example.com"])
        self.assertEqual(self.server.record(raw.headers["x-request-id"])["parameters"]["stop"], ["[EMAIL_1]"])

    def test_output_block_whole(self):
        with self.assertRaises(openai.BadRequestError) as caught:
            self.ask("outblock", prompt="who do I write to?", answer="write to ops@example.org today")
        error = caught.exception
        self.assertEqual(error.code, "guardrail_blocked")
        self.assertIn("rule 'email'", error.message)
        self.assertNotIn("ops@", json.dumps(error.body))
        self.assertNotIn("example.org", json.dumps(error.body))
        record = self.server.record(error.response.headers["x-request-id"])
        self.assertEqual(record["status"], 400)
        self.assertIn(("email", "output", "block"), [(d["rule"], d["direction"], d["action"]) for d in record["guardrails"]["decisions"]])

    def test_output_block_streamed_ends_with_an_error_event(self):
        body = {"model": MODEL_ID, "messages": [{"role": "user", "content": "who do I write to?"}], "max_tokens": 80, "temperature": 0,
                "stream": True, "response_format": constant("write to ops@example.org today")}
        with httpx.stream("POST", self.server.base + "/v1/chat/completions", json=body, timeout=30,
                          headers={"Authorization": f"Bearer {self.server.key['outblock']}"}) as response:
            self.assertEqual(response.status_code, 200, "the stream had begun when the rule found the address")
            request_id = response.headers["x-request-id"]
            events = [line[len("data: "):] for line in response.iter_lines() if line.startswith("data: ")]
        self.assertNotIn("[DONE]", events)
        last = json.loads(events[-1])
        self.assertEqual(last["error"]["code"], "guardrail_blocked")
        self.assertIn("rule 'email'", last["error"]["message"])
        for event in events:
            self.assertNotIn("ops@", event)
            self.assertNotIn("example.org", event)
        content = [json.loads(event)["choices"][0]["delta"].get("content") or "" for event in events[:-1]]
        self.assertNotIn("@", "".join(content))
        record = self.server.record(request_id)
        self.assertEqual(record["status"], 400)
        self.assertFalse(record.get("completed", False))
        self.assertIn(("email", "output", "block"), [(d["rule"], d["direction"], d["action"]) for d in record["guardrails"]["decisions"]])
        self.assertNotIn("example.org", json.dumps(record))
        # and as the official client sees it: an error while iterating
        stream = self.server.client("outblock").chat.completions.create(
            model=MODEL_ID, messages=[{"role": "user", "content": "who do I write to?"}], max_tokens=80, temperature=0, stream=True,
            response_format=constant("write to ops@example.org today"))
        received = []
        with self.assertRaises(openai.APIError) as caught:
            for chunk in stream:
                received.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
        self.assertIn("rule 'email'", caught.exception.message)
        self.assertNotIn("@", "".join(received))

    # control tokens

    def test_control_tokens_in_user_content_are_text(self):
        content = "a </s> b <s> c"
        usage, prompts = {}, {}
        for name in ("ci", "raw"):
            raw = self.server.client(name).chat.completions.with_raw_response.create(
                model=MODEL_ID, messages=[{"role": "user", "content": content}], max_tokens=2, temperature=0)
            usage[name] = raw.parse().usage.prompt_tokens
            prompts[name] = self.server.record(raw.headers["x-request-id"])["prompt"]
        self.assertEqual(prompts["ci"], prompts["raw"])
        self.assertIn(content, prompts["ci"])
        as_text, as_control = token_count(prompts["ci"], parse_special=False), token_count(prompts["ci"])
        self.assertNotEqual(as_text, as_control, "the prompt's tokens differ when </s> and <s> are control tokens")
        self.assertEqual(usage["ci"], as_text, "under control_tokens: text, </s> in a message is the text '</s>'")
        self.assertEqual(usage["raw"], as_control, "under control_tokens: allow, </s> in a message is the end-of-sequence token")
        # the completions prompt is the caller's text throughout
        reply = self.server.client().completions.create(model=MODEL_ID, prompt=content, max_tokens=2, temperature=0)
        self.assertEqual(reply.usage.prompt_tokens, token_count(content, parse_special=False))
        allowed = self.server.client("raw").completions.create(model=MODEL_ID, prompt=content, max_tokens=2, temperature=0)
        self.assertEqual(allowed.usage.prompt_tokens, token_count(content))

    # metrics

    def test_metrics_name_the_policy_and_count_decisions(self):
        with self.assertRaises(openai.BadRequestError):
            self.server.client().completions.create(model=MODEL_ID, prompt="key EMP-123456 card 4111 1111 1111 1111", max_tokens=2)
        self.server.client().completions.create(model=MODEL_ID, prompt="ask EMP-654321 or +1 415 555 0100", max_tokens=2)
        self.assertEqual(self.server.policy_digests(), [sha256(MAIN_POLICY)])
        failures = self.server.samples("inference_guardrail_policy_reload_failures")
        self.assertEqual(list(failures.values()), [0])
        requests = {tuple(sorted(labels)): value for labels, value in self.server.samples("inference_guardrail_requests").items()}
        key = lambda rule, direction, action: (("action", action), ("direction", direction), ("rule", rule))
        self.assertGreaterEqual(requests.get(key("payment_card", "input", "block"), 0), 1)
        self.assertGreaterEqual(requests.get(key("employee-id", "input", "mask"), 0), 1)
        self.assertGreaterEqual(requests.get(key("phone", "input", "mask"), 0), 1)


QUOTA_PROMPT = "Hello"
QUOTA_MAX_TOKENS = 8


class QuotaTests(unittest.TestCase):
    """Quotas on one server: tight-* share a profile with a small token budget a minute (each key its own), pair may
    have two requests in flight; ci has no quota."""

    @classmethod
    def setUpClass(cls):
        cls.reserved = token_count(QUOTA_PROMPT) + QUOTA_MAX_TOKENS
        cls.budget = 5 * cls.reserved + cls.reserved // 2
        cls.policy = f"""{{
  version: 1,
  profiles: [
    {{ name: "tight", identities: ["tight-*"], quotas: {{ tokens_per_minute: {cls.budget} }} }},
    {{ name: "pair", identities: ["pair"], quotas: {{ concurrent_requests: 2 }} }},
  ],
}}
"""
        cls.server = Server(cls.policy, ("ci", "tight-race", "tight-big", "pair"))

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, f"SIGTERM ends serve with 0, not {code}"

    def assert_retry_after(self, error):
        value = error.response.headers.get("retry-after")
        self.assertIsNotNone(value, "a 429 of a quota says when to retry")
        self.assertRegex(value, r"^[0-9]+$")
        self.assertGreaterEqual(int(value), 1)

    def test_thirty_two_clients_race_one_budget(self):
        # every request reserves its prompt and max_tokens and uses all of it (greedy, no stop: it runs to the length)
        with self.server.client() as free:
            probe = free.completions.create(model=MODEL_ID, prompt=QUOTA_PROMPT, max_tokens=QUOTA_MAX_TOKENS, temperature=0)
        self.assertEqual(probe.choices[0].finish_reason, "length")
        self.assertEqual(probe.usage.total_tokens, self.reserved)

        client = self.server.client("tight-race")
        barrier = threading.Barrier(32)

        def one(_):
            barrier.wait(timeout=30)
            try:
                return client.completions.create(model=MODEL_ID, prompt=QUOTA_PROMPT, max_tokens=QUOTA_MAX_TOKENS, temperature=0)
            except openai.RateLimitError as error:
                return error

        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(one, range(32)))
        served = [result for result in results if not isinstance(result, Exception)]
        refused = [result for result in results if isinstance(result, Exception)]
        self.assertEqual(len(served) + len(refused), 32)
        self.assertLessEqual(sum(reply.usage.total_tokens for reply in served), self.budget)
        for reply in served:
            self.assertEqual(reply.choices[0].finish_reason, "length")
            self.assertEqual(reply.usage.total_tokens, self.reserved)
        self.assertEqual(len(served), self.budget // self.reserved, "as many as the budget holds, no more, no fewer")
        for error in refused:
            self.assertEqual(error.status_code, 429)
            self.assertEqual(error.code, "quota_exceeded")
            self.assertIn("tokens_per_minute", error.message)
            self.assert_retry_after(error)
        # the budget is spent: a later request is refused too
        with self.assertRaises(openai.RateLimitError) as later:
            client.completions.create(model=MODEL_ID, prompt=QUOTA_PROMPT, max_tokens=QUOTA_MAX_TOKENS, temperature=0)
        self.assertEqual(later.exception.code, "quota_exceeded")
        self.assert_retry_after(later.exception)
        client.close()
        counted = {dict(labels)["limit"]: value for labels, value in self.server.samples("inference_quota_refused").items()}
        self.assertGreaterEqual(counted.get("tokens_per_minute", 0), len(refused) + 1)

    def test_a_request_larger_than_the_limit(self):
        with self.server.client("tight-big") as client:
            with self.assertRaises(openai.RateLimitError) as caught:
                client.completions.create(model=MODEL_ID, prompt=QUOTA_PROMPT, max_tokens=self.budget, temperature=0)
            error = caught.exception
            self.assertEqual(error.code, "quota_request_too_large")
            self.assertIn("tokens_per_minute", error.message)
            self.assertIsNone(error.response.headers.get("retry-after"), "waiting would not help")
            # max_tokens is capped at the context left: 10^6 reserves no more than the slot holds, still too large here
            with self.assertRaises(openai.RateLimitError) as huge:
                client.completions.create(model=MODEL_ID, prompt=QUOTA_PROMPT, max_tokens=1_000_000, temperature=0)
            self.assertIn(f"may use {256} tokens", huge.exception.message)
            # nothing was reserved: the key's budget is whole
            reply = client.completions.create(model=MODEL_ID, prompt=QUOTA_PROMPT, max_tokens=QUOTA_MAX_TOKENS, temperature=0)
            self.assertEqual(reply.usage.total_tokens, self.reserved)

    def test_concurrent_requests_with_streams_held_open(self):
        # keep every slot busy (and a queue behind it) with another key's work, so that pair's streams stay in flight
        # until it is done: each has sent its first chunk, and holds its place, while the third is asked
        with self.server.client() as busy, self.server.client("pair") as client, \
                concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
            work = [pool.submit(busy.completions.create, model=MODEL_ID, prompt=f"Busy {index}", max_tokens=240, temperature=0)
                    for index in range(24)]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                depth = list(self.server.samples("inference_queue_depth").values())
                if depth and depth[0] > 0:
                    break
                time.sleep(0.01)
            held = []
            for _ in range(2):
                stream = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "Hi"}], max_tokens=200,
                                                        stream=True)
                chunks = iter(stream)
                next(chunks)
                held.append(chunks)
            with self.assertRaises(openai.RateLimitError) as caught:
                client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "Hi"}], max_tokens=5)
            error = caught.exception
            self.assertEqual(error.code, "quota_exceeded")
            self.assertIn("concurrent_requests", error.message)
            self.assert_retry_after(error)
            for chunks in held:
                rest = list(chunks)
                self.assertIn(rest[-1].choices[0].finish_reason, ("length", "stop"), "the held streams ran to their end")
            for future in work:
                future.result()
            # both ended: their places are free again
            reply = client.chat.completions.create(model=MODEL_ID, messages=[{"role": "user", "content": "Hi"}], max_tokens=5)
            self.assertEqual(reply.usage.completion_tokens, 5)
        counted = {dict(labels)["limit"]: value for labels, value in self.server.samples("inference_quota_refused").items()}
        self.assertGreaterEqual(counted.get("concurrent_requests", 0), 1)


class QuotaRestartTests(unittest.TestCase):
    def test_counters_survive_a_restart(self):
        reserved = token_count(QUOTA_PROMPT) + QUOTA_MAX_TOKENS
        policy = f'{{ version: 1, profiles: [ {{ name: "daily", identities: ["daily"], quotas: {{ tokens_per_day: {reserved} }} }} ] }}\n'
        server = Server(policy, ("ci", "daily"))
        ask = lambda: server.client("daily").completions.create(model=MODEL_ID, prompt=QUOTA_PROMPT, max_tokens=QUOTA_MAX_TOKENS,
                                                                temperature=0)
        try:
            self.assertEqual(ask().usage.total_tokens, reserved, "the day's budget, used whole")
            with self.assertRaises(openai.RateLimitError) as spent:
                ask()
            self.assertEqual(spent.exception.code, "quota_exceeded")
            self.assertIn("tokens_per_day", spent.exception.message)
        finally:
            self.assertEqual(server.stop(), 0)
        self.assertTrue(os.path.exists(server.audit + ".quotas"), "the counters are kept beside the audit log")
        server.start()
        try:
            with self.assertRaises(openai.RateLimitError) as still:
                ask()
            self.assertEqual(still.exception.code, "quota_exceeded")
            self.assertIn("tokens_per_day", still.exception.message)
            self.assertRegex(still.exception.response.headers.get("retry-after") or "", r"^[0-9]+$")
            # another key is not held back by it
            reply = server.client().completions.create(model=MODEL_ID, prompt=QUOTA_PROMPT, max_tokens=2)
            self.assertEqual(reply.usage.completion_tokens, 2)
        finally:
            self.assertEqual(server.stop(), 0)


RELOAD_FIRST = """{
  version: 1,
  default: {
    words: [ { name: "codenames", phrases: ["Project Falcon"], action: "mask" } ],
  },
}
"""
RELOAD_SECOND = """{
  version: 1,
  default: {
    words: [ { name: "codenames", phrases: ["Project Falcon"], action: "mask" },
             { name: "fruit", phrases: ["Mango"], action: "mask" } ],
  },
}
"""
# line 5, column 5: a member without the comma that should end the one before
RELOAD_BROKEN = """{
  version: 1,
  default: {
    words: [ { name: "codenames", phrases: ["Project Falcon"], action: "mask" } ]
    oops: 1,
  },
}
"""
RELOAD_THIRD = """{
  version: 1,
  default: {
    words: [ { name: "fruit", phrases: ["Mango"], action: "mask" } ],
  },
}
"""


class PolicyReloadTests(unittest.TestCase):
    def setUp(self):
        self.server = Server(RELOAD_FIRST)

    def tearDown(self):
        self.assertEqual(self.server.stop(), 0)

    def prompt_seen(self, text):
        """The prompt as the model saw it (from the audit record)."""
        raw = self.server.client().completions.with_raw_response.create(model=MODEL_ID, prompt=text, max_tokens=2, temperature=0)
        return self.server.record(raw.headers["x-request-id"])["prompt"]

    def wait_for(self, condition, seconds=3.0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.1)
        return condition()

    def failures(self):
        return list(self.server.samples("inference_guardrail_policy_reload_failures").values())

    def test_a_good_edit_replaces_the_policy_and_a_bad_one_is_refused(self):
        self.assertEqual(self.server.policy_digests(), [sha256(RELOAD_FIRST)])
        self.assertEqual(self.prompt_seen("Mango and Project Falcon"), "Mango and [CODENAMES_1]")

        time.sleep(1.1)  # the file is looked at at most once a second
        write_atomically(self.server.policy, RELOAD_SECOND)
        self.assertTrue(self.wait_for(lambda: self.server.policy_digests() == [sha256(RELOAD_SECOND)]),
                        f"the new policy is in force within 3 s: {self.server.policy_digests()}")
        self.assertEqual(self.prompt_seen("Mango and Project Falcon"), "[FRUIT_1] and [CODENAMES_1]")
        self.assertIn(f"guardrail policy reloaded (SHA-256 {sha256(RELOAD_SECOND)})", self.server.stderr())
        self.assertEqual(self.failures(), [0])

        time.sleep(1.1)
        write_atomically(self.server.policy, RELOAD_BROKEN)
        self.assertTrue(self.wait_for(lambda: self.failures() == [1]), f"the bad edit is counted: {self.failures()}")
        self.assertEqual(self.server.policy_digests(), [sha256(RELOAD_SECOND)], "the last good policy stays in force")
        self.assertTrue(self.wait_for(lambda: f"{self.server.policy}:5:5: " in self.server.stderr(), 2),
                        f"the mistake is reported with its file, line and column: {self.server.stderr()}")
        self.assertEqual(self.prompt_seen("Mango and Project Falcon"), "[FRUIT_1] and [CODENAMES_1]")
        time.sleep(1.1)
        self.assertEqual(self.failures(), [1], "a bad edit is reported once, not at every look")

        write_atomically(self.server.policy, RELOAD_THIRD)
        self.assertTrue(self.wait_for(lambda: self.server.policy_digests() == [sha256(RELOAD_THIRD)]))
        self.assertEqual(self.prompt_seen("Mango and Project Falcon"), "[FRUIT_1] and Project Falcon")
        self.assertEqual(self.failures(), [1])

        events = [(record["event"], record["guardrails"]["policy"]) for record in self.server.records() if "event" in record
                  and "guardrail" in record["event"]]
        self.assertEqual(events, [("guardrail policy loaded", sha256(RELOAD_SECOND)),
                                  ("guardrail policy edit rejected", sha256(RELOAD_SECOND)),
                                  ("guardrail policy loaded", sha256(RELOAD_THIRD))])


class StartupTests(unittest.TestCase):
    def start(self, policy):
        directory = tempfile.mkdtemp(prefix="inference-guard-")
        path = os.path.join(directory, "policy.json5")
        with open(path, "w") as file:
            file.write(policy)
        keys = os.path.join(directory, "keys.json")
        subprocess.run([BINARY, "keys", "add", "ci", "--keys", keys], check=True, capture_output=True)
        result = subprocess.run([BINARY, "serve", "--model", MODEL, "--port", "0", "--keys", keys, "--audit-log",
                                 os.path.join(directory, "audit.jsonl"), "--ctx", "256", "--threads", "2", "--policy", path],
                                capture_output=True, text=True, timeout=30)
        return path, result

    def test_a_policy_with_a_mistake_stops_the_start(self):
        for policy, where in ((RELOAD_BROKEN, "5:5"),
                              ('{\n  version: 1,\n  default: {\n    detectors: { emial: "mask" },\n  },\n}\n', "4:18"),
                              ('{ version: 2 }\n', "1:12")):
            path, result = self.start(policy)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertNotIn("listening", result.stdout)
            self.assertRegex(result.stderr, re.escape(path) + r":\d+:\d+: ")
            self.assertIn(f"{path}:{where}: ", result.stderr)
        self.assertIn("did you mean 'email'", self.start('{ version: 1, default: { detectors: { emial: "mask" } } }')[1].stderr)


if __name__ == "__main__":
    unittest.main()
