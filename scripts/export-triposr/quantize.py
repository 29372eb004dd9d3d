"""Weight-only block quantisation (com.microsoft MatMulNBits), fp16 storage, and the same arithmetic in torch.

MatMulNBits (contrib op): Y = A · dequant(B)ᵀ with B uint8 [N, ⌈K/block⌉, block·bits/8] from the
[out=N, in=K] weight, codes packed low nibble first; scales [N·⌈K/block⌉] of A's type; zero points
omitted, which means 2^(bits−1) (8 for int4, 128 for int8): symmetric quantisation
    scale = max|w| / (2^(bits−1) − 1),  code = clamp(round(w / scale), −2^(bits−1), 2^(bits−1) − 1) + 2^(bits−1)
    w' = (code − 2^(bits−1)) · scale.
The op takes no bias here: the Add that follows each traced MatMul stays.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from model import TripoSR

MS_DOMAIN = "com.microsoft"
# Float initializers at least this large are stored as fp16 by `store_rest_fp16` (and rounded the same
# way by `simulate`); smaller ones (norm weights, most biases) stay fp32.
FP16_REST_MIN_ELEMENTS = 4096


def quantize_weight(w: np.ndarray, bits: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """[N, K] float32 → (B uint8 [N, ⌈K/block⌉, block·bits/8], scales float32 [N·⌈K/block⌉])."""
    assert bits in (4, 8) and block >= 16 and block & (block - 1) == 0
    n, k = w.shape
    nb = math.ceil(k / block)
    padded = np.zeros((n, nb * block), dtype=np.float32)
    padded[:, :k] = w
    blocks = padded.reshape(n, nb, block)
    qmax = 2 ** (bits - 1) - 1
    scales = (np.abs(blocks).max(axis=-1) / np.float32(qmax)).astype(np.float32)
    scales[scales == 0] = np.float32(1.0)
    codes = np.clip(np.round(blocks / scales[..., None]), -qmax - 1, qmax).astype(np.int32) + 2 ** (bits - 1)
    codes = codes.astype(np.uint8)
    if bits == 4:
        codes = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
    return codes, scales.reshape(-1)


def dequantize_weight(packed: np.ndarray, scales: np.ndarray, bits: int, block: int, k: int) -> np.ndarray:
    """Inverse of `quantize_weight`: what MatMulNBits multiplies by, [N, K] float32."""
    n, nb, _ = packed.shape
    if bits == 4:
        codes = np.empty((n, nb, block), dtype=np.uint8)
        codes[..., 0::2] = packed & 0x0F
        codes[..., 1::2] = packed >> 4
    else:
        codes = packed
    centred = codes.astype(np.float32) - np.float32(2 ** (bits - 1))
    w = centred * scales.reshape(n, nb, 1).astype(np.float32)
    return w.reshape(n, nb * block)[:, :k].astype(np.float32)


def fake_quantize(w: np.ndarray, bits: int, block: int) -> np.ndarray:
    """Round-trip a [N, K] weight through the quantiser (simulated quantisation)."""
    packed, scales = quantize_weight(w, bits, block)
    return dequantize_weight(packed, scales, bits, block, w.shape[1])


def _initializers(model: onnx.ModelProto) -> dict:
    return {t.name: t for t in model.graph.initializer}


def quantize_matmuls(model: onnx.ModelProto, bits: int, block: int, min_elements: int = 0) -> int:
    """Replace every MatMul by a constant 2-D weight with MatMulNBits, in place; returns how many."""
    inits = _initializers(model)
    users: dict = {}
    for node in model.graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1
    new_nodes, replaced, drop = [], 0, set()
    for node in model.graph.node:
        b = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if b is None or len(b.dims) != 2 or b.data_type != TensorProto.FLOAT or b.dims[0] * b.dims[1] < min_elements:
            new_nodes.append(node)
            continue
        weight = numpy_helper.to_array(b).T  # MatMul holds [K, N]; the op wants [N, K]
        n, k = weight.shape
        packed, scales = quantize_weight(np.ascontiguousarray(weight), bits, block)
        base = f"{b.name}_q{bits}"
        model.graph.initializer.extend([numpy_helper.from_array(packed, base), numpy_helper.from_array(scales, f"{base}_scales")])
        new_nodes.append(helper.make_node(
            "MatMulNBits", [node.input[0], base, f"{base}_scales"], list(node.output), name=node.name or base,
            domain=MS_DOMAIN, K=k, N=n, bits=bits, block_size=block))
        replaced += 1
        if users[b.name] == 1:
            drop.add(b.name)
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)
    kept = [t for t in model.graph.initializer if t.name not in drop]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return replaced


def store_rest_fp16(model: onnx.ModelProto, min_elements: int = FP16_REST_MIN_ELEMENTS) -> int:
    """Store large fp32 initializers as fp16 with a Cast back to fp32 at load; the graph computes in fp32."""
    casts, count = [], 0
    for t in model.graph.initializer:
        size = int(np.prod(t.dims)) if len(t.dims) else 1
        if t.data_type != TensorProto.FLOAT or size < min_elements:
            continue
        arr = numpy_helper.to_array(t).astype(np.float16)
        name = t.name
        t.CopyFrom(numpy_helper.from_array(arr, f"{name}_fp16"))
        casts.append(helper.make_node("Cast", [f"{name}_fp16"], [name], name=f"{name}_cast", to=TensorProto.FLOAT))
        count += 1
    nodes = casts + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return count


def _fp16_tensor(t: onnx.TensorProto) -> onnx.TensorProto:
    return numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)


def convert_fp16(model: onnx.ModelProto, input_name: str, output_name: str) -> dict:
    """Whole graph in fp16 with fp32 input and output (a Cast at each end), in place.

    Converts float initializers, float Constant / ConstantOfShape values and every Cast to float,
    which is the one that breaks other exporters' fp16 graphs: attention's `.to(float32)` becomes
    a Cast to float32 whose output then meets fp16 tensors, and the graph no longer type-checks.
    """
    g = model.graph
    stats = {"initializers": 0, "constants": 0, "casts": 0}
    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(_fp16_tensor(t))
            stats["initializers"] += 1
    for node in g.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == TensorProto.FLOAT and node.op_type in ("Constant", "ConstantOfShape"):
                attr.t.CopyFrom(_fp16_tensor(attr.t))
                stats["constants"] += 1
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT:
                attr.i = TensorProto.FLOAT16
                stats["casts"] += 1
    internal_in, internal_out = f"{input_name}_fp16", f"{output_name}_fp16"
    for node in g.node:
        for j, name in enumerate(node.input):
            if name == input_name:
                node.input[j] = internal_in
        for j, name in enumerate(node.output):
            if name == output_name:
                node.output[j] = internal_out
    nodes = [helper.make_node("Cast", [input_name], [internal_in], name="input_to_fp16", to=TensorProto.FLOAT16)]
    nodes += list(g.node)
    nodes.append(helper.make_node("Cast", [internal_out], [output_name], name="output_to_fp32", to=TensorProto.FLOAT))
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    return stats


# ---------------------------------------------------------------- the same arithmetic in torch


def simulate(model: TripoSR, bits: int | None, block: int, fp16_rest: bool = False, fp16_all: bool = False) -> None:
    """Turn the torch model's weights into what the quantised graph multiplies by, in place.

    bits: 4 or 8 fake-quantises every encoder Linear weight exactly as `quantize_matmuls` stores it;
    fp16_rest rounds the other large tensors (as `store_rest_fp16`); fp16_all rounds every weight
    (activations stay fp32: a weight-only estimate of the fp16 graph).
    """
    linear_weights = set()
    with torch.no_grad():
        for name, lin in model.encoder_linears():
            linear_weights.add(f"{name}.weight")
            if bits:
                w = fake_quantize(lin.weight.detach().numpy().astype(np.float32), bits, block)
                lin.weight.copy_(torch.from_numpy(w))
        tensors = [(n, p) for n, p in model.named_parameters() if not n.startswith(("decoder", "image_tokenizer.model.pooler"))]
        if fp16_all:
            tensors += list(model.named_buffers())
        emb = model.image_tokenizer.model.embeddings
        if emb.baked is not None:
            tensors.append(("baked_positions", emb.baked))
        for name, t in tensors:
            quantised = bits and name in linear_weights
            if fp16_all or (fp16_rest and not quantised and t.numel() >= FP16_REST_MIN_ELEMENTS):
                t.copy_(t.half().float())
