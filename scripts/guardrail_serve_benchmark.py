"""Measures what the guardrail policy costs `inference-server serve` end to end at 16 concurrent streaming clients: the
same release binary and model started twice, once without a policy and once with `--policy` (the shipped policy,
Templates/node/guardrails.json5, where every detector masks and pseudonymize is on, plus a word list of 200 phrases
and two patterns), both up for the whole run and loaded in turn, A B A B ... (`--rounds`, 5 by default), so that
the machine's noise falls on both alike. Every request is a streamed chat completion of a ~1.5 KB message of ordinary
text with addresses, a phone number, a card number (masked, not blocked, under this policy), a "project codename N"
phrase, an employee id and a ticket number inside, so that the rules find something; each round's prompts are new
(no prefix reuse across rounds) and the same for both servers, and bans the model's end-of-generation tokens
(logit_bias -100, their ids read from the GGUF) so that every answer is max_tokens long under either server (the
masked prompt differs from the plain one, and so would the point where the model stops). Prints, side by side:
- generated tokens per second, all 16 clients together (each stream's last chunk's usage), each round and the
  median; and policy / none (target: >= 0.97, within 3%);
- the guardrails' own time per request, p50 and p99 of `guardrails.microseconds` in the policy server's audit
  records (target: p99 < 5 ms);
- per streamed chunk, client side: time to the first content chunk, p50 and p99, for both and their difference
  (what the stream guard's hold-back window adds), and the gap between content chunks, p50 and p99, for both;
- which rules acted, from the audit records (that the rules did work).
With a policy a stream is sent a chunk per half window judged rather than one per token: fewer, larger chunks,
which cost the server (and this script's clients, on the same machine) less than the plain stream's, so the policy's
aggregate can come out the higher; the CPU seconds of each phase, server and clients, are printed beside it, and the
prompt + generated rate too (masking shortens the prompts a little).
Exits 0 whatever the figures ("met" or "NOT met" is printed beside each target); not 0 only when something failed
to run (a server that did not start, a request refused).

The default model is the test fixture Tests/InferenceTests/Fixtures/models/llama-q8_0.gguf (random weights, a
1024-token SentencePiece vocabulary: this text is about 0.45 tokens a byte). Its GGUF says a context of 256 tokens,
too few for the prompts, so the script serves a temporary copy whose `context_length` says --ctx instead (the
value alone is changed; RoPE has no table of that length, and the weights are random anyway): --ctx 2048 holds a
1.5 KB prompt (~650 tokens with the chat template) and 128 generated tokens with room to spare. The same is done
for any --model whose context is under --ctx. The real model (Gemma 3 270M, whose path scripts/real-model prints)
has 32k; on a small machine give it fewer requests (--requests 1) or shorter prompts (--prompt-bytes 600).

Needs a release build and httpx (not run by CI):
    swift build -c release --product inference-server
    python3 scripts/guardrail_serve_benchmark.py [--rounds 3] [--model PATH] [--threads N] [--requests 4] [--max-tokens 128]
    python3 scripts/guardrail_serve_benchmark.py --model "$(scripts/real-model)" --requests 1
"""
import argparse
import concurrent.futures
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

import httpx

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SERVER = os.path.join(ROOT, ".build", "release", "inference-server")
MODEL = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "models", "llama-q8_0.gguf")
SHIPPED_POLICY = os.path.join(ROOT, "Templates", "node", "guardrails.json5")
CLIENTS = 16
PHRASES = 200
TARGET_RATIO = 0.97
TARGET_GUARDRAIL_P99_US = 5000

# what the policy adds to the shipped default profile: a word list and two patterns (one masks, one only logs)
EXTRA_RULES = {
    "words": [{"name": "codenames", "phrases": [f"project codename {n}" for n in range(PHRASES)], "action": "mask"}],
    "patterns": [{"name": "employee-id", "regex": "EMP-[0-9]{6}", "action": "mask"},
                 {"name": "ticket", "regex": "INC[0-9]{7}", "ignore_case": True, "action": "log"}],
}

# ordinary text, shuffled into each prompt, and the sensitive lines the rules are there for
SENTENCES = [
    "Thanks for the quick turnaround on the draft, the structure reads much better now.",
    "The quarterly review moved to Thursday afternoon because the finance team is travelling on Wednesday.",
    "We still need a decision on whether the warehouse migration happens before or after the holiday freeze.",
    "Our vendor confirmed that the replacement parts ship next week, which unblocks the assembly line.",
    "Could you summarise the open risks in a few bullet points so that I can share them with the steering group?",
    "The customer survey came back with mostly positive comments about onboarding but complaints about billing.",
    "Please keep the tone friendly and short, the audience is busy and will read it on their phones.",
    "Last month the support queue averaged four hours to first response, down from six the month before.",
    "Marketing wants the launch page live by the end of the month, with the pricing table finalised first.",
    "I attached the meeting notes from Monday; the action items are at the bottom of the second page.",
    "Legal asked us to double-check the retention wording in the contract before anything is signed.",
    "The new hires start on the first of the month and will need laptops, badges and accounts set up.",
    "If the budget allows, we would like to extend the pilot to two more regions in the spring.",
    "The dashboard numbers looked off on Friday, so engineering is re-running the nightly aggregation job.",
    "Remember that the office is closed on Monday for maintenance of the heating system.",
    "Several teams reported that the shared calendar invites arrive twice, which IT is looking into.",
    "The draft press release mentions the partnership, but we have not yet agreed on the wording with them.",
    "Travel expenses must be submitted within thirty days, otherwise the approval flow gets complicated.",
    "We should plan a short retrospective once the release is out, ideally with everyone in the same room.",
    "The training material needs a refresh, several screenshots still show the old navigation menu.",
]
NAMES = ["Dana", "Alex", "Priya", "Jonas", "Mei", "Samir", "Lucia", "Tom", "Aisha", "Erik", "Nora", "Kenji"]
DOMAINS = ["example.com", "example.org", "corp.example.net", "mail.example.io"]


def prompt_text(index, target_bytes):
    """The message of request `index`: a greeting that differs from request to request (no shared prefix), the
    ordinary sentences shuffled, and the sensitive lines at random places, about `target_bytes` long in all."""
    rng = random.Random(index)
    name, other = rng.sample(NAMES, 2)
    email = lambda person: f"{person.lower()}.{rng.choice(NAMES).lower()}{rng.randrange(100)}@{rng.choice(DOMAINS)}"
    sensitive = [
        f"Please send the revised figures to {email(name)} and copy {email(other)} on the thread.",
        f"If anything is unclear you can reach me at +1 415 555 {rng.randrange(10000):04d} until six.",
        "The corporate card on file is 4111 1111 1111 1111, so the booking should go through this time.",
        f"This is all part of project codename {index % PHRASES}, which we do not mention outside the team yet.",
        f"My employee number is EMP-{rng.randrange(10 ** 6):06d} and the related ticket is INC{rng.randrange(10 ** 7):07d}.",
        f"Accounts payable ({email('ap')}) asked for the invoice number as well.",
    ]
    opening = f"Hi {name}, request {index}: here is where things stand this week."
    closing = f"Please rewrite the update above as a short status note. Best, {other}"
    pool = SENTENCES[:]
    rng.shuffle(pool)
    body = list(sensitive)
    size = len(opening) + len(closing) + sum(len(line) + 1 for line in body)
    for sentence in pool * 4:
        if size + len(sentence) + 1 > target_bytes:
            break
        body.insert(rng.randrange(len(body) + 1), sentence)
        size += len(sentence) + 1
    return " ".join([opening] + body + [closing])


def write_policy(directory):
    """The shipped policy with the word list and patterns added to its default profile (inserted as JSON, which is
    JSON5, right after `default: {`, so the shipped text and its comments stay as they are)."""
    with open(SHIPPED_POLICY) as file:
        shipped = file.read()
    anchor = re.search(r"^\s*default:\s*\{", shipped, re.MULTILINE)
    if not anchor:
        sys.exit(f"no 'default: {{' in {SHIPPED_POLICY}: cannot add the benchmark's rules")
    added = "".join(f"\n    {key}: {json.dumps(value)}," for key, value in EXTRA_RULES.items())
    path = os.path.join(directory, "policy.json5")
    with open(path, "w") as file:
        file.write(shipped[:anchor.end()] + added + shipped[anchor.end():])
    return path


GGUF_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
GGUF_INTEGERS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 10: "<Q", 11: "<q"}
# the texts of tokens that end a generation whatever the file says (Inference/Engine/Tokenizer/Vocabulary.swift,
# endOfGenerationTexts, after llama.cpp)
END_TEXTS = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
             "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
             "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<\uff5cend\u2581of\u2581sentence\uff5c>", "[e~["}


def gguf_metadata(path):
    """The GGUF's metadata: {key: (offset of its value, struct format, value)} for integers, and the token texts
    (tokenizer.ggml.tokens) as (None, None, [texts]); other values are skipped."""
    with open(path, "rb") as file:
        data = file.read(256 << 20)
    if data[:4] != b"GGUF":
        sys.exit(f"{path} is not a GGUF file")
    (count,) = struct.unpack_from("<Q", data, 16)
    position = 24
    metadata = {}

    def string(position):
        (length,) = struct.unpack_from("<Q", data, position)
        return data[position + 8:position + 8 + length].decode(errors="replace"), position + 8 + length

    def skip(kind, position):
        if kind == 8:
            return string(position)[1]
        if kind == 9:
            inner, length = struct.unpack_from("<IQ", data, position)
            position += 12
            if inner in GGUF_SIZES:
                return position + length * GGUF_SIZES[inner]
            for _ in range(length):
                position = skip(inner, position)
            return position
        return position + GGUF_SIZES[kind]

    for _ in range(count):
        key, position = string(position)
        (kind,) = struct.unpack_from("<I", data, position)
        position += 4
        if kind in GGUF_INTEGERS:
            metadata[key] = (position, GGUF_INTEGERS[kind], struct.unpack_from(GGUF_INTEGERS[kind], data, position)[0])
        elif key == "tokenizer.ggml.tokens" and kind == 9 and struct.unpack_from("<I", data, position)[0] == 8:
            (length,) = struct.unpack_from("<Q", data, position + 4)
            texts, cursor = [], position + 12
            for _ in range(length):
                text, cursor = string(cursor)
                texts.append(text)
            metadata[key] = (None, None, texts)
        position = skip(kind, position)
    return metadata


def end_tokens(metadata):
    """The ids of the tokens that would end a generation (EOS, EOT, EOM and the end-of-turn texts), which every
    request bans with logit_bias so that each one generates max_tokens tokens with and without the policy alike."""
    ids = {metadata[f"tokenizer.ggml.{name}_token_id"][2] for name in ("eos", "eot", "eom")
           if f"tokenizer.ggml.{name}_token_id" in metadata}
    texts = metadata.get("tokenizer.ggml.tokens", (None, None, []))[2]
    return sorted(ids | {index for index, text in enumerate(texts) if text in END_TEXTS})


def model_for(path, metadata, ctx, directory):
    """`path`, or a copy in `directory` whose context_length says `ctx` where the model's own is shorter: (path, note)."""
    contexts = [value for key, value in metadata.items() if key.endswith(".context_length")]
    if not contexts:
        sys.exit(f"{path} has no context_length")
    offset, form, context = contexts[0]
    if context >= ctx:
        return path, ""
    copy = os.path.join(directory, os.path.basename(path))
    shutil.copyfile(path, copy)
    with open(copy, "r+b") as file:
        file.seek(offset)
        file.write(struct.pack(form, ctx))
    return copy, f" (its context_length {context} raised to {ctx} in a temporary copy)"


class Server:
    """One `serve` on a free loopback port with its own key file, audit log and (or not) policy; its output is read
    all along (a pipe left full would stall it) and its last lines kept for an error message."""

    running = []

    def __init__(self, name, model, options, directory, policy=None):
        self.name = name
        self.directory = os.path.join(directory, name)
        os.makedirs(self.directory)
        keys = os.path.join(self.directory, "keys.json")
        self.audit = os.path.join(self.directory, "audit.jsonl")
        self.key = subprocess.run([SERVER, "keys", "add", "bench", "--keys", keys], check=True, capture_output=True,
                                  text=True).stdout.strip()
        arguments = [SERVER, "serve", "--model", model, "--port", "0", "--keys", keys, "--audit-log", self.audit,
                     "--parallel", str(CLIENTS), "--ctx", str(options.ctx), "--threads", str(options.threads), "--rate-limit", "0"]
        arguments += ["--policy", policy] if policy else []
        self.lines = []
        self.process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        Server.running.append(self)
        listening = threading.Event()
        threading.Thread(target=self.read, args=(listening,), daemon=True).start()
        if not listening.wait(120) or self.process.poll() is not None:
            raise RuntimeError(f"{name} server did not start:\n" + "".join(self.lines[-20:]))
        self.base = re.search(r"listening on (https?://127\.0\.0\.1:\d+)", "".join(self.lines)).group(1)

    def read(self, listening):
        for line in self.process.stdout:
            self.lines.append(line)
            if "listening on" in line:
                listening.set()
        listening.set()

    def cpu_seconds(self):
        """User and system CPU time the server has used so far (Linux's /proc; nan elsewhere)."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return float("nan")

    def records(self):
        with open(self.audit) as log:
            return [json.loads(line) for line in log if line.strip()]

    def stop(self):
        if self in Server.running:
            Server.running.remove(self)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def stop_all():
    for server in list(Server.running):
        server.stop()


def stream_chat(client, server, prompt, max_tokens, banned):
    """One streamed chat completion (the `banned` tokens never sampled): the time to its first content chunk, the
    gaps between its content chunks, its generated and prompt tokens (the last chunk's usage) and its request id."""
    body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, "temperature": 0,
            "stream": True, "stream_options": {"include_usage": True}, "logit_bias": {str(token): -100 for token in banned}}
    headers = {"Authorization": f"Bearer {server.key}"}
    started = time.perf_counter()
    arrivals, usage = [], None
    with client.stream("POST", server.base + "/v1/chat/completions", json=body, headers=headers, timeout=600) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{server.name} server answered {response.status_code}: {response.read()[:300]!r}")
        request_id = response.headers.get("x-request-id")
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise RuntimeError(f"{server.name} server's stream ended with an error: {chunk['error']}")
            usage = chunk.get("usage") or usage
            choices = chunk.get("choices") or []
            if choices and (choices[0].get("delta") or {}).get("content"):
                arrivals.append(time.perf_counter())
    if usage is None:
        raise RuntimeError(f"{server.name} server sent no usage (stream_options.include_usage)")
    return {"first": (arrivals[0] if arrivals else time.perf_counter()) - started,
            "gaps": [later - earlier for earlier, later in zip(arrivals, arrivals[1:])], "chunks": len(arrivals),
            "tokens": usage["completion_tokens"], "prompt_tokens": usage["prompt_tokens"], "id": request_id}


def load(connections, server, prompts, requests, max_tokens, banned):
    """16 clients, each sending its `requests` prompts one after another on its own connection (`connections`,
    made once: an httpx.Client costs a TLS context to make, CPU this machine's server would otherwise have): the
    results and the wall time from the first request to the last answer."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS)

    def client(index):
        return [stream_chat(connections[index], server, prompts[index * requests + k], max_tokens, banned) for k in range(requests)]

    try:
        started = time.perf_counter()
        results = [item for batch in pool.map(client, range(CLIENTS)) for item in batch]
        return results, time.perf_counter() - started
    finally:
        # on Ctrl-C, leave the clients to fail when their server is stopped rather than wait for their streams
        pool.shutdown(wait=False, cancel_futures=True)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def met(ok):
    return "met" if ok else "NOT met"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=MODEL, help="GGUF to serve (default: the llama-q8_0 test fixture)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="each server's threads (default: the CPUs)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each loading both servers in turn (default 5)")
    parser.add_argument("--requests", type=int, default=4, help="streamed requests per client per round (default 4)")
    parser.add_argument("--max-tokens", type=int, default=128, help="max_tokens of each request (default 128)")
    parser.add_argument("--prompt-bytes", type=int, default=1500, help="each prompt's length, about (default 1500)")
    parser.add_argument("--ctx", type=int, default=2048, help="each slot's context: prompt and max_tokens must fit (default 2048)")
    parser.add_argument("--keep", help="directory for the policy, keys and audit logs, kept (default: a temporary one, removed)")
    options = parser.parse_args()
    if options.rounds < 1 or options.requests < 1:
        parser.error("--rounds and --requests are at least 1")
    if not os.path.exists(SERVER):
        sys.exit(f"{SERVER} is missing: swift build -c release --product inference-server")

    # SIGTERM stops the servers as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    directory = options.keep or tempfile.mkdtemp(prefix="guardrail-bench-")
    os.makedirs(directory, exist_ok=True)
    try:
        run(options, directory)
    except KeyboardInterrupt:
        print("interrupted: stopping the servers", file=sys.stderr)
        sys.exit(130)
    finally:
        stop_all()
        if not options.keep:
            shutil.rmtree(directory, ignore_errors=True)


def run(options, directory):
    metadata = gguf_metadata(options.model)
    model, note = model_for(options.model, metadata, options.ctx, directory)
    banned = end_tokens(metadata)
    policy = write_policy(directory)
    servers = {"none": Server("none", model, options, directory), "policy": Server("policy", model, options, directory, policy)}
    per_round = CLIENTS * options.requests
    connections = [httpx.Client() for _ in range(CLIENTS)]

    # warm-up, not measured: every slot of each server once, a few tokens each
    warm = [prompt_text(-1 - n, options.prompt_bytes) for n in range(CLIENTS)]
    for server in servers.values():
        load(connections, server, warm, 1, 8, banned)
    print(f"  started both servers; {options.rounds} rounds of {per_round} requests each", file=sys.stderr, flush=True)

    results = {name: [] for name in servers}
    for round_index in range(options.rounds):
        prompts = [prompt_text(round_index * per_round + n, options.prompt_bytes) for n in range(per_round)]
        for name, server in servers.items():
            time.sleep(0.5)  # the other server's threads settle
            server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
            answers, wall = load(connections, server, prompts, options.requests, options.max_tokens, banned)
            results[name].append({"answers": answers, "wall": wall, "tps": sum(a["tokens"] for a in answers) / wall,
                                  "all": sum(a["tokens"] + a["prompt_tokens"] for a in answers) / wall,
                                  "server_cpu": server.cpu_seconds() - server_cpu, "client_cpu": time.process_time() - client_cpu})
            print(f"  round {round_index + 1} {name}: {results[name][-1]['tps']:.1f} t/s", file=sys.stderr, flush=True)

    # the policy server's audit records of the measured requests (each written before its stream's end; waited for a moment)
    wanted = {answer["id"] for result in results["policy"] for answer in result["answers"]}
    for _ in range(100):
        records = [record for record in servers["policy"].records() if record.get("requestId") in wanted]
        if len(records) >= len(wanted):
            break
        time.sleep(0.1)
    timed = [record["guardrails"]["microseconds"] for record in records
             if isinstance(record.get("guardrails"), dict) and "microseconds" in record["guardrails"]]
    acted = {}
    for record in records:
        for decision in (record.get("guardrails") or {}).get("decisions") or []:
            key = (decision["direction"], decision["rule"], decision["action"])
            acted[key] = acted.get(key, 0) + decision.get("count", 1)
    with open(servers["none"].audit) as log:
        raw_card = "4111 1111 1111 1111" in log.read()
    with open(servers["policy"].audit) as log:
        policy_card = "4111 1111 1111 1111" in log.read()
    for server in list(servers.values()):
        server.stop()
    for connection in connections:
        connection.close()

    def answers(name):
        return [answer for result in results[name] for answer in result["answers"]]

    prompt_tokens = {name: statistics.median(a["prompt_tokens"] for a in answers(name)) for name in servers}
    print(f"model {os.path.basename(options.model)}{note}, {options.threads} threads, --parallel {CLIENTS} --ctx {options.ctx}")
    print(f"{CLIENTS} clients x {options.requests} streamed chat requests a round, max_tokens {options.max_tokens}, temperature 0, "
          f"end tokens {banned} banned; "
          f"prompts ~{options.prompt_bytes} bytes (median prompt tokens: none {prompt_tokens['none']:.0f}, "
          f"policy {prompt_tokens['policy']:.0f}, masked)")
    print(f"policy: {os.path.relpath(SHIPPED_POLICY, ROOT)} + a word list of {PHRASES} phrases (mask) + patterns employee-id (mask), ticket (log)")
    print()
    print("generated tokens per second, 16 clients together (and prompt + generated; CPU seconds of the server and of this "
          "script's clients, which share the machine)")
    print(f"{'round':<8}{'none':>9}{'policy':>9}{'policy/none':>13}{'| +prompt none':>15}{'policy':>9}{'ratio':>7}"
          f"{'| cpu srv none':>15}{'policy':>8}{'| cpu cli none':>15}{'policy':>8}")
    for index in range(options.rounds):
        none, guarded = results["none"][index], results["policy"][index]
        print(f"{index + 1:<8}{none['tps']:>9.1f}{guarded['tps']:>9.1f}{guarded['tps'] / none['tps']:>13.3f}"
              f"{none['all']:>15.1f}{guarded['all']:>9.1f}{guarded['all'] / none['all']:>7.3f}"
              f"{none['server_cpu']:>15.2f}{guarded['server_cpu']:>8.2f}{none['client_cpu']:>15.2f}{guarded['client_cpu']:>8.2f}")

    def median(name, key):
        return statistics.median(result[key] for result in results[name])

    ratio = median("policy", "tps") / median("none", "tps")
    print(f"{'median':<8}{median('none', 'tps'):>9.1f}{median('policy', 'tps'):>9.1f}{ratio:>13.3f}"
          f"{median('none', 'all'):>15.1f}{median('policy', 'all'):>9.1f}{median('policy', 'all') / median('none', 'all'):>7.3f}")
    print(f"generated tokens: {sum(a['tokens'] for a in answers('none'))} without a policy, {sum(a['tokens'] for a in answers('policy'))} with it")
    print(f"target: aggregate generated t/s, policy / none (medians) >= {TARGET_RATIO}: {ratio:.3f}  {met(ratio >= TARGET_RATIO)}")

    print()
    if timed:
        p50, p99 = percentile(timed, 0.5), percentile(timed, 0.99)
        print(f"guardrail time per request (audit guardrails.microseconds, {len(timed)} of {len(wanted)} requests): "
              f"p50 {p50} us, p99 {p99} us, max {max(timed)} us")
        print(f"target: p99 < {TARGET_GUARDRAIL_P99_US / 1000:g} ms: {p99 / 1000:.3f} ms  {met(p99 < TARGET_GUARDRAIL_P99_US)}")
    else:
        print(f"guardrail time per request: no audit record with guardrails.microseconds among {len(records)}  NOT met")
    rules = ", ".join(f"{direction} {rule} {action} {count}" for (direction, rule, action), count in sorted(acted.items()))
    print(f"rules that acted (audit decisions, summed): {rules or 'none'}")
    print(f"the card number in the audit log: without a policy {'yes' if raw_card else 'no'}, with it {'yes' if policy_card else 'no'}")

    print()
    first = {name: [a["first"] * 1000 for a in answers(name)] for name in servers}
    gaps = {name: [gap * 1000 for a in answers(name) for gap in a["gaps"]] for name in servers}
    print(f"{'per streamed chunk (ms)':<26}{'none':>10}{'policy':>10}{'policy-none':>13}")
    for label, fraction in (("first content chunk p50", 0.5), ("first content chunk p99", 0.99)):
        none, guarded = percentile(first["none"], fraction), percentile(first["policy"], fraction)
        print(f"{label:<26}{none:>10.1f}{guarded:>10.1f}{guarded - none:>+13.1f}")
    for label, fraction in (("inter-chunk gap p50", 0.5), ("inter-chunk gap p99", 0.99)):
        none = percentile(gaps["none"], fraction) if gaps["none"] else float("nan")
        guarded = percentile(gaps["policy"], fraction) if gaps["policy"] else float("nan")
        print(f"{label:<26}{none:>10.1f}{guarded:>10.1f}{guarded - none:>+13.1f}")
    chunks = {name: statistics.mean(a["chunks"] for a in answers(name)) for name in servers}
    print(f"{'content chunks a request':<26}{chunks['none']:>10.1f}{chunks['policy']:>10.1f}")
    print("(the difference in time to the first content chunk is what the stream guard's hold-back window adds)")


if __name__ == "__main__":
    main()
