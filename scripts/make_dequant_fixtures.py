"""Generates Tests/InferenceTests/Fixtures/dequant/*.bin: random blocks of each tensor type and what they dequantise
to, according to gguf-py's reference implementation (PyPI `gguf`), independent of ours.

Each file: u32 element count, then the raw blocks, then the float32 values. Run: python3 scripts/make_dequant_fixtures.py
"""
import os
import struct

import numpy as np
from gguf import GGMLQuantizationType as T, GGML_QUANT_SIZES, quants

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "InferenceTests", "Fixtures", "dequant")
rng = np.random.default_rng(20261122)


def random_blocks(kind, blocks):
    elements, size = GGML_QUANT_SIZES[kind]
    raw = rng.integers(0, 256, size=blocks * size, dtype=np.uint8)
    # keep the f16 scales (and minimums) finite and modest: random bits can be NaN or huge
    offsets = {T.Q8_0: [0], T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q2_K: [size - 4, size - 2],
               T.Q3_K: [size - 2], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [size - 2]}.get(kind)
    if offsets:
        view = raw.reshape(blocks, size)
        for offset in offsets:
            scales = rng.uniform(-0.05, 0.05, size=blocks).astype(np.float16)
            view[:, offset:offset + 2] = scales.view(np.uint8).reshape(blocks, 2)
    return raw, blocks * elements


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {"f16": (T.F16, None), "bf16": (T.BF16, None), "q8_0": (T.Q8_0, 6), "q4_0": (T.Q4_0, 6), "q4_k": (T.Q4_K, 4), "q6_k": (T.Q6_K, 4),
             "q4_1": (T.Q4_1, 6), "q5_0": (T.Q5_0, 6), "q5_1": (T.Q5_1, 6), "q2_k": (T.Q2_K, 4), "q3_k": (T.Q3_K, 4), "q5_k": (T.Q5_K, 4)}
    for name, (kind, blocks) in cases.items():
        if kind == T.F16:
            values = rng.normal(0, 1, 96).astype(np.float16)
            raw, count = values.view(np.uint8), 96
        elif kind == T.BF16:
            floats = rng.normal(0, 1, 96).astype(np.float32)
            raw, count = (floats.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8), 96
        else:
            raw, count = random_blocks(kind, blocks)
        values = quants.dequantize(raw, kind).astype(np.float32).reshape(-1)
        assert values.size == count, (name, values.size, count)
        with open(os.path.join(OUT, f"{name}.bin"), "wb") as out:
            out.write(struct.pack("<I", count))
            out.write(raw.tobytes())
            out.write(values.tobytes())
        print(name, count, "values")


if __name__ == "__main__":
    main()
