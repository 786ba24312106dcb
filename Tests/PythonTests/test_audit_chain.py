"""The audit chain against an attacker who holds the log's files: inference-server serve (the debug build) writes a
log with signed checkpoints, rotated at 4 KiB, and is stopped with SIGTERM; then each tamper is made on a copy and
`inference-server audit verify` must fail, naming the case. The untouched log verifies. A streaming client that
disconnects leaves a record of the text it was sent.

Run: python3 -m unittest Tests/PythonTests/test_audit_chain.py -v
"""
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

import httpx

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
BINARY = os.path.join(ROOT, ".build", "debug", "inference-server")
MODEL = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "models", "llama-q8_0.gguf")


def fields(line):
    record = json.loads(line)
    record.pop("hash")
    return record


def encode(record, previous):
    """The line AuditLog would write for `record` after `previous`: what anyone holding the files can compute."""
    record = dict(record, prev=previous)
    body = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(body.encode()).hexdigest()
    return '{"hash":"' + digest + '",' + body[1:], digest


def glob_checkpoints(directory):
    return [os.path.join(directory, name) for name in os.listdir(directory) if re.fullmatch(r"checkpoint-\d{20}\.json", name)]


class AuditChainTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="audit-py-")
        cls.log = os.path.join(cls.directory, "audit.jsonl")
        cls.key = os.path.join(cls.directory, "audit-key.pem")
        arguments = [BINARY, "serve", "--model", MODEL, "--port", "0", "--no-auth", "--audit-log", cls.log, "--audit-key", cls.key,
                     "--audit-max-bytes", "4096", "--audit-checkpoint-records", "4", "--parallel", "2", "--ctx", "256",
                     "--threads", "2", "--rate-limit", "0"]
        process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = process.stdout.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not match:
            process.kill()
            raise RuntimeError("serve did not start: " + line + process.stderr.read())
        cls.startup = line
        base = f"http://127.0.0.1:{match.group(1)}"
        with httpx.Client(base_url=base, timeout=60) as client:
            for index in range(14):
                reply = client.post("/v1/completions", json={"prompt": f"Request {index}", "max_tokens": 2})
                assert reply.status_code == 200, reply.text
            # a stream whose client reads three pieces of text and goes away
            cls.received = ""
            pieces = 0
            with client.stream("POST", "/v1/completions", json={"prompt": "Once upon a time", "max_tokens": 200, "temperature": 1,
                                                                 "seed": 7, "stream": True}) as stream:
                for event in stream.iter_lines():
                    if event.startswith("data: {"):
                        text = json.loads(event[6:])["choices"][0]["text"]
                        cls.received += text
                        pieces += 1 if text else 0
                        if pieces == 3:
                            break
            cls.streamed_pieces = pieces
            # the next request is served only once the gone stream's slot is free: its record is written by then
            client.post("/v1/completions", json={"prompt": "after", "max_tokens": 1})
        process.terminate()
        cls.exit_code = process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
        cls.checkpoints = cls.log + ".checkpoints"
        cls.public_key = os.path.join(cls.checkpoints, "audit-key.pub.pem")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def copy(self):
        """A copy of the log's files (oldest first) and of its checkpoint directory, with the public key held apart."""
        work = tempfile.mkdtemp(prefix="audit-tamper-")
        self.addCleanup(shutil.rmtree, work, True)
        files = sorted((name for name in os.listdir(self.directory) if re.fullmatch(r"audit\.jsonl(\.\d+)?", name)),
                       key=lambda name: -int(name.rsplit(".", 1)[1]) if name[-1].isdigit() else 0)
        copies = []
        for name in files:
            shutil.copy(os.path.join(self.directory, name), os.path.join(work, name))
            copies.append(os.path.join(work, name))
        shutil.copytree(self.checkpoints, os.path.join(work, "checkpoints"))
        shutil.copy(self.public_key, os.path.join(work, "key.pub.pem"))
        return work, copies

    def verify(self, files, checkpoints, *extra):
        return subprocess.run([BINARY, "audit", "verify", *files, "--public-key", os.path.join(os.path.dirname(files[-1]), "key.pub.pem"),
                               "--checkpoints", checkpoints, *extra], capture_output=True, text=True)

    def assertTampered(self, result, case):
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("TAMPERED", result.stdout)
        self.assertRegex(result.stdout, rf"(?m)^  {case}: ", result.stdout)

    @staticmethod
    def read(path):
        with open(path) as file:
            return file.read().splitlines()

    @staticmethod
    def read_bytes(path):
        with open(path, "rb") as file:
            return file.read()

    @staticmethod
    def write(path, lines):
        with open(path, "w") as file:
            file.write("".join(line + "\n" for line in lines))

    def rechain(self, files, lines_by_file, start_file, start_line):
        """Every line from (start_file, start_line) on re-hashed so that each names the one before, across files."""
        previous = None
        for index, path in enumerate(files):
            lines = lines_by_file[index]
            for number, line in enumerate(lines):
                if (index, number) >= (start_file, start_line):
                    lines[number], previous = encode(fields(line), previous)
                else:
                    previous = json.loads(line)["hash"]
            self.write(path, lines)

    def test_server_started_signed_and_stopped_cleanly(self):
        self.assertEqual(self.exit_code, 0)
        self.assertRegex(self.startup, r"checkpoints signed by SHA256:[A-Za-z0-9+/]{43} \(a new key in ")
        self.assertEqual(stat.S_IMODE(os.stat(self.key).st_mode), 0o600)
        names = sorted(os.listdir(self.checkpoints))
        self.assertIn("audit-key.pub.pem", names)
        checkpoints = [name for name in names if name != "audit-key.pub.pem"]
        self.assertTrue(all(re.fullmatch(r"checkpoint-\d{20}\.json", name) for name in checkpoints), checkpoints)
        kinds = set()
        for name in checkpoints:
            with open(os.path.join(self.checkpoints, name)) as file:
                checkpoint = json.load(file)
            self.assertEqual(name, f"checkpoint-{checkpoint['seq']:020d}.json")
            kinds.add(checkpoint["kind"])
        self.assertEqual(kinds, {"start", "periodic", "rotation", "shutdown"})
        work, files = self.copy()
        self.assertGreaterEqual(len(files), 3, "rotated at 4 KiB")
        result = self.verify(files, os.path.join(work, "checkpoints"))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("audit log intact", result.stdout)
        last = json.loads(self.read(files[-1])[-1])
        self.assertEqual(last["checkpoint"]["kind"], "shutdown")
        self.assertIn(f"anchored: records 1-{last['seq']} by the signed shutdown checkpoint", result.stdout)
        numbers = [json.loads(line)["seq"] for path in files for line in self.read(path)]
        self.assertEqual(numbers, list(range(1, len(numbers) + 1)), "one sequence across the rotated files")

    def test_forged_record_appended(self):
        work, files = self.copy()
        lines = self.read(files[-1])
        forged = fields(lines[-2])
        forged.update(seq=json.loads(lines[-1])["seq"] + 1, prompt="a request that never happened", checkpoint=None)
        forged.pop("checkpoint")
        forged.setdefault("route", "/v1/completions")
        self.write(files[-1], lines + [encode(forged, json.loads(lines[-1])["hash"])[0]])
        self.assertTampered(self.verify(files, os.path.join(work, "checkpoints")), "appended")

    def test_last_records_deleted(self):
        work, files = self.copy()
        self.write(files[-1], self.read(files[-1])[:-3])
        self.assertTampered(self.verify(files, os.path.join(work, "checkpoints")), "removed-tail")

    def test_first_records_deleted(self):
        work, files = self.copy()
        self.write(files[0], self.read(files[0])[3:])
        self.assertTampered(self.verify(files, os.path.join(work, "checkpoints")), "removed-head")

    def test_record_edited_and_every_later_hash_recomputed(self):
        work, files = self.copy()
        lines_by_file = [self.read(path) for path in files]
        target = next(number for number, line in enumerate(lines_by_file[0]) if "Request 1\"" in line)
        lines_by_file[0][target] = lines_by_file[0][target].replace("Request 1", "Request X")
        self.rechain(files, lines_by_file, 0, target)
        result = self.verify(files, os.path.join(work, "checkpoints"))
        self.assertTampered(result, "rewritten")
        self.assertNotRegex(result.stdout, r"(?m)^  (edited|broken-link):", "every hash links")

    def test_oldest_rotated_file_left_out(self):
        work, files = self.copy()
        self.assertTampered(self.verify(files[1:], os.path.join(work, "checkpoints")), "missing-rotated-file")

    def test_truncated_after_the_checkpoints_were_shipped(self):
        work, files = self.copy()
        shipped = os.path.join(work, "shipped")
        shutil.copytree(os.path.join(work, "checkpoints"), shipped)
        # the attacker cuts the log and the node's own checkpoint directory alike
        # cut right after a checkpoint record: records after it would be an unanchored tail, named without --live
        lines = self.read(files[-1])
        end = max(number for number, line in enumerate(lines[: len(lines) // 2 + 1]) if '"checkpoint":' in line) + 1
        self.write(files[-1], lines[:end])
        local = os.path.join(work, "checkpoints")
        cut = max(json.loads(line)["seq"] for line in lines[:end])
        for name in os.listdir(local):
            if name.startswith("checkpoint-") and int(name[11:31]) >= cut - 1:
                os.remove(os.path.join(local, name))
        self.assertEqual(self.verify(files, local).returncode, 0, "the node's own copy no longer shows it")
        self.assertTampered(self.verify(files, shipped), "removed-tail")

    def test_forged_checkpoint(self):
        work, files = self.copy()
        lines_by_file = [self.read(path) for path in files]
        lines = lines_by_file[-1]
        indices = [number for number, line in enumerate(lines) if '"checkpoint":' in line]
        record = fields(lines[indices[-1]])
        record["checkpoint"]["signature"] = json.loads(lines[indices[0]])["checkpoint"]["signature"]
        lines[indices[-1]] = json.dumps(dict(record, hash="0" * 64))  # replaced by rechain
        self.rechain(files, lines_by_file, len(files) - 1, indices[-1])
        self.assertTampered(self.verify(files, os.path.join(work, "checkpoints")), "forged-checkpoint")
        # and a shipped file signed by another key than the one held apart
        other = os.path.join(work, "other.pem")
        subprocess.run([BINARY, "audit", "keygen", "--key", other], check=True, capture_output=True)
        other_public = subprocess.run(["openssl", "pkey", "-in", other, "-pubout"], check=True, capture_output=True, text=True).stdout
        with open(os.path.join(work, "key.pub.pem"), "w") as file:
            file.write(other_public)
        result = self.verify(files, os.path.join(work, "checkpoints"))
        self.assertTampered(result, "forged-checkpoint")
        self.assertIn("signed by an unknown key", result.stdout)

    def launder(self, files):
        """What someone holding the files but not the key can make of them: every checkpoint record but the first
        dropped, record 3 rewritten, every record renumbered and rehashed into one file."""
        records = [fields(line) for path in files for line in self.read(path)]
        records = [record for number, record in enumerate(records) if "checkpoint" not in record or number == 0]
        records[2]["status"] = 999
        records[2]["prompt"] = "a prompt never sent"
        lines, previous = [], "0" * 64
        for number, record in enumerate(records, 1):
            record["seq"] = number
            line, previous = encode(record, previous)
            lines.append(line)
        for path in files:
            os.remove(path)
        self.write(files[-1], lines)
        return [files[-1]]

    def test_serve_refuses_to_sign_over_a_laundered_log(self):
        work, files = self.copy()
        files = self.launder(files)
        local = os.path.join(work, "checkpoints")
        for name in os.listdir(local):
            if name.startswith("checkpoint-") and int(name[11:31]) > 0:
                os.remove(os.path.join(local, name))
        before = self.read_bytes(files[0])
        names = sorted(os.listdir(local))
        result = subprocess.run([BINARY, "serve", "--model", MODEL, "--port", "0", "--no-auth", "--audit-log", files[0], "--audit-key", self.key,
                                 "--audit-checkpoints", local, "--audit-checkpoint-records", "4", "--threads", "1", "--ctx", "64"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertNotIn("listening", result.stdout)
        self.assertRegex(result.stderr, re.escape(files[0]) + r":\d+: records 2-\d+ follow the last checkpoint \(line 1\)")
        self.assertIn("more than the 4 its server checkpointed at", result.stderr)
        self.assertEqual(self.read_bytes(files[0]), before, "nothing appended, nothing signed")
        self.assertEqual(sorted(os.listdir(local)), names)
        # and verify, with the key alone, names it and anchors nothing past the start checkpoint
        verified = subprocess.run([BINARY, "audit", "verify", *files, "--public-key", os.path.join(work, "key.pub.pem")], capture_output=True, text=True)
        self.assertTampered(verified, "missing-checkpoint")
        self.assertTampered(verified, "unanchored-tail")
        self.assertIn("anchored: records 1-1 (those before the first record in doubt)", verified.stdout)

    def test_public_key_alone_finds_stripped_checkpoints_and_a_made_up_log(self):
        work, files = self.copy()
        public_key = os.path.join(work, "key.pub.pem")
        records = [fields(line) for path in files for line in self.read(path)]
        made_up, previous = [], "0" * 64
        for number, record in enumerate((record for record in records if "checkpoint" not in record), 1):
            record["seq"] = number
            line, previous = encode(record, previous)
            made_up.append(line)
        self.write(os.path.join(work, "made-up.jsonl"), made_up)
        result = subprocess.run([BINARY, "audit", "verify", os.path.join(work, "made-up.jsonl"), "--public-key", public_key], capture_output=True, text=True)
        self.assertTampered(result, "missing-start")
        self.assertNotIn("anchored: records", result.stdout)
        stripped = self.launder(files)
        self.assertTampered(subprocess.run([BINARY, "audit", "verify", *stripped, "--public-key", public_key], capture_output=True, text=True),
                            "missing-checkpoint")

    def test_a_log_cut_without_its_shutdown_checkpoint_is_unanchored(self):
        work, files = self.copy()
        lines = self.read(files[-1])
        self.assertIn('"kind":"shutdown"', lines[-1])
        last_checkpoint = max(number for number, line in enumerate(lines[:-1]) if '"checkpoint":' in line)
        if last_checkpoint == len(lines) - 2:
            self.skipTest("no record between the last periodic checkpoint and the shutdown one")
        self.write(files[-1], lines[:-1])
        os.remove(os.path.join(work, "checkpoints", f"checkpoint-{json.loads(lines[-1])['checkpoint']['seq']:020d}.json"))
        self.assertTampered(self.verify(files, os.path.join(work, "checkpoints")), "unanchored-tail")

    def test_key_fingerprint_is_what_ssh_keygen_prints(self):
        if not shutil.which("ssh-keygen"):
            self.skipTest("ssh-keygen is not installed")
        from cryptography.hazmat.primitives import serialization
        with open(self.public_key, "rb") as file:
            public = serialization.load_pem_public_key(file.read())
        work = tempfile.mkdtemp(prefix="audit-ssh-")
        self.addCleanup(shutil.rmtree, work, True)
        openssh = os.path.join(work, "key.pub")
        with open(openssh, "wb") as file:
            file.write(public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH) + b"\n")
        printed = subprocess.run(["ssh-keygen", "-l", "-f", openssh], check=True, capture_output=True, text=True).stdout.split()[1]
        self.assertTrue(printed.startswith("SHA256:"), printed)
        self.assertIn(f"checkpoints signed by {printed} ", self.startup)
        checkpoint = json.loads(self.read(sorted(glob_checkpoints(self.checkpoints))[0])[0])
        self.assertEqual(checkpoint["key"], printed)

    def test_disconnected_stream_records_what_was_delivered(self):
        self.assertEqual(self.streamed_pieces, 3, "the stream was still going when its client left")
        records = [json.loads(line) for name in os.listdir(self.directory) if re.fullmatch(r"audit\.jsonl(\.\d+)?", name)
                   for line in self.read(os.path.join(self.directory, name))]
        gone = [record for record in records if record.get("clientDisconnected")]
        self.assertEqual(len(gone), 1, gone)
        record = gone[0]
        self.assertEqual((record["status"], record["completed"], record["stream"]), (499, False, True))
        # the server may have written a little more into the socket than the client read before it closed
        self.assertTrue(record["completion"].startswith(self.received), (record["completion"], self.received))
        self.assertGreater(record["completionTokens"], 0)
        self.assertLess(record["completionTokens"], 200)

    def test_keygen_and_bad_usage(self):
        work = tempfile.mkdtemp(prefix="audit-keygen-")
        self.addCleanup(shutil.rmtree, work, True)
        key = os.path.join(work, "k.pem")
        made = subprocess.run([BINARY, "audit", "keygen", "--key", key], capture_output=True, text=True)
        self.assertEqual(made.returncode, 0, made.stderr)
        self.assertTrue(made.stdout.startswith("-----BEGIN PUBLIC KEY-----"))
        self.assertNotIn("PRIVATE", made.stdout + made.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        again = subprocess.run([BINARY, "audit", "keygen", "--key", key], capture_output=True, text=True)
        self.assertEqual(again.returncode, 2)
        missing = subprocess.run([BINARY, "audit", "verify", os.path.join(work, "absent.jsonl")], capture_output=True, text=True)
        self.assertEqual(missing.returncode, 2, missing.stdout + missing.stderr)


if __name__ == "__main__":
    unittest.main()


class AuditAvailabilityTests(unittest.TestCase):
    """A full disk and a torn last line, against the real binary: the chain stays whole, the server refuses rather than
    glue records onto torn bytes, and a restart resumes."""

    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="audit-avail-")
        self.log = os.path.join(self.directory, "audit.jsonl")
        self.key = os.path.join(self.directory, "audit-key.pem")

    def tearDown(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    def start(self, file_limit=None):
        import resource

        def limit():
            # a real short write: past this size write() stores what fits, then fails with EFBIG (serve ignores SIGXFSZ)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

        arguments = [BINARY, "serve", "--model", MODEL, "--port", "0", "--no-auth", "--audit-log", self.log, "--audit-key", self.key,
                     "--parallel", "1", "--ctx", "256", "--threads", "1", "--rate-limit", "0"]
        process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=limit if file_limit else None)
        line = process.stdout.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not match:
            process.kill()
            self.fail("serve did not start: " + line + process.stderr.read())
        return process, f"http://127.0.0.1:{match.group(1)}"

    def stop(self, process):
        process.terminate()
        code = process.wait(timeout=30)
        errors = process.stderr.read()
        process.stderr.close()
        process.stdout.close()
        return code, errors

    def crash(self, process):
        """Kills the server as a crash would; the log's bytes and its last line."""
        process.kill()
        process.wait(timeout=30)
        process.stderr.close()
        process.stdout.close()
        data = self.contents()
        return data, data[:-1].rsplit(b"\n", 1)[1]

    def contents(self):
        with open(self.log, "rb") as file:
            return file.read()

    def verify(self):
        return subprocess.run([BINARY, "audit", "verify", self.log, "--checkpoints", self.log + ".checkpoints"],
                              capture_output=True, text=True, timeout=60)

    def test_disk_full_cuts_back_refuses_and_a_restart_resumes(self):
        process, base = self.start(file_limit=3000)
        statuses = []
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(40):
                statuses.append(client.get("/v1/models").status_code)
                if statuses[-1] == 503:
                    break
            self.assertEqual(statuses[-1], 503, statuses)
            self.assertTrue(all(status == 200 for status in statuses[:-1]), statuses)
            size = os.path.getsize(self.log)
            data = self.contents()
            # the torn bytes of the failed write were cut off: whole records only
            self.assertTrue(data.endswith(b"\n"), data[-80:])
            for line in data.split(b"\n")[:-1]:
                self.assertEqual(line.count(b'{"hash"'), 1, line[:120])
                json.loads(line)
            # refusing from now on, and its own 503s are not written (the file is not touched)
            for _ in range(3):
                self.assertEqual(client.get("/v1/models").status_code, 503)
            self.assertEqual(client.get("/health").status_code, 503)
            self.assertEqual(self.contents(), data)
        self.assertLess(size, 3000)
        code, errors = self.stop(process)
        self.assertEqual(code, 1, errors)
        self.assertIn("no shutdown checkpoint was signed", errors)
        self.assertEqual(self.contents(), data)
        # space back: a restart checks the log, signs a start checkpoint over it and serves
        process, base = self.start()
        with httpx.Client(base_url=base, timeout=30) as client:
            self.assertEqual(client.get("/v1/models").status_code, 200)
        code, errors = self.stop(process)
        self.assertEqual(code, 0, errors)
        result = self.verify()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("audit log intact", result.stdout)

    def test_torn_last_line_is_its_own_finding_and_a_restart_recovers_it(self):
        process, base = self.start()
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(3):
                self.assertEqual(client.get("/v1/models").status_code, 200)
        data, last = self.crash(process)
        torn = last[: len(last) // 2]
        whole = data[: len(data) - 1 - len(last)]
        with open(self.log, "wb") as file:
            file.write(whole + torn)
        result = self.verify()
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("torn-tail", result.stdout)
        self.assertIn("restarting the server", result.stdout)
        self.assertNotIn("malformed", result.stdout)
        process, base = self.start()
        with httpx.Client(base_url=base, timeout=30) as client:
            self.assertEqual(client.get("/v1/models").status_code, 200)
        code, errors = self.stop(process)
        self.assertEqual(code, 0, errors)
        self.assertIn("torn record", errors)
        after = self.contents()
        self.assertTrue(after.startswith(whole))
        self.assertNotIn(torn + b"{", after)
        removed = [json.loads(line)["tornTailRemoved"] for line in after.split(b"\n") if b"tornTailRemoved" in line]
        self.assertEqual(removed, [{"bytes": len(torn), "sha256": hashlib.sha256(torn).hexdigest()}])
        result = self.verify()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_a_malformed_line_ending_in_a_newline_still_refuses_start(self):
        process, base = self.start()
        with httpx.Client(base_url=base, timeout=30) as client:
            self.assertEqual(client.get("/v1/models").status_code, 200)
        data, last = self.crash(process)
        with open(self.log, "wb") as file:
            file.write(data[: len(data) - 1 - len(last)] + last[: len(last) // 2] + b"\n")
        before = self.contents()
        result = self.verify()
        self.assertEqual(result.returncode, 1)
        self.assertIn("malformed", result.stdout)
        process = subprocess.Popen([BINARY, "serve", "--model", MODEL, "--port", "0", "--no-auth", "--audit-log", self.log,
                                    "--audit-key", self.key], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, errors = process.communicate(timeout=60)
        self.assertNotEqual(process.returncode, 0, out)
        self.assertIn("not a record of the chain", errors)
        self.assertEqual(self.contents(), before)
