"""Goldens from implementations independent of CADLift's code (run by hand, not in CI).

    apt-get install -y python3-torch python3-skimage
    /usr/bin/python3 scripts/goldens/make_goldens.py

decoder-torch.json: TripoSR's triplane query (F.grid_sample, bilinear, align_corners=False, zero
padding) and NeRF MLP on a closed-form triplane and closed-form weights (tests/helpers/golden-inputs.ts
computes the same inputs), at seeded points, texel centres and points next to the box boundary.
mc-skimage.json: skimage.measure.marching_cubes (Lorensen) on a closed-form non-cubic field.
prepare-torch.json: TripoSR's image preparation (alpha box, centred square, ratio padding, grey 0.5
composite, F.interpolate bilinear antialias) on closed-form RGBA images (tests/helpers/prepare-inputs.ts
computes the same pixels); framing numbers, every 5th row and column of the 512² output, channel means.

Pass golden names to write only those, e.g. `make_goldens.py prepare`.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from skimage import measure

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'tests', 'fixtures', 'goldens')
RADIUS = 0.87


def triplane_values():
    i = np.arange(3 * 40 * 64 * 64, dtype=np.float64)
    return (np.sin(i * 0.7071 + 0.3) * np.cos(i * 0.0137)).astype(np.float32).reshape(3, 40, 64, 64)


def layer_values(index, n_in, n_out):
    j = np.arange(n_in * n_out, dtype=np.float64)
    w = (np.sin((j + 1) * 0.9173 + index * 1.37) * 1.5 / math.sqrt(n_in)).astype(np.float32)
    k = np.arange(n_out, dtype=np.float64)
    b = (np.cos(k * 0.531 + index) * 0.1).astype(np.float32)
    return w.reshape(n_out, n_in), b


def decoder_golden():
    torch.manual_seed(1234)
    triplane = torch.from_numpy(triplane_values())
    sizes = [(120, 64)] + [(64, 64)] * 8 + [(64, 4)]
    layers = []
    for index, (n_in, n_out) in enumerate(sizes):
        w, b = layer_values(index, n_in, n_out)
        lin = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if index < len(sizes) - 1:
            layers.append(torch.nn.SiLU())
    mlp = torch.nn.Sequential(*layers)

    random_points = (torch.rand(48, 3) * 2 - 1) * RADIUS
    # Texel centres: u = (2i + 1) / 64 - 1 on each axis.
    centres = torch.tensor([[(2 * i + 1) / 64 - 1, (2 * j + 1) / 64 - 1, (2 * k + 1) / 64 - 1] for i, j, k in
                            [(0, 0, 0), (63, 63, 63), (10, 20, 30), (31, 32, 5)]]) * RADIUS
    # Next to and beyond the box boundary, where taps fall outside the plane.
    edge = torch.tensor([[0.869, 0.0, 0.1], [-0.8699, 0.5, -0.86], [0.86, -0.865, 0.868], [0.87, 0.87, -0.87],
                         [0.0, -0.87, 0.3], [0.85, 0.2, -0.859]])
    points = torch.cat([random_points, centres, edge]).float()
    q = points / RADIUS
    grid = torch.stack((q[:, [0, 1]], q[:, [0, 2]], q[:, [1, 2]]), dim=0).view(3, 1, -1, 2)
    feats = F.grid_sample(triplane, grid, mode='bilinear', align_corners=False, padding_mode='zeros')
    feats = feats.view(3, 40, -1).permute(2, 0, 1).reshape(-1, 120)
    with torch.no_grad():
        out = mlp(feats)
    density = torch.exp(out[:, 0] - 1)
    colour = torch.sigmoid(out[:, 1:4])
    return {
        'points': points.flatten().tolist(),
        'features': feats.flatten().tolist(),
        'raw': out.flatten().tolist(),
        'density': density.tolist(),
        'colour': colour.flatten().tolist(),
    }


def mc_golden():
    dims = (20, 24, 28)
    x, y, z = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in dims], indexing='ij')
    field = (7.5 - np.sqrt((x - 9.3) ** 2 + ((y - 11.1) / 1.2) ** 2 + ((z - 13.7) / 1.4) ** 2)
             + 0.8 * np.sin(x * 0.7) * np.cos(y * 0.5 + z * 0.3)).astype(np.float32)
    verts, faces, _, _ = measure.marching_cubes(field, level=0.0, method='lorensen')
    return {'dims': list(dims), 'formula': 'see mcGoldenField in tests/helpers/golden-inputs.ts',
            'vertices': np.round(verts.astype(np.float64), 6).flatten().tolist(),
            'faces': faces.flatten().tolist()}


PREPARE_CASES = [('blob', 300, 200, 0.85), ('large', 1400, 900, 0.85), ('small', 90, 70, 0.7),
                 ('opaque', 257, 130, 1.0)]


def prepare_input(name, w, h):
    """RGBA uint8 [h, w, 4], integer maths only (mirrors prepareInput in tests/helpers/prepare-inputs.ts)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    if name == 'blob':
        q = (x - 190) ** 2 * 9 + (y - 80) ** 2 * 16
        a = np.where(q < 22500, 255, np.where(q < 32400, (32400 - q) * 255 // 9900, 0))
        rgb = [(x * 3 + y) % 256, ((x // 4 + y // 4) % 2) * 210 + 20, (x * y) % 251]
    elif name == 'large':
        a = np.where((x < 50) | (y < 30), 0, np.where(x < 1200, 255, 255 - (x - 1199)))
        rgb = [(x * 13 + y * 7) % 256, ((x // 3 + y // 2) % 2) * 200 + 30, (x ^ y) & 255]
    elif name == 'small':
        a = np.where((x - 40) ** 2 + (y - 30) ** 2 < 400, 255, np.where(x > 60, 128, 0))
        rgb = [x * 2 + 40, y * 3, ((x + y) % 3) * 100]
    else:
        a = np.full_like(x, 255)
        rgb = [(x * x) % 256, (y * 11) % 256, 128 + ((x // 8) % 2) * 60]
    return np.stack(rgb + [a], axis=-1).astype(np.uint8)


def prepare_golden():
    """Framing done plainly on the full padded array, then torch's antialiased bilinear resize."""
    out = {}
    for name, w, h, ratio in PREPARE_CASES:
        rgba = prepare_input(name, w, h)
        ys, xs = np.nonzero(rgba[..., 3] > 0)
        x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
        crop = rgba[y0:y1 + 1, x0:x1 + 1].astype(np.float64) / 255.0
        bh, bw = crop.shape[:2]
        side = max(bw, bh)
        sx, sy = (side - bw) // 2, (side - bh) // 2
        padded_side = int(math.floor(side / ratio + 0.5))
        pad = (padded_side - side) // 2
        rgb = crop[..., :3] * crop[..., 3:4] + 0.5 * (1 - crop[..., 3:4])
        canvas = np.full((padded_side, padded_side, 3), 0.5)
        canvas[pad + sy:pad + sy + bh, pad + sx:pad + sx + bw] = rgb
        x = torch.from_numpy(canvas.astype(np.float32)).permute(2, 0, 1)[None]
        y = F.interpolate(x, size=(512, 512), mode='bilinear', antialias=True, align_corners=False)[0]
        out[name] = {
            'width': w, 'height': h, 'ratio': ratio,
            'box': [x0, y0, bw, bh], 'squareSide': side, 'squareOffset': [sx, sy],
            'paddedSide': padded_side, 'paddedOffset': pad,
            'stride': 5,
            'strided': np.round(y[:, ::5, ::5].numpy().astype(np.float64), 6).flatten().tolist(),
            'means': y.double().mean(dim=(1, 2)).tolist(),
        }
    return out


if __name__ == '__main__':
    goldens = {'decoder': ('decoder-torch.json', decoder_golden), 'mc': ('mc-skimage.json', mc_golden),
               'prepare': ('prepare-torch.json', prepare_golden)}
    chosen = sys.argv[1:] or list(goldens)
    os.makedirs(OUT, exist_ok=True)
    for key in chosen:
        filename, make = goldens[key]
        with open(os.path.join(OUT, filename), 'w') as f:
            json.dump(make(), f)
        print('wrote', os.path.join(OUT, filename))
