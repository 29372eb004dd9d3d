"""TripoSR rebuilt in plain torch 1.13, with the official state-dict names.

Module and parameter names follow the published checkpoint (VAST-AI-Research/TripoSR: TSR with
`image_tokenizer` = HF ViTModel "facebook/dino-vitb16", `tokenizer`, `backbone`, `post_processor`,
`decoder`), so `load_state_dict(torch.load('model.ckpt'), strict=True)` fits the official weights.
Two configurations: `full` (the published config.yaml) and `tiny` (every kind of layer, few and narrow).

Differences from the reference that do not change the maths:
- attention runs in query chunks, so no tensor of the exported graph exceeds a byte budget
  (torch 1.13 has no fused attention; TripoSR's baddbmm + softmax would hold [16, 3072, 3072]);
- the position table resized for 512² input is computed once, by the reference's own formula, and
  kept as a constant (`TripoSR.bake_position_table`), so the exported graph carries no Resize.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_SIZE = 512
# Threshold on density (exp(o - 1)) that the reference marches at.
DENSITY_THRESHOLD = 25.0
RADIUS = 0.87


@dataclass(frozen=True)
class ViTConfig:
    """HF ViTConfig fields TripoSR's DINO tokenizer uses (facebook/dino-vitb16)."""

    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    patch_size: int = 16
    image_size: int = 224
    # HF ViTConfig default, kept by the dino-vitb16 config.json.
    layer_norm_eps: float = 1e-12


@dataclass(frozen=True)
class TripoSRConfig:
    """The numbers of TripoSR's config.yaml, plus the export's attention budget."""

    vit: ViTConfig = ViTConfig()
    plane_size: int = 32
    num_channels: int = 1024
    num_layers: int = 16
    num_attention_heads: int = 16
    attention_head_dim: int = 64
    norm_num_groups: int = 32
    triplane_channels: int = 40
    decoder_neurons: int = 64
    decoder_hidden_layers: int = 9
    # Largest attention-score tensor the graph may hold (bytes, fp32): below WebGPU's default
    # 128 MiB storage binding with room to spare.
    attention_chunk_bytes: int = 100 * 1024 * 1024

    @property
    def cross_attention_dim(self) -> int:
        return self.vit.hidden_size


CONFIGS = {
    "full": TripoSRConfig(),
    # Every kind of layer, narrow: 2 ViT layers of width 64, 2 backbone blocks of width 64. The
    # decoder keeps its real size (41 k parameters) since the app reads it layer by layer. The small
    # attention budget makes even the tiny graph chunk its queries, as the full one must.
    "tiny": TripoSRConfig(
        vit=ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256),
        num_channels=64,
        num_layers=2,
        num_attention_heads=2,
        attention_head_dim=32,
        attention_chunk_bytes=16 * 1024 * 1024,
    ),
}


def chunked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, budget: int) -> torch.Tensor:
    """softmax(q kᵀ · scale) v over [B, H, N, d] tensors, in query chunks whose scores fit `budget` bytes."""
    b, h, nq, _ = q.shape
    nk = k.shape[2]
    per_query = b * h * nk * 4
    chunk = max(1, min(nq, budget // per_query))
    kt = k.transpose(-1, -2)
    outs = []
    for start in range(0, nq, chunk):
        scores = torch.matmul(q[:, :, start : start + chunk], kt) * scale
        outs.append(torch.matmul(scores.softmax(dim=-1), v))
    return outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """[B, N, H·d] → [B, H, N, d]."""
    b, n, c = x.shape
    return x.reshape(b, n, heads, c // heads).permute(0, 2, 1, 3)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """[B, H, N, d] → [B, N, H·d]."""
    b, h, n, d = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, n, h * d)


# ---------------------------------------------------------------- DINO ViT (HF ViTModel names)


class ViTPatchEmbeddings(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.projection = nn.Conv2d(3, cfg.hidden_size, kernel_size=cfg.patch_size, stride=cfg.patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.projection(x)
        # Static sizes (the contract is fixed): flatten() would add a Shape subgraph to the graph.
        b, c, h, w = (int(d) for d in y.shape)
        return y.reshape(b, c, h * w).transpose(1, 2)


class ViTEmbeddings(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.cfg = cfg
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.hidden_size))
        self.patch_embeddings = ViTPatchEmbeddings(cfg)
        num_patches = (cfg.image_size // cfg.patch_size) ** 2
        self.position_embeddings = nn.Parameter(torch.zeros(1, num_patches + 1, cfg.hidden_size))
        self.baked: Optional[torch.Tensor] = None

    def interpolated_positions(self, height: int, width: int) -> torch.Tensor:
        """transformers 4.35 ViTEmbeddings.interpolate_pos_encoding (TripoSR's pinned version), verbatim maths."""
        pos = self.position_embeddings
        n = pos.shape[1] - 1
        dim = pos.shape[-1]
        h0 = height // self.cfg.patch_size + 0.1
        w0 = width // self.cfg.patch_size + 0.1
        side = int(math.sqrt(n))
        grid = pos[:, 1:].reshape(1, side, side, dim).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, scale_factor=(h0 / math.sqrt(n), w0 / math.sqrt(n)), mode="bicubic", align_corners=False)
        assert int(h0) == grid.shape[-2] and int(w0) == grid.shape[-1]
        grid = grid.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return torch.cat((pos[:, 0].unsqueeze(0), grid), dim=1)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        b, _, h, w = pixels.shape
        x = self.patch_embeddings(pixels)
        # Batch 1 (the app's contract) skips the Expand, whose traced shape onnx cannot infer.
        cls = self.cls_token if b == 1 else self.cls_token.expand(b, -1, -1)
        x = torch.cat((cls, x), dim=1)
        positions = self.baked if self.baked is not None else self.interpolated_positions(h, w)
        return x + positions


class ViTSelfAttention(nn.Module):
    def __init__(self, cfg: ViTConfig, budget: int):
        super().__init__()
        self.heads = cfg.num_attention_heads
        self.scale = (cfg.hidden_size // cfg.num_attention_heads) ** -0.5
        self.budget = budget
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = (split_heads(f(x), self.heads) for f in (self.query, self.key, self.value))
        return merge_heads(chunked_attention(q, k, v, self.scale, self.budget))


class ViTSelfOutput(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)


class ViTAttention(nn.Module):
    def __init__(self, cfg: ViTConfig, budget: int):
        super().__init__()
        self.attention = ViTSelfAttention(cfg, budget)
        self.output = ViTSelfOutput(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output.dense(self.attention(x))


class ViTIntermediate(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)


class ViTOutput(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.intermediate_size, cfg.hidden_size)


class ViTLayer(nn.Module):
    """Pre-norm ViT layer: x + attn(LN(x)), then x + mlp(LN(x)) with exact (erf) GELU."""

    def __init__(self, cfg: ViTConfig, budget: int):
        super().__init__()
        self.attention = ViTAttention(cfg, budget)
        self.intermediate = ViTIntermediate(cfg)
        self.output = ViTOutput(cfg)
        self.layernorm_before = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.layernorm_before(x))
        return x + self.output.dense(F.gelu(self.intermediate.dense(self.layernorm_after(x))))


class ViTEncoder(nn.Module):
    def __init__(self, cfg: ViTConfig, budget: int):
        super().__init__()
        self.layer = nn.ModuleList([ViTLayer(cfg, budget) for _ in range(cfg.num_hidden_layers)])


class ViTPooler(nn.Module):
    """Present in the checkpoint (ViTModel's default pooling layer); TripoSR never uses its output."""

    def __init__(self, cfg: ViTConfig):
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)


class ViTModel(nn.Module):
    def __init__(self, cfg: ViTConfig, budget: int):
        super().__init__()
        self.embeddings = ViTEmbeddings(cfg)
        self.encoder = ViTEncoder(cfg, budget)
        self.layernorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.pooler = ViTPooler(cfg)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.embeddings(pixels)
        for layer in self.encoder.layer:
            x = layer(x)
        return self.layernorm(x)


class DINOSingleImageTokenizer(nn.Module):
    """ImageNet normalisation, then the ViT; returns the last hidden state [B, N_img, C_img]."""

    def __init__(self, cfg: TripoSRConfig):
        super().__init__()
        self.model = ViTModel(cfg.vit, cfg.attention_chunk_bytes)
        self.register_buffer("image_mean", torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1), persistent=False)
        self.register_buffer("image_std", torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1), persistent=False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model((image - self.image_mean) / self.image_std)


# ---------------------------------------------------------------- triplane tokens and backbone


class Triplane1DTokenizer(nn.Module):
    def __init__(self, cfg: TripoSRConfig):
        super().__init__()
        self.cfg = cfg
        self.embeddings = nn.Parameter(torch.zeros(3, cfg.num_channels, cfg.plane_size, cfg.plane_size))

    def forward(self, batch: int) -> torch.Tensor:
        """[B, C, 3·P·P] in plane, row, column order."""
        e = self.embeddings.permute(1, 0, 2, 3).reshape(1, self.cfg.num_channels, -1)
        return e if batch == 1 else e.expand(batch, -1, -1)

    def detokenize(self, tokens: torch.Tensor) -> torch.Tensor:
        b, c, _ = tokens.shape
        p = self.cfg.plane_size
        return tokens.reshape(b, c, 3, p, p).permute(0, 2, 1, 3, 4)


class Attention(nn.Module):
    """diffusers-style Attention as TripoSR vendors it: bias-free q/k/v, to_out = [Linear, Dropout]."""

    def __init__(self, query_dim: int, heads: int, dim_head: int, budget: int, cross_attention_dim: Optional[int] = None):
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.scale = dim_head**-0.5
        self.budget = budget
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(cross_attention_dim or query_dim, inner, bias=False)
        self.to_v = nn.Linear(cross_attention_dim or query_dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim), nn.Dropout(0.0)])

    def forward(self, x: torch.Tensor, context: Optional[torch.Tensor] = None) -> torch.Tensor:
        context = x if context is None else context
        q = split_heads(self.to_q(x), self.heads)
        k = split_heads(self.to_k(context), self.heads)
        v = split_heads(self.to_v(context), self.heads)
        return self.to_out[0](merge_heads(chunked_attention(q, k, v, self.scale, self.budget)))


class GEGLU(nn.Module):
    def __init__(self, dim_in: int, dim_out: int):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)
        self.dim_out = dim_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Static slices, not chunk(): chunk traces to a Slice whose bounds onnx cannot infer.
        y = self.proj(x)
        return y[..., : self.dim_out] * F.gelu(y[..., self.dim_out :])


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[2](self.net[0](x))


class BasicTransformerBlock(nn.Module):
    """Pre-norm: self-attention, cross-attention to the image tokens, GEGLU feed-forward."""

    def __init__(self, cfg: TripoSRConfig):
        super().__init__()
        dim = cfg.num_attention_heads * cfg.attention_head_dim
        args = (dim, cfg.num_attention_heads, cfg.attention_head_dim, cfg.attention_chunk_bytes)
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(*args)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(*args, cross_attention_dim=cfg.cross_attention_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class Transformer1D(nn.Module):
    """GroupNorm + Linear in, the blocks, Linear out, plus the input as residual; tokens are [B, C, N]."""

    def __init__(self, cfg: TripoSRConfig):
        super().__init__()
        inner = cfg.num_attention_heads * cfg.attention_head_dim
        self.norm = nn.GroupNorm(cfg.norm_num_groups, cfg.num_channels, eps=1e-6, affine=True)
        self.proj_in = nn.Linear(cfg.num_channels, inner)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(cfg) for _ in range(cfg.num_layers)])
        self.proj_out = nn.Linear(inner, cfg.num_channels)

    def forward(self, tokens: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, c, n = tokens.shape
        x = self.proj_in(self.norm(tokens).permute(0, 2, 1))
        for block in self.transformer_blocks:
            x = block(x, context)
        return self.proj_out(x).permute(0, 2, 1) + tokens


class TriplaneUpsampleNetwork(nn.Module):
    def __init__(self, cfg: TripoSRConfig):
        super().__init__()
        self.upsample = nn.ConvTranspose2d(cfg.num_channels, cfg.triplane_channels, kernel_size=2, stride=2)

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        b, n, c, h, w = planes.shape
        up = self.upsample(planes.reshape(b * n, c, h, w))
        return up.reshape(b, n, *up.shape[1:])


class NeRFMLP(nn.Module):
    """Linear(120→64), SiLU, (hidden−1) × [Linear(64→64), SiLU], Linear(64→4); raw outputs."""

    def __init__(self, cfg: TripoSRConfig):
        super().__init__()
        width = cfg.decoder_neurons
        layers: list = [nn.Linear(3 * cfg.triplane_channels, width), nn.SiLU()]
        for _ in range(cfg.decoder_hidden_layers - 1):
            layers += [nn.Linear(width, width), nn.SiLU()]
        layers.append(nn.Linear(width, 4))
        self.layers = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)

    def linears(self) -> list:
        return [m for m in self.layers if isinstance(m, nn.Linear)]


# ---------------------------------------------------------------- the whole model


class TripoSR(nn.Module):
    """image [B,3,512,512] RGB in 0..1 → triplane [B,3,40,64,64]; `decoder` maps 120 features to 4 raw outputs."""

    def __init__(self, cfg: TripoSRConfig):
        super().__init__()
        self.cfg = cfg
        self.image_tokenizer = DINOSingleImageTokenizer(cfg)
        self.tokenizer = Triplane1DTokenizer(cfg)
        self.backbone = Transformer1D(cfg)
        self.post_processor = TriplaneUpsampleNetwork(cfg)
        self.decoder = NeRFMLP(cfg)

    def bake_position_table(self, size: int = IMAGE_SIZE) -> None:
        """Resize the ViT position table for `size`² input once; forward then adds it as a constant."""
        emb = self.image_tokenizer.model.embeddings
        with torch.no_grad():
            emb.baked = emb.interpolated_positions(size, size).detach().clone()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        context = self.image_tokenizer(image)
        tokens = self.backbone(self.tokenizer(image.shape[0]), context)
        return self.post_processor(self.tokenizer.detokenize(tokens))

    def encoder_linears(self) -> list:
        """(name, Linear) of every Linear the exported encoder graph multiplies by (not the unused pooler)."""
        out = []
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear) and not name.startswith(("decoder", "image_tokenizer.model.pooler")):
                out.append((name, m))
        return out


def seeded_model(config: str, seed: int) -> TripoSR:
    """A model with seeded weights scaled so activations stay O(1) through every layer."""
    cfg = CONFIGS[config]
    model = TripoSR(cfg).eval()
    gen = torch.Generator().manual_seed(seed)

    def normal(t: torch.Tensor, std: float, mean: float = 0.0) -> None:
        t.copy_(torch.randn(t.shape, generator=gen) * std + mean)

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("decoder"):
                continue
            if p.ndim == 1 and (".norm" in name or "layernorm" in name):
                normal(p, 0.1, 1.0 if name.endswith("weight") else 0.0)
            elif p.ndim == 1:
                normal(p, 0.02)
            elif name.endswith("cls_token") or name.endswith("position_embeddings"):
                normal(p, 0.2)
            elif name == "tokenizer.embeddings":
                normal(p, 1.0 / math.sqrt(cfg.num_channels))
            elif name == "post_processor.upsample.weight":
                normal(p, 1.0 / math.sqrt(p.shape[0]))
            else:
                # [out, in, ...] Linear / Conv weights: unit gain on a unit-variance input.
                normal(p, 1.0 / math.sqrt(p[0].numel()))
        for lin in model.decoder.linears():
            bound = math.sqrt(6.0 / lin.in_features)  # kaiming_uniform (relu gain), as NeRFMLP inits
            lin.weight.copy_((torch.rand(lin.weight.shape, generator=gen) * 2 - 1) * bound)
            lin.bias.copy_((torch.rand(lin.bias.shape, generator=gen) * 2 - 1) / math.sqrt(lin.in_features))
    return model


def load_checkpoint(model: TripoSR, path: str) -> None:
    """Load the official model.ckpt (strict: every key must match)."""
    state = torch.load(path, map_location="cpu")
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    model.load_state_dict(state, strict=True)


# ---------------------------------------------------------------- decoding (reference query_triplane)


def sample_features(triplane: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """triplane [3,40,64,64], world points [N,3] in (−0.87, 0.87) → features [N,120] (xy, xz, yz planes)."""
    q = points / RADIUS
    idx = torch.stack((q[:, [0, 1]], q[:, [0, 2]], q[:, [1, 2]]), dim=0).unsqueeze(1)  # [3,1,N,2]
    out = F.grid_sample(triplane, idx, align_corners=False, mode="bilinear")  # [3,C,1,N]
    return out[:, :, 0].permute(2, 0, 1).reshape(points.shape[0], -1)


def grid_points(resolution: int) -> torch.Tensor:
    """The reference's marching grid: linspace(0,1,R)³ scaled to ±0.87, [ix, iy, iz] with z fastest."""
    axis = torch.linspace(-RADIUS, RADIUS, resolution)
    x, y, z = torch.meshgrid(axis, axis, axis, indexing="ij")
    return torch.stack((x, y, z), dim=-1).reshape(-1, 3)


def density_grid(model: TripoSR, triplane: torch.Tensor, resolution: int, chunk: int = 262144) -> torch.Tensor:
    """Density exp(o0 − 1) on the reference grid, flattened [R³]."""
    points = grid_points(resolution)
    out = []
    with torch.no_grad():
        for s in range(0, points.shape[0], chunk):
            raw = model.decoder(sample_features(triplane, points[s : s + chunk]))
            out.append(torch.exp(raw[:, 0] - 1.0))
    return torch.cat(out)


def calibrate_density(model: TripoSR, triplane: torch.Tensor, occupied: float = 0.3, resolution: int = 48) -> None:
    """Shift the seeded decoder's density bias so `occupied` of the grid is above the threshold."""
    points = grid_points(resolution)
    with torch.no_grad():
        raw = model.decoder(sample_features(triplane, points))[:, 0]
        target = 1.0 + math.log(DENSITY_THRESHOLD)
        model.decoder.linears()[-1].bias[0] += target - torch.quantile(raw, 1.0 - occupied)


# ---------------------------------------------------------------- the fixed test image

FORMULAS = {
    "hash": "v = ((x*7 + y*13 + c*101 + ((x*y) >> 6)) % 256) / 255, integer arithmetic, then float32",
    "waves": "v = (128 + round(100*sin(x/37 + 2c) * cos(y/53 - c))) / 255, float64 then float32",
}


def fixed_image(formula: str = "hash") -> torch.Tensor:
    """The golden's input image [1,3,512,512] from a formula both sides implement (no image file)."""
    c = torch.arange(3, dtype=torch.int64).reshape(3, 1, 1)
    y = torch.arange(IMAGE_SIZE, dtype=torch.int64).reshape(1, -1, 1)
    x = torch.arange(IMAGE_SIZE, dtype=torch.int64).reshape(1, 1, -1)
    if formula == "hash":
        v = ((x * 7 + y * 13 + c * 101 + ((x * y) >> 6)) % 256).to(torch.float32) / 255.0
    else:
        s = torch.sin(x.double() / 37 + 2 * c.double()) * torch.cos(y.double() / 53 - c.double())
        v = ((128 + torch.round(100 * s)) / 255.0).to(torch.float32)
    return v.unsqueeze(0).contiguous()

