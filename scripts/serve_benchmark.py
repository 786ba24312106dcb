"""Races `inference-server serve` against llama.cpp's own llama-server (--parallel 16, continuous batching) and
llama-cpp-python's server on one random-weight model of TinyLlama-1.1B's shape in Q4_0, same file, same threads, in
one run. Prints, side by side: aggregate generated tokens per second and time to first token (p50, p99) with 1, 4
and 16 concurrent streaming clients; then time to first token per turn of an 8-turn conversation, with prefix
reuse on and off; and the ratios the serving issue sets as targets (16-client aggregate against the engine's own
prompt-processing rate and against one client; against llama-server at 16).

Needs a release build, PyPI gguf, numpy, httpx and llama-cpp-python (for the model and its server: pip install
'llama-cpp-python[server]'), and llama-server built from the llama.cpp vendored in llama-cpp-python's source
distribution (not committed, not run by CI; scripts/build-llama-cpp, which builds it without AMX where llama.cpp's
AMX path crashes):
    scripts/build-llama-cpp
    swift build -c release --product inference-server
    python3 scripts/serve_benchmark.py --llama-server /tmp/llama-build/bin/llama-server [--threads 2] [--keep DIR] [--races N]

`--sampling defaults` instead measures what sampling costs: aggregate generated t/s at 1 and 8 clients, greedy and
sampled with OpenAI's defaults (temperature 1, top_k 0, top_p 1, min_p 0, sent explicitly: llama-server's own
defaults differ), side by side for each server, and the sampled / greedy ratios (target: >= 0.9). `--real-model`
runs it on the real model (scripts/real-model: Gemma 3 270M, a 262k vocabulary, where sampling costs most) instead
of the random one, which needs neither gguf nor llama-cpp-python (the random one without llama-cpp-python is
quantised by llama-quantize, built beside llama-server: cmake --build /tmp/llama-build --target llama-quantize):
    python3 scripts/serve_benchmark.py --sampling defaults [--real-model] [--llama-server PATH]
"""
import argparse
import concurrent.futures
import contextlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SERVER = os.path.join(ROOT, ".build", "release", "inference-server")
# the random model's vocabulary is its 256 byte tokens plus tok0..tok31999, which no text spells (SentencePiece
# cannot merge its way to them): text is one token per byte, so prompts are short runs of letters
PROMPT_BYTES = 16
TURN_BYTES = 32
# replies of 128 tokens, as llama-batched-bench's default: each request's 17 prompt tokens are work the generated
# aggregate does not count (at 64-token replies they alone hold it under 0.8x the engine's prompt rate)
MAX_TOKENS = 128
CONTEXT_PER_SLOT = 1024


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(base, process, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited: {process.args}")
        try:
            # llama-cpp-python's server has no /health; every server lists its model once it is loaded
            if httpx.get(base + "/v1/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    sys.exit(f"server did not become ready: {process.args}")


def start(kind, model, threads, llama_server, reuse=True):
    port = free_port()
    if kind == "inference-server":
        arguments = [SERVER, "serve", "--model", model, "--no-auth", "--port", str(port), "--parallel", "16", "--threads", str(threads),
                     "--ctx", str(CONTEXT_PER_SLOT), "--rate-limit", "0"] + ([] if reuse else ["--no-prefix-reuse"])
    elif kind == "llama-server":
        arguments = [llama_server, "-m", model, "--port", str(port), "--parallel", "16", "-c", str(16 * CONTEXT_PER_SLOT), "-t", str(threads),
                     "-tb", str(threads), "--cont-batching", "--no-webui"] + ([] if reuse else ["--cache-reuse", "0", "--no-cache-prompt"])
    else:
        arguments = [sys.executable, "-m", "llama_cpp.server", "--model", model, "--port", str(port), "--n_threads", str(threads),
                     "--n_ctx", str(CONTEXT_PER_SLOT)]
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, process)
    return process, base


@contextlib.contextmanager
def serving(kind, model, threads, llama_server, reuse=True):
    """`start`ed for the body of a with-statement, which gets the base URL; stopped after it, whatever happens."""
    process, base = start(kind, model, threads, llama_server, reuse)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def stream_completion(client, base, prompt, max_tokens, extra):
    """One streamed completion: (seconds to the first token, tokens generated, prompt tokens). The counts are the
    server's usage figures where it sends them; otherwise text chunks, and one token per prompt byte plus BOS (which
    is what this model's vocabulary makes of letters)."""
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}, **extra}
    started = time.perf_counter()
    first = None
    chunks, usage = 0, None
    with client.stream("POST", base + "/v1/completions", json=body, timeout=600) as response:
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            usage = chunk.get("usage") or usage
            choices = chunk.get("choices") or []
            if choices and choices[0].get("text"):
                chunks += 1
                if first is None:
                    first = time.perf_counter() - started
    generated = usage["completion_tokens"] if usage else chunks
    prompt_tokens = usage["prompt_tokens"] if usage else len(prompt.encode()) + 1
    return (first if first is not None else time.perf_counter() - started), generated, prompt_tokens


def load(base, clients, requests_per_client, extra):
    rng = random.Random(clients)
    letters = "abcdefghijklmnopqrstuvwxyz"
    prompts = ["".join(rng.choice(letters) for _ in range(PROMPT_BYTES)) for _ in range(clients * requests_per_client)]

    def run(index):
        # a connection per request: llama-server and llama-cpp-python close kept-alive connections at will
        return [stream_completion(httpx.Client(), base, prompts[index * requests_per_client + k], MAX_TOKENS, extra)
                for k in range(requests_per_client)]

    stream_completion(httpx.Client(), base, "warm up", 4, extra)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        results = [item for batch in pool.map(run, range(clients)) for item in batch]
    wall = time.perf_counter() - started
    first_tokens = sorted(result[0] for result in results)
    generated = sum(result[1] for result in results)
    processed = generated + sum(result[2] for result in results)
    return {"tps": generated / wall, "processed": processed / wall, "p50": first_tokens[len(first_tokens) // 2],
            "p99": first_tokens[min(len(first_tokens) - 1, int(len(first_tokens) * 0.99))], "tokens": generated}


def conversation(base, extra, turns=8):
    """Time to first token of each turn of a chat that re-sends its growing history."""
    rng = random.Random(8)
    history = ""
    times = []
    for turn in range(turns):
        history += " " + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(TURN_BYTES))
        body = {"prompt": history, "max_tokens": 4, "temperature": 0, "stream": True, **extra}
        started = time.perf_counter()
        first = None
        reply = ""
        with httpx.Client().stream("POST", base + "/v1/completions", json=body, timeout=600) as response:
            if response.status_code != 200:
                sys.exit(f"turn {turn} was refused: {response.status_code} {response.read()[:200]}")
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    choices = json.loads(line[6:]).get("choices") or []
                    if choices and choices[0].get("text"):
                        first = first or time.perf_counter() - started
                        reply += choices[0]["text"]
        times.append(first or time.perf_counter() - started)
        history += reply
    return times


def engine_pp(model, threads):
    output = subprocess.run([SERVER, "bench", "--model", model, "-p", "128", "-n", "0", "-r", "2", "--threads", str(threads), "--output", "json"],
                            check=True, capture_output=True, text=True).stdout
    return next(row["tokensPerSecond"] for row in json.loads(output) if row["test"].startswith("pp"))


EXTRAS = {"inference-server": {}, "llama-server": {"ignore_eos": True}, "llama-cpp-python": {}}


def races(model, options):
    """16-client aggregates of the two servers, one straight after the other, `options.races` times: the figure
    moves from run to run on a shared machine more than any engine figure, so one run's ratio says little."""
    if not os.path.exists(options.llama_server):
        sys.exit(f"--races needs llama-server: {options.llama_server} does not exist")
    ratios = []
    for race in range(options.races):
        rates = {}
        for kind in ("llama-server", "inference-server"):
            with serving(kind, model, options.threads, options.llama_server) as base:
                rates[kind] = load(base, 16, options.requests, EXTRAS[kind])["tps"]
        ratios.append(rates["inference-server"] / rates["llama-server"])
        print(f"race {race + 1}: inference-server {rates['inference-server']:.1f} t/s, llama-server {rates['llama-server']:.1f} t/s, "
              f"ratio {ratios[-1]:.2f}", flush=True)
    print(f"16-client aggregate / llama-server's, median of {len(ratios)}: {statistics.median(ratios):.2f}")


# OpenAI's defaults, as a client that sets nothing gets them from inference-server, spelled out for llama-server
SAMPLED_DEFAULTS = {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0}
SAMPLING_CLIENTS = (1, 8)


def sampling_costs(model, options):
    """Greedy against sampled-with-defaults, at 1 and 8 clients, per server, in one run."""
    kinds = ["inference-server"] + (["llama-server"] if os.path.exists(options.llama_server) else [])
    if len(kinds) == 1:
        print(f"llama-server not found at {options.llama_server}: inference-server alone", file=sys.stderr)
    results = {}
    for kind in kinds:
        with serving(kind, model, options.threads, options.llama_server) as base:
            for clients in SAMPLING_CLIENTS:
                for mode in ("greedy", "sampled"):
                    extra = dict(EXTRAS[kind])
                    if mode == "sampled":
                        extra.update(SAMPLED_DEFAULTS, seed=1234)
                    results[(kind, clients, mode)] = load(base, clients, options.requests, extra)
                    print(f"  measured {kind}, {clients} clients, {mode}", file=sys.stderr, flush=True)
    print(f"model {os.path.basename(model)}, {options.threads} threads, {MAX_TOKENS}-token replies, {options.requests} per client")
    print(f"{'server':<18}{'clients':>8}{'greedy t/s':>12}{'sampled t/s':>13}{'sampled/greedy':>16}")
    for kind in kinds:
        for clients in SAMPLING_CLIENTS:
            greedy, sampled = results[(kind, clients, "greedy")]["tps"], results[(kind, clients, "sampled")]["tps"]
            print(f"{kind:<18}{clients:>8}{greedy:>12.1f}{sampled:>13.1f}{sampled / greedy:>16.2f}")
    print("target: sampled / greedy >= 0.90 at 1 and 8 clients")


def write_throughput(path, model, threads, generated, prompt):
    """What one node sustains, for `deploy breakeven --throughput-from`: generated tokens per second, 16 clients
    together, and prompt tokens per second as the engine processes them (prompts are batched whatever the
    concurrency), so that a workload's own prompt:output ratio prices its prompts rather than this benchmark's."""
    document = {"format": "deploy.throughput/1", "model": os.path.basename(model), "threads": threads, "clients": 16,
                "max_tokens": MAX_TOKENS, "generation_tokens_per_second": round(generated, 2),
                "prompt_tokens_per_second": round(prompt, 2)}
    with open(path, "w") as file:
        json.dump(document, file, indent=2)
        file.write("\n")
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--llama-server", default="/tmp/llama-build/bin/llama-server")
    parser.add_argument("--keep", help="directory for the model (default: a temporary one)")
    parser.add_argument("--requests", type=int, default=2, help="requests per client")
    parser.add_argument("--skip-python-server", action="store_true")
    parser.add_argument("--conversation-only", action="store_true", help="only the 8-turn conversation")
    parser.add_argument("--races", type=int, default=0, help="instead of the full run: this many 16-client races, "
                        "llama-server and inference-server alternating, each race's ratio and their median")
    parser.add_argument("--sampling", choices=["defaults"], help="instead of the full run: greedy against sampling with "
                        "OpenAI's defaults, 1 and 8 clients, each server")
    parser.add_argument("--real-model", action="store_true", help="serve the real model (scripts/real-model) instead of the random one")
    parser.add_argument("--out", help="write inference-server's 16-client generated aggregate and the engine's prompt rate to this "
                        "file (deploy.throughput/1), for deploy breakeven --throughput-from")
    options = parser.parse_args()
    if options.real_model:
        model = subprocess.run([os.path.join(ROOT, "scripts", "real-model")], check=True, capture_output=True, text=True).stdout.strip()
    else:
        # the model writer and quantiser need gguf and llama-cpp-python, which the real model does not
        import inference_benchmark as engine_benchmark
        directory = options.keep or tempfile.mkdtemp(prefix="serve-bench-")
        os.makedirs(directory, exist_ok=True)
        f16, model = os.path.join(directory, "tinyllama-shape-f16.gguf"), os.path.join(directory, "tinyllama-shape-q4_0.gguf")
        if not os.path.exists(model):
            engine_benchmark.write_f16_model(f16)
            if engine_benchmark.llama_cpp is not None:
                engine_benchmark.quantize(f16, model, 2)
            else:
                # no llama-cpp-python: the same pure Q4_0 from llama-quantize of the llama-server build
                # (cmake --build /tmp/llama-build --target llama-quantize)
                quantizer = os.path.join(os.path.dirname(options.llama_server), "llama-quantize")
                subprocess.run([quantizer, "--pure", f16, model, "q4_0", str(os.cpu_count())], check=True, stdout=subprocess.DEVNULL)
            os.remove(f16)

    if options.sampling:
        return sampling_costs(model, options)

    if options.races:
        return races(model, options)
    pp = engine_pp(model, options.threads)
    print(f"model {os.path.basename(model)}, {options.threads} threads; engine prompt processing (bench pp128): {pp:.1f} t/s\n")
    kinds = ["inference-server"] + (["llama-server"] if os.path.exists(options.llama_server) else []) \
        + ([] if options.skip_python_server else ["llama-cpp-python"])
    results = {}
    for kind in ([] if options.conversation_only else kinds):
        with serving(kind, model, options.threads, options.llama_server) as base:
            for clients in (1, 4, 16):
                try:
                    results[(kind, clients)] = load(base, clients, options.requests, EXTRAS[kind])
                except httpx.HTTPError as error:
                    results[(kind, clients)] = {"failed": f"{type(error).__name__}: {error}"}
                print(f"  measured {kind} with {clients} clients", file=sys.stderr, flush=True)
    if options.conversation_only:
        kinds = [kind for kind in kinds if kind != "llama-cpp-python"]
    print(f"{'server':<18}{'clients':>8}{'generated t/s':>15}{'+ prompt t/s':>14}{'TTFT p50 s':>12}{'TTFT p99 s':>12}")
    for (kind, clients), result in results.items():
        if "failed" in result:
            print(f"{kind:<18}{clients:>8}   failed: {result['failed']}")
            continue
        print(f"{kind:<18}{clients:>8}{result['tps']:>15.1f}{result['processed']:>14.1f}{result['p50']:>12.3f}{result['p99']:>12.3f}")

    print("\n8-turn conversation, time to first token per turn (s):")
    for kind in [k for k in kinds if k != "llama-cpp-python"]:
        for reuse in (True, False):
            with serving(kind, model, options.threads, options.llama_server, reuse=reuse) as base:
                times = conversation(base, EXTRAS[kind])
            print(f"  {kind:<18} reuse {'on ' if reuse else 'off'}  " + " ".join(f"{t:.3f}" for t in times))

    if options.conversation_only:
        return
    if options.out:
        write_throughput(options.out, model, options.threads, results[("inference-server", 16)]["tps"], pp)
    ours16, ours1 = results[("inference-server", 16)]["tps"], results[("inference-server", 1)]["tps"]
    processed16 = results[("inference-server", 16)]["processed"]
    print(f"\ntargets: 16-client generated aggregate / engine pp = {ours16 / pp:.2f} (>= 0.8); 16 clients / 1 client = {ours16 / ours1:.2f} (>= 1.3)")
    print(f"16-client prompt + generated tokens / engine pp = {processed16 / pp:.2f} (1.0: a decode step costs a token what a prompt chunk does)")
    if "tps" in results.get(("llama-server", 16), {}):
        print(f"16-client aggregate / llama-server's = {ours16 / results[('llama-server', 16)]['tps']:.2f}")


if __name__ == "__main__":
    main()
