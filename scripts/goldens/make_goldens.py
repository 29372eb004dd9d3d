"""Goldens from implementations independent of CADLift's code (run by hand, not in CI).

    apt-get install -y python3-torch python3-skimage
    /usr/bin/python3 scripts/goldens/make_goldens.py

decoder-torch.json: TripoSR's triplane query (F.grid_sample, bilinear, align_corners=False, zero
padding) and NeRF MLP on a closed-form triplane and closed-form weights (tests/helpers/golden-inputs.ts
computes the same inputs), at seeded points, texel centres and points next to the box boundary.
mc-skimage.json: skimage.measure.marching_cubes (Lorensen) on a closed-form non-cubic field.
"""
import json
import math
import os

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


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'decoder-torch.json'), 'w') as f:
        json.dump(decoder_golden(), f)
    with open(os.path.join(OUT, 'mc-skimage.json'), 'w') as f:
        json.dump(mc_golden(), f)
    print('wrote', OUT)
