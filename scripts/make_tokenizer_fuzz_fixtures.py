"""Generates Tests/InferenceTests/Fixtures/tokenizer-fuzz: random strings and the token ids llama.cpp gives them,
for each vocabulary in Fixtures/llama-vocab (SentencePiece llama-spm, byte-level BPE llama-bpe and qwen2).

Run by hand, not by CI: needs PyPI `llama-cpp-python` 0.3.36 (which builds llama.cpp from source).
    python3 scripts/make_tokenizer_fuzz_fixtures.py

The strings mix every script, NFC and NFD forms, combining and zero-width characters (alone, at the start, after a
space), whitespace runs of every kind, emoji sequences, digits and punctuation, and the vocabulary's own special
tokens, so that the tokenizers are compared on bytes exactly as llama.cpp sees them. Each string is tokenized three
ways: plain (no BOS, special tokens as text), with BOS as the vocabulary asks, and with special tokens parsed.
"""
import json
import os
import random
import shutil
import unicodedata

import gguf
import llama_cpp

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
VOCABS = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "llama-vocab")
OUT = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "tokenizer-fuzz")
COUNT = 1200

WORDS = ["the", "The", "hello", "world", "tokenizer", "don't", "I'm", "we'll", "they've", "HTTP", "GPU", "llama",
         "naïve", "café", "résumé", "straße", "Ångström", "über", "déjà", "coöperate", "piñata", "façade"]
SCRIPTS = [
    "Привет мир", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "你好世界",
    "こんにちは世界", "カタカナ", "안녕하세요", "안녕", "ጤና ይስጥልኝ", "Բարեւ", "გამარჯობა", "ᏣᎳᎩ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "Ꙁ", "ⴰⵣⵓⵍ", "ꦲꦭꦺ", "𐌰𐌱𐌲", "ᠮᠣᠩᠭᠣᠯ", "ພາສາລາວ", "ខ្មែរ", "မြန်မာ", "සිංහල", "தமிழ்", "ಕನ್ನಡ",
]
COMBINING = ["\u0301", "\u0300", "\u0308", "\u0327", "\u0303", "\u20dd", "\u0489", "\u05b7", "\u0903", "\u093c"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad", "\u180e", "\u034f"]
SPACES = [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\u00a0", "\u3000", "\u2009", "\u202f", "\u2028", "\x0b", "\x0c"]
EMOJI = ["🦙", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "❤️", "1️⃣", "🧑🏿‍🚀", "😀😃"]
PUNCT = list(".,;:!?()[]{}<>\"'`~@#$%^&*-_=+|\\/") + ["...", "--", "''", "“”", "«»", "—", "¿", "¡", "…"]
DIGITS = ["0", "7", "42", "1234", "3.14159", "1,000,000", "٣٤٥", "१२३", "①②"]
CONTROL = ["\x00", "\x01", "\x1b[31m", "\x7f", "\u0085", "\u202e"]


def piece(rng):
    kind = rng.randrange(12)
    if kind == 0:
        return rng.choice(WORDS)
    if kind == 1:
        return rng.choice(SCRIPTS)
    if kind == 2:
        return rng.choice(COMBINING) * rng.randrange(1, 3)
    if kind == 3:
        return rng.choice(ZERO_WIDTH)
    if kind == 4:
        return "".join(rng.choice(SPACES) for _ in range(rng.randrange(1, 4)))
    if kind == 5:
        return rng.choice(EMOJI)
    if kind == 6:
        return rng.choice(PUNCT)
    if kind == 7:
        return rng.choice(DIGITS)
    if kind == 8:
        return rng.choice(CONTROL)
    if kind == 9:  # any scalar from the BMP or beyond (no surrogates, no noncharacters)
        while True:
            code = rng.choice([rng.randrange(0x20, 0x3000), rng.randrange(0x3000, 0xD800), rng.randrange(0xE000, 0xFFFE),
                               rng.randrange(0x10000, 0x2FFFF)])
            if unicodedata.category(chr(code)) != "Cn":
                return chr(code)
    if kind == 10:
        return rng.choice(WORDS) + rng.choice(COMBINING)
    return " " + rng.choice(COMBINING + ZERO_WIDTH)


def random_text(rng, specials):
    parts = [piece(rng) for _ in range(rng.randrange(1, 9))]
    if specials and rng.random() < 0.25:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(specials))
    text = "".join(parts)
    form = rng.random()
    if form < 0.25:
        text = unicodedata.normalize("NFD", text)
    elif form < 0.5:
        text = unicodedata.normalize("NFC", text)
    return text


LLAMA_TOKEN_ATTR_CONTROL = 1 << 3


def retyped_vocabulary():
    """The llama-spm vocabulary with </s> typed normal, written beside the fixtures."""
    path = os.path.join(OUT, "llama-spm-retyped.gguf")
    shutil.copyfile(os.path.join(VOCABS, "ggml-vocab-llama-spm.gguf"), path)
    reader = gguf.GGUFReader(path, "r+")
    tokens = reader.fields["tokenizer.ggml.tokens"]
    types = reader.fields["tokenizer.ggml.token_type"]
    for index, part in enumerate(tokens.data):
        if bytes(tokens.parts[part]) == b"</s>":
            types.parts[types.data[index]][0] = 1
    reader.data.flush() if hasattr(reader.data, "flush") else None
    del reader
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    retyped_vocabulary()
    for name, specials in [
        ("llama-spm-retyped", ["<s>", "</s>", "<unk>"]),
        ("llama-spm", ["<s>", "</s>", "<unk>"]),
        ("llama-bpe", ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|reserved_special_token_3|>"]),
        ("qwen2", ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|file_sep|>"]),
    ]:
        vocabulary = os.path.join(OUT, f"{name}.gguf") if name.endswith("retyped") else os.path.join(VOCABS, f"ggml-vocab-{name}.gguf")
        model = llama_cpp.Llama(model_path=vocabulary, vocab_only=True, verbose=False)
        vocab = llama_cpp.llama_model_get_vocab(model.model)
        count = llama_cpp.llama_vocab_n_tokens(vocab)
        control = [i for i in range(count) if llama_cpp.llama_vocab_get_attr(vocab, i) & LLAMA_TOKEN_ATTR_CONTROL]
        eog = [i for i in range(count) if llama_cpp.llama_vocab_is_eog(vocab, i)]
        rng = random.Random(f"tokenizer-fuzz-{name}")
        cases = []
        for _ in range(COUNT if not name.endswith("retyped") else 100):
            text = random_text(rng, specials)
            data = text.encode("utf-8")
            cases.append({
                "text": text,
                "plain": model.tokenize(data, add_bos=False, special=False),
                "bos": model.tokenize(data, add_bos=True, special=False),
                "special": model.tokenize(data, add_bos=False, special=True),
            })
        with open(os.path.join(OUT, f"{name}.json"), "w", encoding="utf-8") as out:
            json.dump({"vocabulary": os.path.relpath(vocabulary, os.path.join(OUT, "..")), "llama_cpp_python": llama_cpp.__version__,
                       "control": control, "endOfGeneration": eog, "cases": cases},
                      out, ensure_ascii=True, separators=(",", ":"))
            out.write("\n")
        print(f"{name}: {len(cases)} cases")


if __name__ == "__main__":
    main()
