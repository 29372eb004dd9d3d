#!/usr/bin/python3
"""Export TripoSR (official checkpoint or seeded weights) to the app's ONNX contract.

  /usr/bin/python3 scripts/export-triposr/export.py --config tiny --precision int4 --block 32 --out /tmp/tiny
  /usr/bin/python3 scripts/export-triposr/export.py --config full --ckpt model.ckpt --precision int4 --block 64 \
      --fp16-rest --out public/models/triposr-int4

Writes `triplane_<tag>.onnx` (+ `.onnx.data`), `decoder.onnx` (fp32 always) and `manifest.json`, and prints
a report: file bytes, largest intermediate tensor (onnx shape inference), largest initializer.
`--golden DIR` also writes the torch triplane of the fixed image for this variant; `--check DIR` compares
every quantised variant with fp32 in torch on the photos in DIR (see check.py).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from graphs import ENCODER_INPUT, ENCODER_OUTPUT, decoder_graph, export_encoder, largest_tensors, save_with_external_data  # noqa: E402
from manifest import file_entry, write_manifest  # noqa: E402
from model import FORMULAS, TripoSR, calibrate_density, fixed_image, load_checkpoint, seeded_model  # noqa: E402
from quantize import convert_fp16, quantize_matmuls, simulate, store_rest_fp16  # noqa: E402

GOLDEN_FORMULA = "hash"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def variant_tag(precision: str, block: int, fp16_rest: bool) -> str:
    """File tag: fp32, fp16, int8, int4 (block 32 is the default and stays out of the name), int4-b64, …, +-f16rest."""
    tag = precision
    if precision in ("int8", "int4") and block != 32:
        tag += f"-b{block}"
    if fp16_rest and precision in ("int8", "int4"):
        tag += "-f16rest"
    return tag


def build_model(config: str, seed: int, ckpt: str | None) -> TripoSR:
    """Official weights from `ckpt`, else seeded weights with the decoder's density calibrated on the fixed image."""
    if ckpt:
        model = TripoSR(seeded_model(config, seed).cfg).eval()
        load_checkpoint(model, ckpt)
        model.bake_position_table()
        return model
    model = seeded_model(config, seed)
    model.bake_position_table()
    with torch.no_grad():
        triplane = model(fixed_image(GOLDEN_FORMULA))[0]
    calibrate_density(model, triplane)
    log(f"seeded {config} (seed {seed}): triplane mean {triplane.mean():.4f} std {triplane.std():.4f} "
        f"min {triplane.min():.3f} max {triplane.max():.3f}")
    return model


def parse_tag(tag: str) -> tuple:
    """Inverse of `variant_tag`: 'int4-b64-f16rest' → ('int4', 64, True)."""
    parts = tag.split("-")
    precision, block, fp16_rest = parts[0], 32, False
    for p in parts[1:]:
        if p.startswith("b"):
            block = int(p[1:])
        elif p == "f16rest":
            fp16_rest = True
        else:
            raise SystemExit(f"Unknown variant part '{p}' in '{tag}': use e.g. fp32, fp16, int8, int4-b64, int4-b64-f16rest.")
    if precision not in ("fp32", "fp16", "int8", "int4"):
        raise SystemExit(f"Unknown precision in '{tag}': use fp32, fp16, int8 or int4.")
    return precision, block, fp16_rest


def trace_fp32(model: TripoSR, path: str) -> None:
    """Trace the encoder once and save it (with inferred shapes, which the quantised variants reuse)."""
    log("tracing the encoder")
    graph = export_encoder(model)
    # MatMulNBits outputs have the MatMul's shapes, which onnx cannot infer for a contrib op: keep them.
    graph.graph.value_info.extend(largest_tensors(graph)["inferred"].graph.value_info)
    graph.producer_name = "cadlift-export-triposr fp32"
    save_with_external_data(graph, path)
    log(f"saved {path}")


def export_variant(model: TripoSR, fp32_path: str, precision: str, block: int, fp16_rest: bool, out: str, tag: str) -> dict:
    """Write triplane_<tag>.onnx (+ data) from the traced fp32 graph; returns the report for it."""
    path = os.path.join(out, f"triplane_{tag}.onnx")
    info: dict = {"precision": precision}
    if os.path.abspath(path) != os.path.abspath(fp32_path):
        graph = onnx.load(fp32_path)
        if precision in ("int8", "int4"):
            bits = 8 if precision == "int8" else 4
            info["matmulnbits"] = quantize_matmuls(graph, bits, block)
            info["block"] = block
            expected = len(model.encoder_linears())
            if info["matmulnbits"] != expected:
                raise SystemExit(f"quantised {info['matmulnbits']} MatMuls but the model has {expected} Linear layers")
            if fp16_rest:
                info["fp16Initializers"] = store_rest_fp16(graph)
        elif precision == "fp16":
            info["fp16"] = convert_fp16(graph, ENCODER_INPUT, ENCODER_OUTPUT)
        graph.producer_name = f"cadlift-export-triposr {tag}"
        save_with_external_data(graph, path)
        del graph
    onnx.checker.check_model(path)
    sizes = largest_tensors(onnx.load(path, load_external_data=False))
    files = [f for f in (path, path + ".data") if os.path.exists(f)]
    info.update({
        "files": {os.path.basename(f): os.path.getsize(f) for f in files},
        "totalBytes": sum(os.path.getsize(f) for f in files),
        "largestTensor": {"name": sizes["tensor"], "bytes": sizes["tensorBytes"]},
        "largestInitializer": {"name": sizes["initializer"], "bytes": sizes["initializerBytes"]},
        "unknownShapes": sizes["unknownShapes"],
    })
    return info


def write_decoder(model: TripoSR, out: str) -> str:
    path = os.path.join(out, "decoder.onnx")
    onnx.save_model(decoder_graph(model), path)
    return path


def triplane_for(model: TripoSR, precision: str, block: int, fp16_rest: bool, image: torch.Tensor) -> torch.Tensor:
    """The torch triplane of this variant: fp32, or the weights the quantised graph multiplies by."""
    m = model
    if precision != "fp32":
        m = copy.deepcopy(model)
        bits = {"int8": 8, "int4": 4}.get(precision)
        simulate(m, bits, block, fp16_rest=fp16_rest, fp16_all=precision == "fp16")
    with torch.no_grad():
        return m(image)


def write_golden(model: TripoSR, precision: str, block: int, fp16_rest: bool, folder: str, tag: str, onnx_name: str) -> dict:
    """<folder>/<tag>.bin (float32 LE [1,3,40,64,64]) + <tag>.json (shape, input formula, stats)."""
    os.makedirs(folder, exist_ok=True)
    t = triplane_for(model, precision, block, fp16_rest, fixed_image(GOLDEN_FORMULA))
    arr = t.numpy().astype("<f4")
    arr.tofile(os.path.join(folder, f"{tag}.bin"))
    meta = {
        "model": onnx_name,
        "precision": precision,
        "block": block if precision in ("int8", "int4") else None,
        "shape": list(arr.shape),
        "dtype": "float32-le",
        "formulaId": GOLDEN_FORMULA,
        "formula": FORMULAS[GOLDEN_FORMULA],
        "layout": "input [1,3,512,512] NCHW, c = channel (RGB), y = row, x = column",
        "reference": "torch 1.13 model.py (simulated quantisation: dequantised weights)" if precision != "fp32" else "torch 1.13 model.py",
        "stats": {
            "mean": float(arr.mean()), "std": float(arr.std()), "min": float(arr.min()), "max": float(arr.max()),
            "absMax": float(np.abs(arr).max()), "l2": float(np.sqrt((arr.astype(np.float64) ** 2).sum())),
        },
        "first8": [float(v) for v in arr.reshape(-1)[:8]],
    }
    with open(os.path.join(folder, f"{tag}.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return meta


def parse_args(argv: list | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=["tiny", "full"], default="full")
    ap.add_argument("--precision", choices=["fp32", "int8", "int4", "fp16"], default="fp32")
    ap.add_argument("--block", type=int, choices=[16, 32, 64, 128], default=32)
    ap.add_argument("--fp16-rest", action="store_true", help="int8/int4: store the other large tensors as fp16")
    ap.add_argument("--ckpt", help="official model.ckpt; seeded weights without it")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--manifest", help="manifest path (default OUT/manifest.json)")
    ap.add_argument("--url-prefix", default="", help="prefix of each file's url, relative to the manifest")
    ap.add_argument("--id", help="manifest id (default triposr-<config>-<tag>)")
    ap.add_argument("--golden", help="also write the torch triplane of the fixed image to this folder")
    ap.add_argument("--check", help="folder of photos: compare every quantised variant with fp32 in torch")
    ap.add_argument("--check-resolution", type=int, default=128)
    ap.add_argument("--check-variants", help="comma list of check variants (default: all of check.VARIANTS)")
    ap.add_argument("--variants", help="comma list of variant tags to export from one trace: fp32,int8,int4,int4-b64,int4-b128-f16rest,fp16")
    ap.add_argument("--no-export", action="store_true", help="skip the ONNX export (with --check)")
    return ap.parse_args(argv)


def publish(model: TripoSR, args: argparse.Namespace, info: dict, tag: str, weights: str, decoder: str, many: bool) -> None:
    """Write the variant's manifest and print its report."""
    encoder = os.path.join(args.out, f"triplane_{tag}.onnx")
    entries = [file_entry(encoder, "encoder", args.url_prefix)]
    if os.path.exists(encoder + ".data"):
        entries.append(file_entry(encoder + ".data", "encoder-data", args.url_prefix))
    entries.append(file_entry(decoder, "decoder", args.url_prefix))
    largest = max(info["largestTensor"]["bytes"], info["largestInitializer"]["bytes"])
    default = f"manifest-{tag}.json" if many else "manifest.json"
    manifest_path = args.manifest if args.manifest and not many else os.path.join(args.out, default)
    write_manifest(manifest_path, id=args.id if args.id and not many else f"triposr-{args.config}-{tag}",
                   name=f"TripoSR {args.config} {tag} ({weights})", entries=entries, largest_bytes=largest)
    info.update({"config": args.config, "tag": tag, "weights": weights, "manifest": manifest_path,
                 "downloadBytes": sum(e["bytes"] for e in entries)})
    print(json.dumps(info, indent=2))
    print(f"{tag:>18}  download {info['downloadBytes'] / 1e6:9.2f} MB  largest tensor {info['largestTensor']['bytes'] / 2**20:8.2f} MiB"
          f" ({info['largestTensor']['name']})  largest initializer {info['largestInitializer']['bytes'] / 2**20:8.2f} MiB"
          f" ({info['largestInitializer']['name']})", flush=True)


def run(args: argparse.Namespace) -> list:
    """Export the variant(s), then optionally their goldens and the quantisation check; returns the reports."""
    torch.set_grad_enabled(False)
    os.makedirs(args.out, exist_ok=True)
    tags = args.variants.split(",") if args.variants else [variant_tag(args.precision, args.block, args.fp16_rest)]
    model = build_model(args.config, args.seed, args.ckpt)
    weights = "official checkpoint" if args.ckpt else f"seeded weights (seed {args.seed})"
    reports = []
    if not args.no_export:
        fp32_path = os.path.join(args.out, "triplane_fp32.onnx")
        scratch = None
        if "fp32" not in tags:
            scratch = tempfile.mkdtemp(dir=args.out)
            fp32_path = os.path.join(scratch, "triplane_fp32.onnx")
        trace_fp32(model, fp32_path)
        decoder = write_decoder(model, args.out)
        for tag in tags:
            precision, block, fp16_rest = parse_tag(tag)
            log(f"variant {tag}")
            info = export_variant(model, fp32_path, precision, block, fp16_rest, args.out, tag)
            publish(model, args, info, tag, weights, decoder, len(tags) > 1)
            reports.append(info)
        if scratch:
            shutil.rmtree(scratch)
    if args.golden:
        for tag in tags:
            precision, block, fp16_rest = parse_tag(tag)
            meta = write_golden(model, precision, block, fp16_rest, args.golden, tag, f"triplane_{tag}.onnx")
            log(f"golden {tag}: {meta['stats']}")
    if args.check:
        from check import run_check

        run_check(model, args.check, args.check_resolution, weights, args.check_variants)
    return reports


if __name__ == "__main__":
    run(parse_args())
