"""Races inference-server against llama.cpp (through llama-cpp-python) on a random-weight model of TinyLlama-1.1B's
shape, in Q4_0, Q8_0 and Q4_K_M, and on the real model (Gemma 3 270M, Q4_K_M, which scripts/setup installs), same file,
same threads, in one run; prints tokens per second for prompt processing (pp) and generation (tg), and with --depth
generation after that many tokens in the cache, at each thread count asked for, their ratio, the memory-bandwidth
ceiling for generation (the file read once a token, at the rate all cores read together) and each generation figure
as a share of it, and inference-server's peak memory.

Needs PyPI gguf, numpy and llama-cpp-python, and a release build (matmul-benchmark for the bandwidth probe):
    swift build -c release --product inference-server && swift build -c release --product matmul-benchmark &&
    python3 scripts/inference_benchmark.py [--threads 1,2] [-p 128]
        [-n 32] [--depth 2048] [--kernels portable,avx2,avx512] [--attention exact,flash] [--rounds 3]
        [--models tinyllama,gemma3 (or q4_0, q8_0, q4_k_m)]
--attention flash races `inference-server --attention flash` against llama.cpp with flash attention on; exact (the
default) against llama.cpp's default, without it.
The models (0.6 to 1.2 GB each) are written to a temporary directory (or --keep DIR) and are not committed.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import gguf
try:
    import llama_cpp
except ImportError:  # serve_benchmark.py writes the model without it, quantising with llama-quantize instead
    llama_cpp = None

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MATMUL = os.path.join(ROOT, ".build", "release", "matmul-benchmark")
SERVER = os.path.join(ROOT, ".build", "release", "inference-server")
SHAPE = {"embedding": 2048, "layers": 22, "heads": 32, "kv_heads": 4, "ff": 5632, "vocab": 32000}  # TinyLlama-1.1B


def write_f16_model(path):
    rng = np.random.default_rng(1)
    e, ff, kv = SHAPE["embedding"], SHAPE["ff"], SHAPE["embedding"] // SHAPE["heads"] * SHAPE["kv_heads"]
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_context_length(2048)
    writer.add_embedding_length(e)
    writer.add_block_count(SHAPE["layers"])
    writer.add_feed_forward_length(ff)
    writer.add_head_count(SHAPE["heads"])
    writer.add_head_count_kv(SHAPE["kv_heads"])
    writer.add_rope_dimension_count(e // SHAPE["heads"])
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(1)
    writer.add_tokenizer_model("llama")
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"tok{i}" for i in range(SHAPE["vocab"] - len(tokens))]
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types([3, 3, 3] + [6] * 256 + [1] * (len(tokens) - 259))
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)

    def w(rows, cols):
        return (rng.standard_normal((rows, cols), dtype=np.float32) * 0.02).astype(np.float16)

    writer.add_tensor("token_embd.weight", w(SHAPE["vocab"], e))
    for i in range(SHAPE["layers"]):
        p = f"blk.{i}."
        writer.add_tensor(p + "attn_norm.weight", np.ones(e, dtype=np.float32))
        writer.add_tensor(p + "attn_q.weight", w(e, e))
        writer.add_tensor(p + "attn_k.weight", w(kv, e))
        writer.add_tensor(p + "attn_v.weight", w(kv, e))
        writer.add_tensor(p + "attn_output.weight", w(e, e))
        writer.add_tensor(p + "ffn_norm.weight", np.ones(e, dtype=np.float32))
        writer.add_tensor(p + "ffn_gate.weight", w(ff, e))
        writer.add_tensor(p + "ffn_up.weight", w(ff, e))
        writer.add_tensor(p + "ffn_down.weight", w(e, ff))
    writer.add_tensor("output_norm.weight", np.ones(e, dtype=np.float32))
    writer.add_tensor("output.weight", w(SHAPE["vocab"], e))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def quantize(source, target, ftype):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.pure = ftype != 15  # Q4_K_M is a mix by definition
    params.nthread = os.cpu_count()
    if llama_cpp.llama_model_quantize(source.encode(), target.encode(), params) != 0:
        sys.exit(f"quantising {target} failed")


def bench_llama_cpp(path, threads, p, n, repetitions, vocab, depth=0, flash=False):
    """llama.cpp's pp and tg rates; with `depth`, each run starts with that many tokens already in the cache."""
    llm = llama_cpp.Llama(model_path=path, n_ctx=max(p, n) + depth + 8, n_batch=max(p, 512 if depth else 1),
                          n_threads=threads, n_threads_batch=threads, flash_attn=flash, verbose=False)
    rng = np.random.default_rng(2)
    prompt = [int(t) for t in rng.integers(3, vocab, p)]
    tokens = [int(t) for t in rng.integers(3, vocab, n)]
    if depth:
        llm.eval([int(t) for t in rng.integers(3, vocab, depth)])
    suffix = f" @ d{depth}" if depth else ""

    def rewind():
        if depth:
            llm.n_tokens = depth  # eval drops the cache from n_tokens on
        else:
            llm.reset()

    results = {}
    for name, run, count in [(f"pp{p}{suffix}", lambda: llm.eval(prompt), p),
                             (f"tg{n}{suffix}", lambda: [llm.eval([t]) for t in tokens], n)]:
        if count == 0:
            continue
        rewind()
        run()  # warm-up
        samples = []
        for _ in range(repetitions):
            rewind()
            start = time.perf_counter()
            run()
            samples.append(count / (time.perf_counter() - start))
        results[name] = float(np.mean(samples))
    del llm
    return results


def bench_ours(path, threads, p, n, repetitions, kernels, depth=0, attention="exact"):
    command = ["/usr/bin/time", "-f", "%M", SERVER, "bench", "--model", path, "-p", str(p), "-n", str(n), "-d", str(depth),
               "-r", str(repetitions), "--threads", str(threads), "--output", "json", "--attention", attention]
    command += ["--kernels", kernels] if kernels else []
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    rows = json.loads(done.stdout)
    return {row["test"]: row["tokensPerSecond"] for row in rows}, peak_kib * 1024


def read_bandwidth():
    """(bytes per second that all cores read together, how it was measured). matmul-benchmark --bandwidth where it is
    built: 512 MiB per core in 2 MiB pages, 64-byte loads with the lines ahead asked for, as the one-token kernels
    read weights. Otherwise numpy, each core OR-reducing its share of 512 MiB (its loop releases the GIL), which
    leaves the prefetching to the hardware and so reads slower than either engine can; best of five."""
    cores = os.cpu_count()
    if os.path.exists(MATMUL):
        done = subprocess.run([MATMUL, "--bandwidth", "-t", str(cores)], capture_output=True, text=True, check=True)
        return float(done.stdout.split(":")[-1].split()[0]) * 1e9, "matmul-benchmark --bandwidth"
    import threading
    data = np.ones(512 * 1024 * 1024 // 8 * cores, dtype=np.int64)
    parts = np.array_split(data, cores)
    best = 0.0
    for _ in range(5):
        threads = [threading.Thread(target=np.bitwise_or.reduce, args=(part,)) for part in parts]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        best = max(best, data.nbytes / (time.perf_counter() - start))
    del data, parts
    return best, "numpy OR-reduce (build matmul-benchmark for the prefetching probe)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", default=str(os.cpu_count()),
                        help="thread counts to run, comma-separated (1,2 for scaling); all cores by default")
    parser.add_argument("-p", type=int, default=128)
    parser.add_argument("-n", type=int, default=32)
    parser.add_argument("-r", type=int, default=2)
    parser.add_argument("--depth", type=int, default=0, help="also run pp and tg after this many tokens in the cache (2048)")
    parser.add_argument("--attention", default="exact", help="attention modes to race, comma-separated: exact (against "
                        "llama.cpp's default), flash (against llama.cpp with flash attention on)")
    parser.add_argument("--rounds", type=int, default=1, help="alternate llama.cpp and ours this many times, and print "
                        "medians (the machine's noise is larger than most differences between single runs)")
    parser.add_argument("--keep")
    parser.add_argument("--kernels", default="", help="inference-server's kernel sets to race, comma-separated "
                        "(portable, avx2, avx512); by default the one it picks for this CPU")
    parser.add_argument("--models", default="tinyllama,gemma3", help="which rows, comma-separated: tinyllama (three "
                        "random-weight TinyLlama-shaped files) or one of them (q4_0, q8_0, q4_k_m), gemma3 (the real model)")
    args = parser.parse_args()
    if not os.path.exists(SERVER):
        sys.exit("build first: swift build -c release --product inference-server")
    directory = args.keep or tempfile.mkdtemp(prefix="inference-bench-")
    os.makedirs(directory, exist_ok=True)
    wanted = set(args.models.lower().split(","))
    tiny = [(label, ftype) for label, ftype in [("Q4_0", 2), ("Q8_0", 7), ("Q4_K_M", 15)]
            if "tinyllama" in wanted or label.lower() in wanted]
    unknown = wanted - {"tinyllama", "gemma3", "q4_0", "q8_0", "q4_k_m"}
    if unknown:
        sys.exit(f"unknown --models {', '.join(sorted(unknown))}: tinyllama, q4_0, q8_0, q4_k_m or gemma3")
    f16 = os.path.join(directory, "tinyllama-shape-f16.gguf")
    if tiny and not os.path.exists(f16):
        write_f16_model(f16)
    bandwidth, probe = read_bandwidth()
    thread_counts = [int(t) for t in args.threads.split(",")]
    print(f"machine: {os.cpu_count()} cores, read bandwidth (all cores, {probe}) {bandwidth / 1e9:.1f} GB/s; threads {args.threads}")
    kernel_sets = [k for k in args.kernels.split(",") if k] or [""]
    print("| model | size | kernels | attention | threads | test | inference-server t/s | llama.cpp t/s | ratio | of ceiling, ours / llama.cpp |")
    print("| --- | ---: | --- | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    notes = []
    tiny_kv = SHAPE["layers"] * 2 * SHAPE["embedding"] // SHAPE["heads"] * SHAPE["kv_heads"] * 2  # bytes per position
    models = []
    for label, ftype in tiny:
        path = os.path.join(directory, f"tinyllama-shape-{label.lower()}.gguf")
        if not os.path.exists(path):
            quantize(f16, path, ftype)
        models.append((label, path, SHAPE["vocab"], tiny_kv))
    real = subprocess.run([os.path.join(ROOT, "scripts", "real-model")], capture_output=True, text=True)
    if "gemma3" not in wanted:
        pass
    elif real.returncode == 0:
        # Gemma 3 270M: 18 layers of one KV head of 256, a vocabulary of 262,144
        models.append(("Gemma 3 270M Q4_K_M", real.stdout.strip(), 262144, 18 * 2 * 256 * 2))
    else:
        notes.append("the real model is not installed (scripts/setup installs it): its rows are missing")
    for label, path, vocab, kv_per_position in models:
        size = os.path.getsize(path)
        floor = bandwidth / size  # every weight byte read once per generated token
        peak = 0
        for threads, attention in [(t, a) for t in thread_counts for a in args.attention.split(",")]:
            flash = attention == "flash"
            # each round runs llama.cpp, then each of our kernel sets, so that a slow spell of the shared machine
            # lands on both; the figures are each side's median over the rounds, the ratio the median of the rounds'
            theirs_runs, ours_runs = [], {kernels: [] for kernels in kernel_sets}
            for _ in range(args.rounds):
                theirs = bench_llama_cpp(path, threads, args.p, args.n, args.r, vocab, flash=flash)
                if args.depth:
                    theirs.update(bench_llama_cpp(path, threads, args.p, args.n, args.r, vocab, args.depth, flash=flash))
                theirs_runs.append(theirs)
                for kernels in kernel_sets:
                    ours, run_peak = bench_ours(path, threads, args.p, args.n, args.r, kernels, attention=attention)
                    peak = max(peak, run_peak)
                    if args.depth:
                        ours.update(bench_ours(path, threads, args.p, args.n, args.r, kernels, args.depth, attention)[0])
                    ours_runs[kernels].append(ours)
            for kernels in kernel_sets:
                for test in ours_runs[kernels][0]:
                    ours_rate = float(np.median([run[test] for run in ours_runs[kernels]]))
                    theirs_rate = float(np.median([run[test] for run in theirs_runs]))
                    ratio = float(np.median([o[test] / t[test] for o, t in zip(ours_runs[kernels], theirs_runs)]))
                    # generation reads every weight once a token (and at a depth the cache too, not counted here)
                    share = f"{ours_rate / floor:.0%} / {theirs_rate / floor:.0%}" if test.startswith("tg") else ""
                    print(f"| {label} | {size / 2**20:.0f} MiB | {kernels or 'default'} | {attention} | {threads} | {test} | "
                          f"{ours_rate:.2f} | {theirs_rate:.2f} | {ratio:.2f} | {share} |")
        kv_cache = kv_per_position * (args.p + 1)
        notes.append(f"{label}: bandwidth ceiling for generation {floor:.1f} t/s ({size / 2**20:.0f} MiB per token); "
                     f"inference-server peak RSS {peak / 2**20:.0f} MiB (pp{args.p} and tg{args.n}) vs file + KV cache + 100 MiB = "
                     f"{(size + kv_cache) / 2**20 + 100:.0f} MiB")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
