"""inference-server serve against hostile clients, over loopback with small limits: a pipeliner that never reads, a
TLS handshake dripped a byte at a time, one peer taking every connection slot, idle and dripping sockets from a few
addresses taking every slot, TLS at the connection limit, a /health flood, a bad-key flood, request smuggling (and
its audit records), a half-closed client, a prompt of megabytes, /tokenize of megabytes and a body nested 10,000 deep.

Run: python3 -m unittest Tests/PythonTests/test_hostile_clients.py -v (against the debug build)
"""
import concurrent.futures
import json
import os
import re
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import httpx
from prometheus_client.parser import text_string_to_metric_families

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BINARY = os.path.join(ROOT, ".build", "debug", "inference-server")
MODEL = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "models", "llama-q8_0.gguf")
CERTIFICATES = {}


def setUpModule():
    directory = tempfile.mkdtemp(prefix="inference-hostile-tls-")
    certificate, key = os.path.join(directory, "server.pem"), os.path.join(directory, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", certificate, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    CERTIFICATES.update(certificate=certificate, key=key)


class Server:
    """A serve process on a free loopback port (0.0.0.0, so that 127.0.0.2 reaches it as a second address)."""

    def __init__(self, *extra, tls=False, audit=True):
        self.directory = tempfile.mkdtemp(prefix="inference-hostile-")
        self.keys = os.path.join(self.directory, "keys.json")
        self.audit = os.path.join(self.directory, "audit.jsonl")
        self.key = subprocess.run([BINARY, "keys", "add", "ci", "--keys", self.keys], check=True, capture_output=True, text=True).stdout.strip()
        arguments = [BINARY, "serve", "--model", MODEL, "--host", "0.0.0.0", "--port", "0", "--keys", self.keys, "--parallel", "2",
                     "--ctx", "256", "--threads", "2", "--model-id", "test", *extra]
        if audit:
            arguments += ["--audit-log", self.audit]
        if tls:
            arguments += ["--tls-cert", CERTIFICATES["certificate"], "--tls-key", CERTIFICATES["key"]]
        self.sockets = []
        self.process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"listening on (https?)://0\.0\.0\.0:(\d+)", line)
        if not match:
            self.process.kill()
            raise RuntimeError("serve did not start: " + line + self.process.stderr.read())
        self.port = int(match.group(2))
        self.base = f"{match.group(1)}://127.0.0.1:{self.port}"

    def connect(self, source="127.0.0.1", receive_buffer=None, timeout=10):
        connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        connection.bind((source, 0))
        connection.settimeout(timeout)
        connection.connect(("127.0.0.1", self.port))
        self.sockets.append(connection)
        return connection

    def tls_context(self):
        context = ssl.create_default_context(cafile=CERTIFICATES["certificate"])
        return context

    def metrics(self):
        text = httpx.get(self.base + "/metrics", headers={"Authorization": f"Bearer {self.key}"}, verify=False).text
        return {sample.name + json.dumps(sample.labels, sort_keys=True): sample.value
                for family in text_string_to_metric_families(text) for sample in family.samples}

    def records(self):
        if not os.path.exists(self.audit):
            return []
        with open(self.audit) as log:
            return [json.loads(line) for line in log]

    def stop(self):
        for connection in self.sockets:
            connection.close()
        self.process.terminate()
        code = self.process.wait(timeout=30)
        self.process.stdout.close()
        self.process.stderr.close()
        return code


def request(method, path, key=None, body=None, extra=""):
    lines = [f"{method} {path} HTTP/1.1", "Host: x"]
    if key:
        lines.append(f"Authorization: Bearer {key}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body.encode())}"]
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n" + (body or "")).encode()


def read_response(connection):
    """One final response off `connection`: (status, headers, body bytes); interim 1xx responses are skipped, as
    HTTP/1.1 clients must; a chunked body is de-chunked."""
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            more = connection.recv(65536)
            if not more:
                raise EOFError("closed before a response: " + repr(data))
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split(" ")[1])
        if status >= 200:
            break
        data = rest
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in lines[1:]}
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += connection.recv(65536)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            while len(rest) < size + 2:
                rest += connection.recv(65536)
            body, rest = body + rest[:size], rest[size + 2:]
            if size == 0:
                return status, headers, body
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        more = connection.recv(65536)
        if not more:
            break
        rest += more
    return status, headers, rest[:length]


def closed_by_server(connection, within):
    """Whether the server closes `connection` (EOF or reset) within `within` seconds, whatever it sends first."""
    connection.settimeout(within)
    ended = time.monotonic() + within
    try:
        while time.monotonic() < ended:
            if not connection.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


class PipelinerTests(unittest.TestCase):
    def test_a_client_that_never_reads_is_dropped_at_the_write_deadline_and_others_are_served_meanwhile(self):
        server = Server("--max-connections", "2", "--max-connections-per-client", "2", "--write-timeout", "2", "--rate-limit", "0", audit=False)
        try:
            pipeliner = server.connect(receive_buffer=4096)
            # each 404 echoes its 12 KB model name: a few hundred KB fill the socket buffers and the server's write blocks
            one = request("GET", "/v1/models/" + "m" * 12000, key=server.key)
            stalled = threading.Event()

            def pipeline():
                pipeliner.settimeout(1)
                try:
                    while True:
                        pipeliner.sendall(one)
                except (socket.timeout, OSError):
                    stalled.set()

            threading.Thread(target=pipeline, daemon=True).start()
            self.assertTrue(stalled.wait(30), "the server stopped reading from the pipeliner")
            blocked_at = time.monotonic()
            # the pipeliner holds one of the two slots; the other still serves, from either address
            other = server.connect(source="127.0.0.2")
            other.sendall(request("GET", "/health"))
            self.assertEqual(read_response(other)[0], 200, "another client is served while the pipeliner is stuck")
            other.close()
            # once the write deadline passes, the pipeliner's slot is free: two connections are served at once
            freed = None
            while time.monotonic() - blocked_at < 10:
                first, second = server.connect(), server.connect(source="127.0.0.2")
                try:
                    first.sendall(request("GET", "/v1/models", key=server.key))
                    second.sendall(request("GET", "/v1/models", key=server.key))
                    statuses = (read_response(first)[0], read_response(second)[0])
                except (OSError, EOFError):
                    statuses = None
                first.close()
                second.close()
                if statuses == (200, 200):
                    freed = time.monotonic() - blocked_at
                    break
                time.sleep(0.3)
            self.assertIsNotNone(freed, "the pipeliner's slot was freed")
            self.assertLess(freed, 2 + 3, "within the 2 s write deadline (and some slack)")
            self.assertTrue(closed_by_server(pipeliner, 5), "the pipeliner's connection was closed")
        finally:
            self.assertEqual(server.stop(), 0)


class TLSHandshakeTests(unittest.TestCase):
    def test_a_dripped_client_hello_is_cut_off_at_the_handshake_deadline(self):
        server = Server("--handshake-timeout", "2", tls=True, audit=False)
        try:
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            handshake = server.tls_context().wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
            with self.assertRaises(ssl.SSLWantReadError):
                handshake.do_handshake()
            hello = outgoing.read()
            self.assertGreater(len(hello), 100)
            dripper = server.connect()
            started = time.monotonic()
            cut = None
            for index, byte in enumerate(hello):
                try:
                    dripper.send(bytes([byte]))
                except OSError:
                    cut = time.monotonic() - started
                    break
                if closed_by_server(dripper, 0.25):
                    cut = time.monotonic() - started
                    break
                # meanwhile another client completes its handshake and is answered
                if index == 2:
                    reply = httpx.get(server.base + "/health", verify=server.tls_context(), timeout=10)
                    self.assertEqual(reply.status_code, 200)
            self.assertIsNotNone(cut, "the server closed the dripping client")
            self.assertGreater(cut, 1.5)
            self.assertLess(cut, 4.5, "at the 2 s deadline for the whole handshake, not 2 s per byte")
        finally:
            self.assertEqual(server.stop(), 0)

    def test_tls_at_the_connection_limit_gets_no_plain_text(self):
        server = Server("--max-connections", "1", "--rate-limit", "0", tls=True, audit=False)
        try:
            context = server.tls_context()
            holder = context.wrap_socket(server.connect(receive_buffer=4096), server_hostname="127.0.0.1")
            holder.sendall(request("GET", "/health"))
            self.assertEqual(read_response(holder)[0], 200)
            # an idle connection would give its slot up: the holder keeps the server busy writing answers it never reads
            one = request("GET", "/v1/models/" + "m" * 12000, key=server.key)
            holder.settimeout(1)
            try:
                while True:
                    holder.sendall(one)
            except (socket.timeout, OSError, ssl.SSLError):
                pass
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            with self.assertRaises(ssl.SSLWantReadError):
                context.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1").do_handshake()
            refused = server.connect(source="127.0.0.2")
            refused.sendall(outgoing.read())
            received = b""
            try:
                while True:
                    more = refused.recv(65536)
                    if not more:
                        break
                    received += more
            except ConnectionResetError:
                pass
            self.assertNotIn(b"HTTP/", received, "no plain-text response on a TLS port")
            self.assertEqual(received, b"", "closed without a byte")
            with self.assertRaises((ssl.SSLError, OSError)):
                context.wrap_socket(server.connect(source="127.0.0.2"), server_hostname="127.0.0.1").sendall(request("GET", "/health"))
            holder.close()
        finally:
            self.assertEqual(server.stop(), 0)


class ConnectionSlotTests(unittest.TestCase):
    def test_one_peer_cannot_take_every_slot(self):
        server = Server("--max-connections", "4", "--max-connections-per-client", "2", audit=False)
        try:
            held = [server.connect(), server.connect()]
            time.sleep(0.2)
            third = server.connect()
            self.assertTrue(closed_by_server(held[0], 2), "at its cap, an address's new connection takes its own oldest idle one's slot")
            held[0] = third
            other = server.connect(source="127.0.0.2")
            other.sendall(request("GET", "/health"))
            self.assertEqual(read_response(other)[0], 200, "another address is still served")
            held.append(other)
            held.append(server.connect(source="127.0.0.2"))
            time.sleep(0.2)
            # every slot is taken, but by connections waiting for a request: the longest waiting gives its slot up
            fresh = server.connect(source="127.0.0.3")
            fresh.sendall(request("GET", "/health"))
            self.assertEqual(read_response(fresh)[0], 200, "a third address is served in the slot of the longest idle")
            self.assertTrue(closed_by_server(held[1], 2), "the oldest idle connection was reclaimed")
            self.assertFalse(closed_by_server(held[0], 0.3), "and only it")
            for connection in held:
                connection.close()
            time.sleep(0.3)
            fresh = server.connect()
            fresh.sendall(request("GET", "/health"))
            self.assertEqual(read_response(fresh)[0], 200, "slots come back when their connections close")
        finally:
            self.assertEqual(server.stop(), 0)

    def test_idle_and_dripping_sockets_from_two_addresses_cannot_lock_a_fresh_peer_out(self):
        # the reviewer's two_peers_exhaust.py, with a per-address cap of 8, and an attacker that reopens every socket
        # the server takes back
        server = Server("--max-connections", "16", "--max-connections-per-client", "8", audit=False)
        stop = threading.Event()
        reclaimed = []
        try:
            idle = [server.connect(source="127.0.0.2") for _ in range(8)]
            time.sleep(0.2)
            ninth = server.connect(source="127.0.0.2")
            self.assertTrue(closed_by_server(idle[0], 2), "the cap is 8 an address: a ninth takes the first one's slot")
            idle[0] = ninth
            dripping = [server.connect(source="127.0.0.3") for _ in range(8)]
            attack = {"127.0.0.2": idle, "127.0.0.3": dripping}

            def attacker():
                while not stop.is_set():
                    for source, sockets in attack.items():
                        for index, connection in enumerate(sockets):
                            try:
                                if source == "127.0.0.3":
                                    connection.send(b"G" if index % 2 else b"X")
                                connection.settimeout(0.001)
                                gone = connection.recv(1) == b""
                            except socket.timeout:
                                gone = False
                            except OSError:
                                gone = True
                            if gone and not stop.is_set():
                                reclaimed.append(source)
                                connection.close()
                                try:
                                    sockets[index] = server.connect(source=source)
                                except OSError:
                                    pass
                    time.sleep(0.2)

            threading.Thread(target=attacker, daemon=True).start()
            time.sleep(0.5)
            for _ in range(6):
                started = time.monotonic()
                victim = server.connect(timeout=3)
                victim.sendall(request("GET", "/health"))
                self.assertEqual(read_response(victim)[0], 200, "a fresh peer is served while the slots are held")
                self.assertLess(time.monotonic() - started, 3)
                victim.close()
                time.sleep(0.7)
            self.assertGreaterEqual(len(reclaimed), 6, "each victim took the slot of an attacker's socket")
        finally:
            stop.set()
            time.sleep(0.3)
            self.assertEqual(server.stop(), 0)

    def test_a_silent_new_connection_is_closed_at_the_first_byte_deadline_a_kept_alive_one_is_not(self):
        server = Server(audit=False)
        try:
            kept = server.connect()
            kept.sendall(request("GET", "/health"))
            self.assertEqual(read_response(kept)[0], 200)
            started = time.monotonic()
            silent = server.connect()
            self.assertTrue(closed_by_server(silent, 8), "a connection that never speaks is closed")
            self.assertGreater(time.monotonic() - started, 4)
            self.assertLess(time.monotonic() - started, 7, "at the 5 s first-byte deadline, not the 30 s idle timeout")
            time.sleep(1)
            kept.sendall(request("GET", "/health"))
            self.assertEqual(read_response(kept)[0], 200, "a kept-alive connection idle as long is still served")
        finally:
            self.assertEqual(server.stop(), 0)


class FloodTests(unittest.TestCase):
    def test_health_flood_is_counted_not_audited(self):
        server = Server()
        try:
            connection = server.connect()
            statuses = []
            for index in range(300):
                # a POST among them: its 405 is no more audited than a GET's 200
                connection.sendall(request("POST" if index % 10 == 0 else "GET", "/health"))
                statuses.append(read_response(connection)[0])
            self.assertGreaterEqual(statuses.count(200) + statuses.count(405), 20, "a burst of 20 is allowed")
            self.assertGreater(statuses.count(429), 200, "then its own budget of 10 a second")
            self.assertEqual(set(statuses), {200, 405, 429})
            self.assertLessEqual(len(server.records()), 1, "no audit record per /health call (at most one summary)")
            metrics = server.metrics()
            self.assertEqual(metrics['inference_health_checks_total{}'], 300)
            self.assertEqual(metrics['inference_rate_limited_total{"budget": "health"}'], statuses.count(429))
        finally:
            self.assertEqual(server.stop(), 0)
        records = [record for record in server.records() if record.get("route") != "/metrics"]
        summaries = [record for record in records if record.get("route") == "summary"]
        self.assertEqual(len(summaries), len(records), "besides the /metrics call, only summaries")
        self.assertEqual(sum(record["requests"] for record in summaries), statuses.count(429), "every refusal is in a summary")
        verified = subprocess.run([BINARY, "audit", "verify", server.audit], capture_output=True, text=True)
        self.assertEqual(verified.returncode, 0, verified.stderr)

    def test_a_bad_key_flood_does_not_spend_a_real_callers_budget(self):
        server = Server("--rate-limit", "2")
        try:
            flood = server.connect()
            statuses = []
            for _ in range(60):
                flood.sendall(request("GET", "/v1/models", key="sk-wrong"))
                statuses.append(read_response(flood)[0])
            self.assertEqual(statuses[:10], [401] * 10)
            self.assertGreater(statuses.count(429), 45, "bad keys have a small budget per address")
            caller = server.connect()
            served = []
            for _ in range(4):
                caller.sendall(request("GET", "/v1/models", key=server.key))
                served.append(read_response(caller)[0])
            self.assertEqual(served, [200] * 4, "the real caller's burst of 2N is intact, from the same address")
            caller.sendall(request("GET", "/v1/models", key=server.key))
            self.assertEqual(read_response(caller)[0], 429, "and it is its own budget")
        finally:
            self.assertEqual(server.stop(), 0)
        records = server.records()
        single = [record for record in records if record.get("route") != "summary"]
        self.assertEqual([record["status"] for record in single], [401] * statuses.count(401) + [200] * 4,
                         "refusals for a bad key within the budget and the answers are recorded one by one")
        self.assertEqual(sum(record["requests"] for record in records if record.get("route") == "summary"), statuses.count(429) + 1,
                         "the 429s are summarised")


    def test_bad_keys_from_many_addresses_share_a_budget_of_audit_records(self):
        server = Server()
        try:
            statuses = []
            started = time.monotonic()
            for address in range(2, 22):
                connection = server.connect(source=f"127.0.0.{address}")
                for _ in range(10):
                    connection.sendall(request("GET", "/v1/models", key="sk-wrong"))
                    statuses.append(read_response(connection)[0])
            elapsed = time.monotonic() - started
            self.assertLessEqual(statuses.count(401), 100 + 20 * elapsed + 1, "the budget all addresses share (bursts of 100, 20 a second)")
            self.assertGreater(statuses.count(429), 80, "though no address spent its own budget of 10")
            single = [record for record in server.records() if record.get("route") != "summary"]
            self.assertEqual(len(single), statuses.count(401), "one audit record per 401, none per 429")
            metrics = server.metrics()
            self.assertEqual(metrics['inference_rate_limited_total{"budget": "unauthenticated-total"}'], statuses.count(429))
        finally:
            self.assertEqual(server.stop(), 0)

class SmugglingTests(unittest.TestCase):
    VARIANTS = {
        "two differing Content-Length": "Content-Length: 5\r\nContent-Length: 40\r\n",
        "two equal Content-Length": "Content-Length: 40\r\nContent-Length: 40\r\n",
        "signed Content-Length": "Content-Length: +40\r\n",
        "Content-Length with an inner space": "Content-Length: 4 0\r\n",
        "empty Content-Length": "Content-Length: \r\n",
        "Content-Length and Transfer-Encoding": "Content-Length: 40\r\nTransfer-Encoding: chunked\r\n",
        "two Authorization": "Content-Length: 40\r\nAuthorization: Bearer sk-other\r\n",
        "two Host": "Content-Length: 40\r\nHost: y\r\n",
        "obs-fold": "Content-Length: 40\r\nX-Folded: a\r\n b\r\n",
    }

    def test_each_variant_is_400_and_the_connection_closed(self):
        server = Server()
        try:
            body = '{"prompt":"x","max_tokens":1}'.ljust(40)
            smuggled = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
            for name, headers in self.VARIANTS.items():
                with self.subTest(name):
                    connection = server.connect()
                    lines = f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.key}\r\n{headers}\r\n"
                    connection.sendall((lines + body + smuggled).encode())
                    status, _, reply = read_response(connection)
                    self.assertEqual(status, 400, reply)
                    self.assertTrue(closed_by_server(connection, 5), "closed after the 400, the smuggled request unanswered")
            plain = server.connect()
            plain.sendall(request("POST", "/v1/completions", key=server.key, body='{"prompt":"x","max_tokens":1}'))
            self.assertEqual(read_response(plain)[0], 200, "an ordinary request still parses")
        finally:
            self.assertEqual(server.stop(), 0)
        records = server.records()
        self.assertEqual([record["status"] for record in records], [400] * len(self.VARIANTS) + [200],
                         "each refused request has its own record, within the address's budget of 10")
        self.assertTrue(all(record["method"] == "POST" and record["route"] == "/v1/completions" and record["error"] for record in records[:-1]))
        self.assertEqual(records[0]["error"], "the header content-length is given more than once", "with the reason the client was told")
        verified = subprocess.run([BINARY, "audit", "verify", server.audit], capture_output=True, text=True)
        self.assertEqual(verified.returncode, 0, verified.stderr)

    def test_refusals_before_routing_are_audited_within_a_budget_and_summarised_beyond(self):
        server = Server()
        try:
            statuses = []
            for index in range(40):
                connection = server.connect()
                if index % 4 == 0:
                    connection.sendall(f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {5 * 1024 * 1024}\r\n\r\n".encode())
                else:
                    connection.sendall(b"GARBAGE\r\n\r\n")
                statuses.append(read_response(connection)[0])
                connection.close()
            self.assertEqual(statuses, [413 if index % 4 == 0 else 400 for index in range(40)])
        finally:
            self.assertEqual(server.stop(), 0)
        records = server.records()
        single = [record for record in records if record.get("route") != "summary"]
        summaries = [record for record in records if record.get("route") == "summary"]
        self.assertGreaterEqual(len(single), 10, "a burst of 10 recorded one by one")
        self.assertLess(len(single), 15, "then the address's budget of 1 a second")
        self.assertEqual(single[0]["status"], 413)
        self.assertEqual((single[0]["method"], single[0]["route"]), ("POST", "/v1/completions"))
        self.assertEqual((single[1]["method"], single[1]["route"]), ("unparsed", "unparsed"))
        self.assertEqual(len(single) + sum(record["requests"] for record in summaries), 40, "every refusal recorded or counted")
        self.assertTrue(all(key.split(" ")[0] in ("400", "413") for record in summaries for key in record["callers"]), summaries)
        verified = subprocess.run([BINARY, "audit", "verify", server.audit], capture_output=True, text=True)
        self.assertEqual(verified.returncode, 0, verified.stderr)


class HalfCloseTests(unittest.TestCase):
    def test_a_half_closed_client_gets_its_whole_answer(self):
        server = Server()
        try:
            for stream in (False, True):
                with self.subTest(stream=stream):
                    connection = server.connect()
                    body = json.dumps({"prompt": "Once upon a time", "max_tokens": 8, "temperature": 0, "stream": stream})
                    connection.sendall(request("POST", "/v1/completions", key=server.key, body=body))
                    connection.shutdown(socket.SHUT_WR)
                    status, headers, reply = read_response(connection)
                    self.assertEqual(status, 200, reply)
                    if stream:
                        self.assertTrue(reply.decode().endswith("data: [DONE]\n\n"), reply)
                    else:
                        self.assertEqual(json.loads(reply)["usage"]["completion_tokens"], 8)
                    self.assertTrue(closed_by_server(connection, 5), "then the connection is closed")
        finally:
            self.assertEqual(server.stop(), 0)
        self.assertEqual([(record["status"], record.get("completed", True)) for record in server.records()], [(200, True), (200, True)])


class HugePromptTests(unittest.TestCase):
    def test_a_prompt_of_megabytes_is_refused_fast_while_others_are_served(self):
        server = Server("--rate-limit", "0")
        try:
            huge = json.dumps({"prompt": "lorem ipsum dolor " * (3 * 1024 * 1024 // 18), "max_tokens": 4})
            self.assertLess(len(huge), 4 * 1024 * 1024, "under the body limit")

            def ask(body):
                started = time.monotonic()
                connection = server.connect(timeout=60)
                connection.sendall(request("POST", "/v1/completions", key=server.key, body=body))
                status, _, reply = read_response(connection)
                return status, json.loads(reply), time.monotonic() - started

            with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
                huge_answers = [pool.submit(ask, huge) for _ in range(3)]
                small = pool.submit(ask, json.dumps({"prompt": "Hello", "max_tokens": 4, "temperature": 0}))
                status, reply, elapsed = small.result()
                self.assertEqual(status, 200)
                self.assertLess(elapsed, 10, "a small request is served in bounded time beside three huge ones")
                for answer in huge_answers:
                    status, reply, elapsed = answer.result()
                    self.assertEqual(status, 400)
                    self.assertEqual(reply["error"]["code"], "context_length_exceeded")
                    self.assertIn("bytes", reply["error"]["message"], "refused from its length, not after tokenizing")
                    self.assertLess(elapsed, 10)
        finally:
            self.assertEqual(server.stop(), 0)


class BodyBoundTests(unittest.TestCase):
    def test_tokenize_content_is_bounded_by_what_a_prompt_could_hold(self):
        server = Server("--rate-limit", "0", audit=False)
        try:
            headers = {"Authorization": f"Bearer {server.key}"}
            started = time.monotonic()
            reply = httpx.post(server.base + "/tokenize", json={"content": "x" * (1024 * 1024)}, headers=headers, timeout=30)
            self.assertLess(time.monotonic() - started, 3, "refused from its length, not after tokenizing")
            self.assertEqual(reply.status_code, 400, reply.text)
            error = reply.json()["error"]
            self.assertEqual((error["param"], error["code"]), ("content", "context_length_exceeded"))
            limit = int(re.search(r"takes: (\d+) bytes, the context of 256 tokens", error["message"]).group(1))
            self.assertEqual(httpx.post(server.base + "/tokenize", json={"content": "x" * (limit + 1)}, headers=headers, timeout=30).status_code, 400)
            fits = httpx.post(server.base + "/tokenize", json={"content": "x" * limit}, headers=headers, timeout=30)
            self.assertEqual(fits.status_code, 200, fits.text)
            self.assertGreater(len(fits.json()["tokens"]), 0)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_a_body_nested_too_deep_says_so(self):
        server = Server("--rate-limit", "0", audit=False)
        try:
            headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"}
            cases = {
                "[" * 10000: "257 levels deep; at most 256",
                '{"prompt":' + "[" * 300 + "]" * 300 + "}": "257 levels deep",
                '{"prompt":"' + "[" * 300 + '"}': None,  # brackets inside a string are text
                "{not json": "not valid JSON",
                "[1, 2]": "not a JSON object",
            }
            for body, reason in cases.items():
                for path in ("/v1/completions", "/tokenize"):
                    with self.subTest(body=body[:20], path=path):
                        reply = httpx.post(server.base + path, content=body, headers=headers, timeout=30)
                        message = reply.json()["error"]["message"] if reply.status_code != 200 else ""
                        if reason is None:
                            self.assertNotIn("deep", message)
                        else:
                            self.assertEqual(reply.status_code, 400)
                            self.assertIn(reason, message)
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
