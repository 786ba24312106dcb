"""Generates Tests/InferenceTests/Fixtures/models: small random-weight llama, qwen2, qwen3 and gemma3 models in each
tensor type,
with llama.cpp's logits and greedy continuations for them, and llama.cpp's chat-template renderings.

Run by hand, not by CI: needs PyPI `gguf` and `llama-cpp-python` (which builds llama.cpp from source).
    python3 scripts/make_model_fixtures.py

Each model carries a real vocabulary from ../shared/testdata/llama-vocab, cut to its first 1,024 tokens (SentencePiece
vocabularies are ordered by score and BPE ones by merge, so the cut keeps a working tokenizer; byte tokens keep every
text encodable) plus the control tokens a chat needs. The F32 model that each quantised one is made from is written
here with random weights; llama.cpp's own quantiser (`llama_model_quantize`) makes the rest.
"""
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np
import gguf
import llama_cpp

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
VOCABS = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "llama-vocab")
OUT = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "models")
KEEP = 1024
rng = np.random.default_rng(20261122)

# llama.cpp's ftype numbers (llama.h)
FTYPES = {"F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q4_K_M": 15, "Q2_K": 10, "Q3_K": 11, "Q4_K": 14, "Q5_K": 16, "Q6_K": 18, "BF16": 32}

# Largest |ours - llama.cpp| allowed on a logit, as a fraction of the spread (standard deviation) of llama.cpp's
# logits. We round where llama.cpp rounds (activations to the weights' dot type; the query to f16 against the f16 key
# cache; attention probabilities to f16 against the f16 value cache), so positions match to a few ulps until a
# last-bit difference (ggml's own expf in softmax and SiLU, the order float lanes are summed in) moves an activation
# across a Q8 rounding boundary: a whole quantisation step, which the positions after it carry along.
# Measured (swift test --filter ModelFixtureTests, largest over all positions of all cases), since the quantised
# kernels sum in ggml's x86 order (2026-12-01): Q8_0, Q5_0, Q4_1 and Q5_1 0 (every position identical), F32 0.00004,
# F16 0.0013, BF16 0.0074, Q4_0 0.0089 on llama and 0 on qwen2 (0.040 until our Q4_0 followed llama.cpp's
# interleaved kernel, which it multiplies Q4_0 matrices of a multiple of 8 rows with), Q2_K 0.048, Q3_K 0.000001, Q4_K 0.038 (llama.cpp's
# batched prompt takes the repacked gemm, not the gemv we follow), Q5_K 0.049, Q4_K_M 0.031, Q6_K 0.055 (0.000 before:
# our Q6_K now equals ggml's vec_dot to the bit, but from 8 tokens on llama.cpp multiplies K-quants with its tiled
# kernels, ggml-cpu/tiled, which sum in another order: its own one-token and batched logits differ by 0.22 on this
# model). The tolerances leave about 1.5x (at least 0.04).
TOLERANCE = {"F32": 0.001, "F16": 0.003, "BF16": 0.012, "Q8_0": 0.06, "Q4_0": 0.06, "Q4_1": 0.06, "Q5_0": 0.06, "Q5_1": 0.06, "Q2_K": 0.08, "Q3_K": 0.04, "Q4_K": 0.08, "Q5_K": 0.08, "Q6_K": 0.1,
             "Q4_K_M": 0.06}
# gemma3 runs four RMS norms per layer (query, key and both post-norms besides llama's two), which carry a flipped
# quantisation step further; measured: F32 0.0015, Q8_0 0.069, Q5_0 0.071, Q4_K_M 0.037.
ARCH_TOLERANCE = {("gemma3", "F32"): 0.003, ("gemma3", "Q8_0"): 0.1, ("gemma3", "Q5_0"): 0.1}


def tolerance(arch, label):
    return ARCH_TOLERANCE.get((arch, label), TOLERANCE[label])

# Candidate prompts; each model keeps the CASES whose greedy continuations stay clear of near-ties longest.
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world",
    "1 + 2 = 3, and 10 * 10 = 100",
    "Ünïcödé and emoji 🦙 work too",
    "Once upon a time",
    "def main():\n    return 0",
    "The capital of France is",
    "  leading spaces and\ttabs",
    "It was the best of times, it was the worst of times",
    "<html><body>hi</body></html>",
    "SELECT * FROM users WHERE id = 42;",
    "Numbers: 3.14159, 2.71828, 1.41421",
]
CASES = 4
# Standard deviation of the layers' random weights: large enough that attention and the feed-forward visibly move
# the logits, small enough that one flipped quantisation step does not swamp them.
LAYER_STD = 0.05


def field_strings(reader, key):
    field = reader.fields[key]
    return [bytes(field.parts[i]).decode("utf-8") for i in field.data]


def field_values(reader, key):
    field = reader.fields.get(key)
    if field is None:
        return None
    return [field.parts[i].tolist()[0] for i in field.data]


def field_scalar(reader, key):
    field = reader.fields.get(key)
    if field is None:
        return None
    value = field.parts[field.data[0]]
    if field.types[0] == gguf.GGUFValueType.STRING:
        return bytes(value).decode("utf-8")
    return value.tolist()[0]


def vocabulary(name):
    """The first KEEP tokens of a shared vocabulary, plus its chat control tokens moved to the end."""
    reader = gguf.GGUFReader(os.path.join(VOCABS, f"ggml-vocab-{name}.gguf"))
    tokens = field_strings(reader, "tokenizer.ggml.tokens")
    types = field_values(reader, "tokenizer.ggml.token_type")
    scores = field_values(reader, "tokenizer.ggml.scores")
    vocab = {"model": field_scalar(reader, "tokenizer.ggml.model"), "pre": field_scalar(reader, "tokenizer.ggml.pre"),
             "tokens": tokens[:KEEP], "types": types[:KEEP], "scores": scores[:KEEP] if scores else None}
    if vocab["model"] == "gpt2":
        kept = set(vocab["tokens"])
        merges = field_strings(reader, "tokenizer.ggml.merges")
        vocab["merges"] = [m for m in merges if all(p in kept for p in m.split(" ")) and m.replace(" ", "") in kept]
        specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        for text in specials:
            vocab["tokens"].append(text)
            vocab["types"].append(3)
        vocab["bos"] = KEEP            # <|endoftext|>, as Qwen2's files say, but not added
        vocab["eos"] = KEEP + 2        # <|im_end|>
        vocab["add_bos"] = False
        vocab["chat_template"] = field_scalar(reader, "tokenizer.chat_template")
    else:
        vocab["bos"], vocab["eos"], vocab["add_bos"] = 1, 2, True
        vocab["chat_template"] = ("{% for message in messages %}{% if message['role'] == 'system' %}<<SYS>>\\n"
                                  "{{ message['content'] }}\\n<</SYS>>\\n\\n{% elif message['role'] == 'user' %}"
                                  "{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}{% else %}"
                                  "{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}")
    return vocab


def write_model(path, arch, vocab, shape, ftype_name="F32"):
    e, layers, heads, kv_heads, ff = shape["embedding"], shape["layers"], shape["heads"], shape["kv_heads"], shape["ff"]
    head_dim = shape.get("head_dim", e // heads)
    writer = gguf.GGUFWriter(path, arch)
    writer.add_name(f"random {arch} fixture")
    writer.add_context_length(256)
    writer.add_embedding_length(e)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    if head_dim != e // heads:  # heads wider than embedding / heads, as Gemma 3 and Qwen 3 have
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0 if arch == "llama" else 1000000.0)
    if shape.get("sliding_window"):  # gemma3's local layers: a window, a pattern, and their own RoPE base
        writer.add_sliding_window(shape["sliding_window"])
        writer.add_sliding_window_pattern(shape["sliding_pattern"])
        if shape.get("rope_base_swa"):
            writer.add_rope_freq_base_swa(shape["rope_base_swa"])
    if shape.get("rope_linear"):
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(shape["rope_linear"])
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_file_type(0)
    writer.add_tokenizer_model(vocab["model"])
    if vocab["pre"]:
        writer.add_tokenizer_pre(vocab["pre"])
    writer.add_token_list(vocab["tokens"])
    writer.add_token_types(vocab["types"])
    if vocab["scores"]:
        writer.add_token_scores(vocab["scores"])
    if vocab.get("merges"):
        writer.add_token_merges(vocab["merges"])
    writer.add_bos_token_id(vocab["bos"])
    writer.add_eos_token_id(vocab["eos"])
    writer.add_add_bos_token(vocab["add_bos"])
    if vocab["chat_template"]:
        writer.add_chat_template(vocab["chat_template"])
    n_vocab = len(vocab["tokens"])

    def weights(rows, cols, std):
        return rng.normal(0, std, size=(rows, cols)).astype(np.float32)

    # gemma3 multiplies the embeddings by sqrt(width); its fixture draws them that much smaller to stay comparable
    writer.add_tensor("token_embd.weight", weights(n_vocab, e, 1.0 / np.sqrt(e) if arch == "gemma3" else 1.0))
    if shape.get("rope_freqs"):  # Llama 3.1's per-dimension frequency divisors; not random, so the draws stay put
        writer.add_tensor("rope_freqs.weight", np.linspace(1.0, 4.0, head_dim // 2, dtype=np.float32))
    for i in range(layers):
        p = f"blk.{i}."
        writer.add_tensor(p + "attn_norm.weight", rng.uniform(0.8, 1.2, e).astype(np.float32))
        writer.add_tensor(p + "attn_q.weight", weights(heads * head_dim, e, LAYER_STD))
        writer.add_tensor(p + "attn_k.weight", weights(kv_heads * head_dim, e, LAYER_STD))
        writer.add_tensor(p + "attn_v.weight", weights(kv_heads * head_dim, e, LAYER_STD))
        if arch == "qwen2":
            writer.add_tensor(p + "attn_q.bias", rng.normal(0, 0.2, e).astype(np.float32))
            writer.add_tensor(p + "attn_k.bias", rng.normal(0, 0.2, kv_heads * head_dim).astype(np.float32))
            writer.add_tensor(p + "attn_v.bias", rng.normal(0, 0.2, kv_heads * head_dim).astype(np.float32))
        if arch in ("qwen3", "gemma3"):  # per-head query and key norms
            writer.add_tensor(p + "attn_q_norm.weight", rng.uniform(0.8, 1.2, head_dim).astype(np.float32))
            writer.add_tensor(p + "attn_k_norm.weight", rng.uniform(0.8, 1.2, head_dim).astype(np.float32))
        writer.add_tensor(p + "attn_output.weight", weights(e, heads * head_dim, LAYER_STD))
        if arch == "gemma3":
            writer.add_tensor(p + "post_attention_norm.weight", rng.uniform(0.8, 1.2, e).astype(np.float32))
        writer.add_tensor(p + "ffn_norm.weight", rng.uniform(0.8, 1.2, e).astype(np.float32))
        writer.add_tensor(p + "ffn_gate.weight", weights(ff, e, LAYER_STD))
        writer.add_tensor(p + "ffn_up.weight", weights(ff, e, LAYER_STD))
        writer.add_tensor(p + "ffn_down.weight", weights(e, ff, LAYER_STD))
        if arch == "gemma3":
            writer.add_tensor(p + "post_ffw_norm.weight", rng.uniform(0.8, 1.2, e).astype(np.float32))
    writer.add_tensor("output_norm.weight", rng.uniform(0.8, 1.2, e).astype(np.float32))
    if arch in ("llama", "qwen3"):  # qwen2's and gemma3's fixtures tie the output to the embedding
        writer.add_tensor("output.weight", weights(n_vocab, e, 0.25))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def quantize(source, target, ftype_name, pure):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[ftype_name]
    params.nthread = 2
    params.pure = pure
    code = llama_cpp.llama_model_quantize(source.encode(), target.encode(), params)
    if code != 0:
        sys.exit(f"quantising {target} failed: {code}")


def tensor_types(path):
    return sorted({t.tensor_type.name for t in gguf.GGUFReader(path).tensors})


def reference(path, tolerance):
    """llama.cpp's tokens, logits and greedy continuations for TEXTS on the model at `path`."""
    llm = llama_cpp.Llama(model_path=path, n_ctx=128, n_batch=128, n_threads=2, logits_all=True, verbose=False, seed=1)
    logits_out, cases = [], []
    for text in choose_texts(llm, tolerance):
        tokens = llm.tokenize(text.encode(), add_bos=True, special=False)
        llm.reset()
        llm.eval(tokens)
        scores = np.array(llm.scores[: len(tokens)], dtype=np.float32)
        spread = float(scores.std())
        # the greedy continuation, kept only as long as llama.cpp's top two logits are clearly apart
        continuation, margins = [], []
        while len(continuation) < 16:
            last = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            top = np.argsort(last)[::-1][:2]
            margin = float(last[top[0]] - last[top[1]])
            if margin < 2 * tolerance * spread:  # both logits may each be off by the tolerance
                break
            continuation.append(int(top[0]))
            margins.append(margin)
            llm.eval([int(top[0])])
        cases.append({"text": text, "tokens": tokens, "logitsOffset": sum(len(x) for x in logits_out),
                      "logitsSpread": spread, "greedy": continuation, "greedyMargins": [round(m, 4) for m in margins]})
        logits_out.append(scores.reshape(-1))
    del llm
    return cases, np.concatenate(logits_out)


def greedy_length(llm, tokens, tolerance, limit=16):
    llm.reset()
    llm.eval(tokens)
    spread = float(np.array(llm.scores[: len(tokens)], dtype=np.float32).std())
    for step in range(limit):
        last = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        top = np.argsort(last)[::-1][:2]
        if last[top[0]] - last[top[1]] < 2 * tolerance * spread:
            return step
        llm.eval([int(top[0])])
    return limit


def choose_texts(llm, tolerance):
    lengths = [greedy_length(llm, llm.tokenize(t.encode(), add_bos=True, special=False), tolerance) for t in TEXTS]
    order = sorted(range(len(TEXTS)), key=lambda i: (-lengths[i], i))[:CASES]
    return [TEXTS[i] for i in sorted(order)]


def chat_references():
    """llama.cpp's built-in rendering of a few conversations in each template family, by name."""
    conversations = [
        [("user", "Hello")],
        [("system", "You are terse."), ("user", "Hi"), ("assistant", "Hello."), ("user", "What is 2+2?")],
        [("user", "One"), ("assistant", "Two"), ("user", "Three")],
        # white space around contents: some formats trim it (gemma trims with C's isspace)
        [("system", " Be brief.\n"), ("user", "\t Hello there \n"), ("assistant", " Hi! "), ("user", "Bye")],
    ]
    names = ["chatml", "llama3", "llama2", "llama2-sys", "mistral-v3", "mistral-v7", "phi3", "gemma"]
    cases = []
    for name in names:
        for conversation in conversations:
            messages = (llama_cpp.llama_chat_message * len(conversation))()
            for i, (role, content) in enumerate(conversation):
                messages[i].role = role.encode()
                messages[i].content = content.encode()
            buffer = (ctypes.c_char * 4096)()
            length = llama_cpp.llama_chat_apply_template(name.encode(), messages, len(conversation), True, buffer, 4096)
            if length < 0:
                sys.exit(f"llama.cpp does not know the template {name}")
            cases.append({"template": name, "messages": [{"role": r, "content": c} for r, c in conversation],
                          "prompt": bytes(buffer[:length]).decode()})
    return cases


import ctypes  # noqa: E402  (used by chat_references)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    big = {"embedding": 256, "layers": 2, "heads": 4, "kv_heads": 2, "ff": 512}
    # the small F32 model also carries linear RoPE scaling and Llama 3.1-style frequency factors
    small = {"embedding": 128, "layers": 2, "heads": 4, "kv_heads": 2, "ff": 256, "rope_linear": 2.0, "rope_freqs": True}
    wide = {"embedding": 128, "layers": 2, "heads": 4, "kv_heads": 2, "ff": 256, "head_dim": 48, "suffix": "-wide-heads"}
    qwen3 = {"embedding": 128, "layers": 2, "heads": 4, "kv_heads": 2, "ff": 256, "head_dim": 48}
    gemma3 = {"embedding": 128, "layers": 4, "heads": 4, "kv_heads": 1, "ff": 256, "head_dim": 64,
              "sliding_window": 8, "sliding_pattern": 4, "rope_base_swa": 5000.0}
    plan = [
        ("llama", "llama-spm", small, [("F32", None, False)]),
        ("llama", "llama-spm", big, [("F16", "F16", False), ("Q8_0", "Q8_0", True), ("Q4_0", "Q4_0", True),
                                     ("Q4_1", "Q4_1", True), ("Q5_0", "Q5_0", True), ("Q5_1", "Q5_1", True), ("Q2_K", "Q2_K", True), ("Q3_K", "Q3_K", True), ("Q4_K", "Q4_K", True), ("Q5_K", "Q5_K", True),
                                     ("Q6_K", "Q6_K", True),
                                     ("Q4_K_M", "Q4_K_M", False)]),
        ("qwen2", "qwen2", big, [("BF16", "BF16", False), ("Q8_0", "Q8_0", True), ("Q4_0", "Q4_0", True),
                                 ("Q4_K_M", "Q4_K_M", False)]),
        # heads of 48 over an embedding of 128 (not 128 / 4): the query and the attention output are 192 wide
        ("llama", "llama-spm", wide, [("F32", None, False), ("Q8_0", "Q8_0", True)]),
        # query and key norms over heads of 48, no biases
        ("qwen3", "qwen2", qwen3, [("F32", None, False), ("Q8_0", "Q8_0", True), ("Q4_K_M", "Q4_K_M", False)]),
        # four layers: a window of 8 (shorter than most prompts) on three of them, full attention on the fourth
        ("gemma3", "llama-spm", gemma3, [("F32", None, False), ("Q8_0", "Q8_0", True), ("Q5_0", "Q5_0", True),
                                         ("Q4_K_M", "Q4_K_M", False)]),
    ]
    manifest = {"generator": "scripts/make_model_fixtures.py", "llamaCppPython": llama_cpp.__version__,
                "tolerance": "max |logit - llama.cpp| <= tolerance * logitsSpread (std of llama.cpp's logits)",
                "models": [], "chat": chat_references()}
    with tempfile.TemporaryDirectory() as scratch:
        for arch, vocab_name, shape, variants in plan:
            vocab = vocabulary(vocab_name)
            base = os.path.join(scratch, f"{arch}-{shape['embedding']}-f32.gguf")
            write_model(base, arch, vocab, shape)
            for label, ftype, pure in variants:
                name = f"{arch}{shape.get('suffix', '')}-{label.lower()}.gguf"
                path = os.path.join(OUT, name)
                if ftype is None:
                    shutil.copy(base, path)
                else:
                    quantize(base, path, ftype, pure)
                cases, logits = reference(path, tolerance(arch, label))
                logits_name = name.replace(".gguf", ".logits")
                logits.astype("<f4").tofile(os.path.join(OUT, logits_name))
                manifest["models"].append({"file": name, "architecture": arch, "type": label,
                                           "tensorTypes": tensor_types(path), "vocabulary": vocab_name,
                                           "tolerance": tolerance(arch, label), "logits": logits_name,
                                           "vocabularySize": len(vocab["tokens"]), "cases": cases})
                print(f"{name}: {os.path.getsize(path) / 1e6:.2f} MB, types {tensor_types(path)}, "
                      f"greedy lengths {[len(c['greedy']) for c in cases]}")
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
