#!/usr/bin/env python3
"""Extracts AES-256-GCM test vectors (96-bit IVs, 128-bit tags) from NIST's CAVS files as the PyPI package
cryptography_vectors ships them, into Tests/PlanTests/Fixtures/aes-gcm/vectors.json: from gcmEncryptExtIV256.rsp,
the first three cases of every plaintext and AAD length; from gcmDecrypt256.rsp, the first three of each, the
forged ones (FAIL) included. The NIST vectors are a work of the US government; the package's licence travels in
Fixtures/aes-gcm/LICENSE.

    pip download --no-deps cryptography_vectors -d /tmp/cv && python3 scripts/make_gcm_vectors.py /tmp/cv/cryptography_vectors-*.whl
"""
import json
import os
import sys
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "PlanTests", "Fixtures", "aes-gcm", "vectors.json")


def sections(text):
    """(header fields, cases) for every bracketed section of a CAVS response file."""
    header, cases, case = {}, [], None
    for line in text.splitlines() + [""]:
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            if cases or case:
                if case:
                    cases.append(case)
                yield header, cases
                header, cases, case = {}, [], None
            key, _, value = line[1:-1].partition(" = ")
            header[key] = value
        elif line.startswith("Count = "):
            if case:
                cases.append(case)
            case = {}
        elif line == "FAIL" and case is not None:
            case["FAIL"] = True
        elif " = " in line and case is not None:
            key, _, value = line.partition(" = ")
            case[key] = value
        elif line.endswith("=") and case is not None:
            case[line[:-1].strip()] = ""
    if case:
        cases.append(case)
    if cases:
        yield header, cases


def main():
    wheel = zipfile.ZipFile(sys.argv[1])
    vectors = []
    for name, decrypt in (("gcmEncryptExtIV256.rsp", False), ("gcmDecrypt256.rsp", True)):
        text = wheel.read("cryptography_vectors/ciphers/AES/GCM/" + name).decode()
        for header, cases in sections(text):
            if header.get("IVlen") != "96" or header.get("Taglen") != "128":
                continue
            for case in cases[:3]:
                vectors.append({"key": case["Key"], "iv": case["IV"], "aad": case.get("AAD", ""), "ciphertext": case.get("CT", ""),
                                "tag": case["Tag"], "plaintext": None if case.get("FAIL") else case.get("PT", ""),
                                "source": f"{name} PTlen={header.get('PTlen')} AADlen={header.get('AADlen')}"})
    with open(OUT, "w") as out:
        json.dump(vectors, out, indent=0)
        out.write("\n")
    print(f"{len(vectors)} vectors, {sum(v['plaintext'] is None for v in vectors)} forged, to {OUT}")


if __name__ == "__main__":
    main()
