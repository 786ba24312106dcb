"""Generates Tests/InferenceTests/Fixtures/models/flash.json and Fixtures/gemma3/flash.json: how far llama.cpp's own
flash-attention logits lie from its default (non-flash) ones, on each committed fixture model's cases (as a fraction of
the logits' spread, the measure manifest.json's tolerances use) and on the real model's prompts (the largest difference
on the 32 logits reference.json keeps at each position, and how many greedy continuations stay its default's).
`inference-server --attention flash` sums attention in another order than llama.cpp's default, as llama.cpp's
`--flash-attn on` does; ModelFixtureTests and RealModelTests hold ours to the same distance from the default.

Run by hand, not by CI: needs PyPI `llama-cpp-python` (which builds llama.cpp from source).
    python3 scripts/make_flash_fixtures.py
"""
import json
import os
import subprocess

import numpy as np
import llama_cpp

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "models")
GEMMA = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "gemma3")


def logits(path, tokens, flash):
    llm = llama_cpp.Llama(model_path=path, n_ctx=128, n_batch=128, n_threads=2, logits_all=True, verbose=False,
                          seed=1, flash_attn=flash)
    llm.eval(tokens)
    rows = np.array(llm.scores[:len(tokens)], dtype=np.float32)
    del llm
    return rows


def real_model():
    """llama.cpp's flash path on the real model, one token at a time as reference.json was recorded."""
    path = subprocess.run([os.path.join(ROOT, "scripts", "real-model")], capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(GEMMA, "reference.json")) as f:
        reference = json.load(f)
    llm = llama_cpp.Llama(model_path=path, n_ctx=2048, n_batch=1, n_ubatch=1, n_threads=2, n_threads_batch=2,
                          logits_all=True, verbose=False, flash_attn=True)
    result = {"generator": "scripts/make_flash_fixtures.py", "llamaCppPython": llama_cpp.__version__,
              "deviation": "max |flash logit - reference logit| over reference.json's 32 logits at every position of every prompt",
              "prompts": []}
    for prompt in reference["prompts"] + [reference["longPrompt"]]:
        llm.reset()
        llm.eval(prompt["tokens"])
        worst = 0.0
        for position, expected in enumerate(prompt["positions"]):
            row = np.array(llm.scores[position], dtype=np.float32)
            worst = max(worst, float(np.abs(row[expected["ids"]] - np.array(expected["logits"], dtype=np.float32)).max()))
        produced = []
        for _ in prompt["greedy"]:
            produced.append(int(np.argmax(llm.scores[llm.n_tokens - 1])))
            llm.eval([produced[-1]])
        same = next((i for i, (a, b) in enumerate(zip(produced, prompt["greedy"])) if a != b), len(produced))
        result["prompts"].append({"text": prompt["text"][:40], "deviation": round(worst, 5), "greedySame": same})
        print(f"{prompt['text'][:30]!r}: llama.cpp flash vs default {worst:.4f}, {same} of {len(produced)} greedy tokens")
    with open(os.path.join(GEMMA, "flash.json"), "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    with open(os.path.join(MODELS, "manifest.json")) as f:
        manifest = json.load(f)
    result = {"generator": "scripts/make_flash_fixtures.py", "llamaCppPython": llama_cpp.__version__,
              "deviation": "max |flash logit - default logit| / logitsSpread over every position of every case",
              "models": {}}
    for model in manifest["models"]:
        path = os.path.join(MODELS, model["file"])
        reference = np.fromfile(os.path.join(MODELS, model["logits"]), dtype=np.float32)
        worst, recorded = 0.0, 0.0
        for case in model["cases"]:
            tokens = case["tokens"]
            plain, flash = logits(path, tokens, False), logits(path, tokens, True)
            v = model["vocabularySize"]
            committed = reference[case["logitsOffset"]:case["logitsOffset"] + len(tokens) * v].reshape(len(tokens), v)
            recorded = max(recorded, float(np.abs(plain - committed).max()) / case["logitsSpread"])
            worst = max(worst, float(np.abs(flash - plain).max()) / case["logitsSpread"])
        # this build's default logits must be the committed ones, or the distance is measured from elsewhere
        assert recorded == 0.0, f"{model['file']}: this llama.cpp's default logits differ from the fixture's by {recorded}"
        result["models"][model["file"]] = round(worst, 6)
        print(f"{model['file']}: llama.cpp flash vs default {worst:.4f} of the spread")
    with open(os.path.join(MODELS, "flash.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    real_model()


if __name__ == "__main__":
    main()
