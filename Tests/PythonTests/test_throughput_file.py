"""The serving benchmark's throughput file, read by deploy breakeven: scripts/serve_benchmark.py --out writes it
(deploy.throughput/1), and `deploy breakeven --throughput-from` prices a node from both of its rates, the prompt
rate as measured rather than assumed.

Run: python3 -m unittest Tests/PythonTests/test_throughput_file.py -v
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEPLOY = os.path.join(ROOT, ".build", "debug", "deploy")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import serve_benchmark  # noqa: E402


class ThroughputFileTests(unittest.TestCase):
    def test_breakeven_prices_both_measured_rates(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "throughput.json")
            serve_benchmark.write_throughput(path, "/models/m.gguf", 2, 96.5, 640.0)
            with open(path) as file:
                document = json.load(file)
            self.assertEqual(document["format"], "deploy.throughput/1")
            self.assertEqual((document["clients"], document["generation_tokens_per_second"], document["prompt_tokens_per_second"]),
                             (16, 96.5, 640.0))
            result = subprocess.run([DEPLOY, "breakeven", "--api-model", "gpt-4o", "--gpu-hourly", "0.5", "--throughput-from", path,
                                     "--input-output-ratio", "8", "--output", "json"], capture_output=True, text=True, check=True)
            report = json.loads(result.stdout)
            assumptions = {row["name"]: row for row in report["assumptions"]}
            self.assertIn("96.5 generated tokens/s per node, 16 clients together", assumptions["throughput"]["value"])
            self.assertEqual(assumptions["prompt processing"]["source"], f"measured: {path}")
            # a generated token costs 1/96.5 s and brings 8 prompt tokens at 1/640 s each
            generated_per_second = 1 / (1 / 96.5 + 8 / 640)
            expected = generated_per_second * 9 * 3600 * 730 * 0.6
            self.assertAlmostEqual(report["capacityPerNodeTokensPerMonth"] / expected, 1, places=9)


if __name__ == "__main__":
    unittest.main()
