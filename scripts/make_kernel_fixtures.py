"""Generates Tests/InferenceTests/Fixtures/kernels/dots.json: ggml's own quantised dot products, to the bit, on random
rows, from the libggml-cpu that `llama-cpp-python` builds natively on this machine (x86-64 with AVX2, so its AVX2 and
AVX-512 kernels run).

Run by hand, not by CI: needs PyPI `gguf` and `llama-cpp-python`.
    python3 scripts/make_kernel_fixtures.py

For every weight type each case holds a weight row quantised by ggml (`ggml_quantize_chunk`), an f32 activation row,
and the f32 result of the type's `vec_dot` (the CPU type traits), whose activations ggml quantises itself with the
traits' `from_float`. Q4_K and Q4_0 matrices whose row count is a multiple of 8 are repacked by llama.cpp on x86 (8
rows interleaved, `block_q4_Kx8`, `block_q4_0x8`) and multiplied by `gemv<block_q4_K, 8, 8>` and
`ggml_gemv_q4_0_8x8_q8_0` instead (and their `gemm` for batches), so those cases also carry the results of that
kernel on 8 rows at once (the repacking is done here, as `make_block_q4_Kx8` and `make_block_q4_0x8` do it). For
Q4_0 the script checks that the batched kernel (`ggml_gemm_q4_0_8x8_q8_0`, four tokens) gives the same bits.
"""
import base64
import ctypes
import json
import os

import numpy as np
import llama_cpp

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "InferenceTests", "Fixtures", "kernels", "dots.json")
LIB = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
rng = np.random.default_rng(20261201)

# ggml_type numbers (ggml.h) and their (block elements, block bytes)
TYPES = {"Q4_0": (2, 32, 18), "Q4_1": (3, 32, 20), "Q5_0": (6, 32, 22), "Q5_1": (7, 32, 24), "Q8_0": (8, 32, 34),
         "Q2_K": (10, 256, 84), "Q3_K": (11, 256, 110), "Q4_K": (12, 256, 144), "Q5_K": (13, 256, 176),
         "Q6_K": (14, 256, 210)}
COLUMNS = 1024
CASES = 8

base = ctypes.CDLL(os.path.join(LIB, "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
cpu = ctypes.CDLL(os.path.join(LIB, "libggml-cpu.so"), mode=ctypes.RTLD_GLOBAL)


class Traits(ctypes.Structure):
    _fields_ = [("from_float", ctypes.c_void_p), ("vec_dot", ctypes.c_void_p), ("vec_dot_type", ctypes.c_int),
                ("nrows", ctypes.c_int64)]


FROM_FLOAT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)
VEC_DOT = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                           ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
cpu.ggml_cpu_init()
cpu.ggml_get_type_traits_cpu.restype = ctypes.POINTER(Traits)
base.ggml_quantize_chunk.restype = ctypes.c_size_t
base.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                     ctypes.c_int64, ctypes.c_void_p]
base.ggml_row_size.restype = ctypes.c_size_t
base.ggml_row_size.argtypes = [ctypes.c_int, ctypes.c_int64]
# ggml::cpu::repack::gemv<block_q4_K, 8, 8, GGML_TYPE_Q8_K>(int n, float * s, size_t bs, const void * vx,
#                                                          const void * vy, int nr, int nc)
GEMV_Q4_K = getattr(cpu, "_ZN4ggml3cpu6repack4gemvI10block_q4_KLl8ELl8EL9ggml_type15EEEviPfmPKvS7_ii")
GEMV_Q4_K.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                      ctypes.c_int]

GEMV_Q4_0 = cpu.ggml_gemv_q4_0_8x8_q8_0
GEMM_Q4_0 = cpu.ggml_gemm_q4_0_8x8_q8_0
for kernel in (GEMV_Q4_0, GEMM_Q4_0):
    kernel.argtypes = GEMV_Q4_K.argtypes
QUANTIZE_MAT_Q8_0 = cpu.ggml_quantize_mat_q8_0_4x8  # (const float * x, void * vy, int64_t k): four rows
QUANTIZE_MAT_Q8_0.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]


def traits(ggml_type):
    return cpu.ggml_get_type_traits_cpu(ggml_type).contents


def quantize(ggml_type, values, rows):
    out = ctypes.create_string_buffer(base.ggml_row_size(ggml_type, COLUMNS) * rows)
    base.ggml_quantize_chunk(ggml_type, values.ctypes.data, out, 0, rows, COLUMNS, None)
    return out.raw


def activations(ggml_type, values):
    """The activation row quantised by ggml's CPU `from_float` for the type's dot type."""
    dot_type = traits(ggml_type).vec_dot_type
    out = ctypes.create_string_buffer(base.ggml_row_size(dot_type, COLUMNS))
    FROM_FLOAT(traits(dot_type).from_float)(values.ctypes.data, out, COLUMNS)
    return out


def vec_dot(ggml_type, weights, y):
    result = ctypes.c_float()
    VEC_DOT(traits(ggml_type).vec_dot)(COLUMNS, ctypes.byref(result), 0, weights, 0, y, 0, 1)
    return result.value


def repack_q4_K_x8(rows):
    """Eight Q4_K rows interleaved as `make_block_q4_Kx8` does, block by block."""
    blocks = COLUMNS // 256
    out = bytearray()
    for b in range(blocks):
        ins = [np.frombuffer(row[b * 144:(b + 1) * 144], dtype=np.uint8) for row in rows]
        out += b"".join(bytes(block[0:2]) for block in ins)  # d
        out += b"".join(bytes(block[2:4]) for block in ins)  # dmin
        scales = [block[4:16] for block in ins]
        qs = [block[16:144] for block in ins]
        packed = bytearray(96)
        for half in range(2):
            for i in range(4):
                if half == 0:
                    s = [int(scales[j][i]) & 63 for j in range(8)]
                    m = [int(scales[j][i + 4]) & 63 for j in range(8)]
                else:
                    s = [((int(scales[j][i]) & 192) >> 2) | (int(scales[j][i + 8]) & 15) for j in range(8)]
                    m = [((int(scales[j][i + 4]) & 192) >> 2) | ((int(scales[j][i + 8]) & 240) >> 4) for j in range(8)]
                at = half * 48 + i * 12
                for j in range(4):
                    packed[at + j] = ((s[j] & 63) + ((s[j + 4] & 48) << 2)) & 0xFF
                    packed[at + 4 + j] = ((m[j] & 63) + ((m[j + 4] & 48) << 2)) & 0xFF
                    packed[at + 8 + j] = ((s[j + 4] & 15) + ((m[j + 4] & 15) << 4)) & 0xFF
        out += packed
        for i in range(128):
            out += bytes(qs[i % 8][(i // 8) * 8:(i // 8) * 8 + 8])
    return bytes(out)


def repack_q4_0_x8(rows):
    """Eight Q4_0 rows interleaved as `make_block_q4_0x8` does (8-byte chunks, nibbles XORed with 8)."""
    out = bytearray()
    for b in range(COLUMNS // 32):
        ins = [row[b * 18:(b + 1) * 18] for row in rows]
        out += b"".join(block[0:2] for block in ins)
        for i in range(16):
            chunk = ins[i % 8][2 + (i // 8) * 8:2 + (i // 8) * 8 + 8]
            out += bytes(byte ^ 0x88 for byte in chunk)
    return bytes(out)


def interleaved_q4_0(rows, y, x):
    """`ggml_gemv_q4_0_8x8_q8_0` on the 8 rows, checked against its batched `gemm` on four copies of the row."""
    packed = ctypes.create_string_buffer(repack_q4_0_x8(rows))
    out = (ctypes.c_float * 8)()
    GEMV_Q4_0(COLUMNS, out, 8, packed, y, 1, 8)
    four = np.ascontiguousarray(np.tile(x, 4))
    quantized = ctypes.create_string_buffer(4 * base.ggml_row_size(8, COLUMNS))
    QUANTIZE_MAT_Q8_0(four.ctypes.data, quantized, COLUMNS)
    batched = (ctypes.c_float * 32)()
    GEMM_Q4_0(COLUMNS, batched, 8, packed, quantized, 4, 8)
    for token in range(4):
        assert list(batched[token * 8:token * 8 + 8]) == list(out), "ggml's gemm and gemv differ"
    return out


def encode(data):
    return base64.b64encode(bytes(data)).decode()


def main():
    fixture = {"columns": COLUMNS, "cases": []}
    for name, (ggml_type, _, block_bytes) in TYPES.items():
        for case in range(CASES):
            # scales spread over several orders of magnitude, some rows with outliers, as real activations have
            scale = 10.0 ** rng.uniform(-2, 1)
            weights = rng.standard_normal((8, COLUMNS)).astype(np.float32) * np.float32(scale)
            x = rng.standard_normal(COLUMNS).astype(np.float32) * np.float32(10.0 ** rng.uniform(-1, 2))
            if case % 2:
                x[rng.integers(0, COLUMNS, 4)] *= 30
            rows = quantize(ggml_type, weights, 8)
            row_bytes = len(rows) // 8
            y = activations(ggml_type, x)
            results = [vec_dot(ggml_type, rows[r * row_bytes:(r + 1) * row_bytes], y) for r in range(8)]
            entry = {"type": name, "weights": encode(rows), "activations": encode(x.tobytes()),
                     "results": [float(np.float32(v)) for v in results],
                     "resultBits": [int(np.float32(v).view(np.uint32)) for v in results]}
            if name == "Q4_K":
                packed = ctypes.create_string_buffer(repack_q4_K_x8([rows[r * row_bytes:(r + 1) * row_bytes] for r in range(8)]))
                out = (ctypes.c_float * 8)()
                GEMV_Q4_K(COLUMNS, out, 8, packed, y, 1, 8)
                entry["interleavedBits"] = [int(np.float32(v).view(np.uint32)) for v in out]
            if name == "Q4_0":
                out = interleaved_q4_0([rows[r * row_bytes:(r + 1) * row_bytes] for r in range(8)], y, x)
                entry["interleavedBits"] = [int(np.float32(v).view(np.uint32)) for v in out]
            fixture["cases"].append(entry)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=0)
        f.write("\n")
    print(f"wrote {OUT}: {len(fixture['cases'])} cases")


if __name__ == "__main__":
    main()
