#!/usr/bin/python3
"""Regenerate the committed tiny test model, its manifests and its torch goldens (run from the repo root).

  /usr/bin/python3 scripts/export-triposr/fixtures.py

tests/fixtures/models/triposr-tiny/           triplane_{fp32,int8,int4,fp16}.onnx (+ .onnx.data), decoder.onnx
tests/fixtures/models/triposr-tiny-*.manifest.json   urls relative to tests/fixtures/models/
tests/fixtures/goldens/triposr-tiny/          {fp32,int8,int4,fp16}.bin (float32 LE [1,3,40,64,64]) + .json
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from export import parse_args, run  # noqa: E402

MODELS = "tests/fixtures/models"
FOLDER = "triposr-tiny"

for precision in ("fp32", "int8", "int4", "fp16"):
    run(parse_args([
        "--config", "tiny", "--precision", precision, "--block", "32", "--seed", "0",
        "--out", f"{MODELS}/{FOLDER}", "--url-prefix", f"{FOLDER}/", "--id", f"triposr-tiny-{precision}",
        "--manifest", f"{MODELS}/{FOLDER}-{precision}.manifest.json",
        "--golden", f"tests/fixtures/goldens/{FOLDER}",
    ]))
