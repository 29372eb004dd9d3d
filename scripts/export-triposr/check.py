"""Quantisation check: each quantised variant against fp32, in torch, with simulated quantisation.

Simulated quantisation is the same arithmetic as the exported graph: the torch model's Linear weights
are replaced by exactly what MatMulNBits multiplies by (verify-ort.mjs shows the two agree to ~1e-5).
For every photo: triplane cosine, and occupancy (density > 25) agreement and IoU on the reference's
128³ grid, decoded with the model's own decoder.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from model import DENSITY_THRESHOLD, IMAGE_SIZE, TripoSR, density_grid
from quantize import simulate

# (tag, bits, block, fp16_rest, fp16_all)
VARIANTS = [
    ("int8", 8, 32, False, False),
    ("int4", 4, 32, False, False),
    ("int4-b64", 4, 64, False, False),
    ("int4-b128", 4, 128, False, False),
    ("int4-b64-f16rest", 4, 64, True, False),
    ("int4-b128-f16rest", 4, 128, True, False),
    ("fp16 (weights only)", None, 32, False, True),
]


def load_photo(path: str) -> torch.Tensor:
    """A prepared photo → [1,3,512,512]: alpha composited on grey 0.5 (as the app does), bilinear antialiased resize."""
    from PIL import Image

    img = Image.open(path)
    rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
    rgb = rgba[..., :3] * rgba[..., 3:] + (1.0 - rgba[..., 3:]) * 0.5
    t = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).contiguous()
    if t.shape[-1] != IMAGE_SIZE or t.shape[-2] != IMAGE_SIZE:
        t = F.interpolate(t, (IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False, antialias=True)
    return t


def compare(model: TripoSR, ref: torch.Tensor, ref_occ: torch.Tensor, out: torch.Tensor, resolution: int) -> dict:
    a, b = ref.reshape(-1).double(), out.reshape(-1).double()
    occ = density_grid(model, out[0], resolution) > DENSITY_THRESHOLD
    union = (occ | ref_occ).sum().item()
    return {
        "cosine": float(torch.dot(a, b) / (a.norm() * b.norm())),
        "maxAbs": float((a - b).abs().max()),
        "occupancyAgreement": float((occ == ref_occ).double().mean()),
        "iou": float((occ & ref_occ).sum().item() / union) if union else 1.0,
        "occupied": float(occ.double().mean()),
    }


def run_check(model: TripoSR, folder: str, resolution: int, weights: str, only: str | None = None) -> dict:
    """Print and return, per variant, the mean and worst numbers over the photos in `folder`."""
    photos = sorted(p for ext in ("png", "jpg", "jpeg", "webp") for p in glob.glob(os.path.join(folder, f"*.{ext}")))
    if not photos:
        raise SystemExit(f"No photos (png, jpg, webp) in {folder}: add a few prepared object photos and retry.")
    images = [load_photo(p) for p in photos]
    with torch.no_grad():
        refs = [model(img) for img in images]
        ref_occ = [density_grid(model, r[0], resolution) > DENSITY_THRESHOLD for r in refs]
    print(f"quantisation check on {len(photos)} photo(s), {weights}, occupancy at density > {DENSITY_THRESHOLD:g} on {resolution}³")
    for p, occ in zip(photos, ref_occ):
        print(f"  {os.path.basename(p)}: fp32 occupied {occ.double().mean().item():.3f}")
    results = {}
    chosen = [v for v in VARIANTS if not only or v[0].split(" ")[0] in only.split(",")]
    for tag, bits, block, fp16_rest, fp16_all in chosen:
        t0 = time.time()
        m = copy.deepcopy(model)
        simulate(m, bits, block, fp16_rest=fp16_rest, fp16_all=fp16_all)
        rows = []
        with torch.no_grad():
            for img, ref, occ in zip(images, refs, ref_occ):
                rows.append(compare(m, ref, occ, m(img), resolution))
        del m
        summary = {k: {"mean": float(np.mean([r[k] for r in rows])), "worst": float(min(r[k] for r in rows) if k != "maxAbs" else max(r[k] for r in rows))}
                   for k in rows[0]}
        results[tag] = {"perPhoto": rows, "summary": summary}
        s = summary
        print(f"  {tag:>20}: cosine {s['cosine']['mean']:.6f} (worst {s['cosine']['worst']:.6f})  occupancy agreement "
              f"{s['occupancyAgreement']['mean']:.5f} (worst {s['occupancyAgreement']['worst']:.5f})  IoU {s['iou']['mean']:.4f}"
              f"  [{weights}]  {time.time() - t0:.0f} s", flush=True)
    print(json.dumps({"weights": weights, "photos": [os.path.basename(p) for p in photos], "results": results}))
    return results
