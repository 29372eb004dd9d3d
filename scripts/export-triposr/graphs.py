"""ONNX graphs: the image → triplane encoder (traced from the torch model) and the decoder (built by hand)."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from model import TripoSR, fixed_image

OPSET = 17
ENCODER_INPUT = "image"
ENCODER_OUTPUT = "triplane"
DECODER_INPUT = "features"
# Inline tensors smaller than this; everything larger goes to the external data file.
EXTERNAL_THRESHOLD = 1024

ELEM_BYTES = {
    TensorProto.FLOAT: 4,
    TensorProto.FLOAT16: 2,
    TensorProto.UINT8: 1,
    TensorProto.INT8: 1,
    TensorProto.INT32: 4,
    TensorProto.INT64: 8,
    TensorProto.BOOL: 1,
    TensorProto.DOUBLE: 8,
}


def export_encoder(model: TripoSR) -> onnx.ModelProto:
    """Trace image → triplane at opset 17 (LayerNormalization; GroupNorm becomes InstanceNormalization)."""
    model.bake_position_table()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "encoder.onnx")
        with torch.no_grad():
            torch.onnx.export(
                model,
                fixed_image(),
                path,
                opset_version=OPSET,
                input_names=[ENCODER_INPUT],
                output_names=[ENCODER_OUTPUT],
                do_constant_folding=True,
            )
        model = onnx.load(path)
    dedupe_initializers(model)
    return model


def dedupe_initializers(model: onnx.ModelProto) -> int:
    """Store byte-identical initializers once; a copy with another shape becomes a Reshape of the kept one.

    torch's constant folding reshapes the constant triplane tokens for GroupNorm and keeps both copies
    (12.6 MB twice at full size).
    """
    import hashlib

    g = model.graph
    kept: dict = {}
    drop, nodes = set(), []
    for t in g.initializer:
        if numpy_size(t) < 1024 or not t.raw_data:
            continue
        key = (t.data_type, hashlib.sha256(t.raw_data).hexdigest())
        if key not in kept:
            kept[key] = t
            continue
        first = kept[key]
        drop.add(t.name)
        shape = f"{t.name}_shape"
        nodes.append(helper.make_node("Constant", [], [shape], name=shape,
                                      value=numpy_helper.from_array(np.array(list(t.dims), dtype=np.int64))))
        nodes.append(helper.make_node("Reshape", [first.name, shape], [t.name], name=f"{t.name}_reshape"))
    if not drop:
        return 0
    rest = [t for t in g.initializer if t.name not in drop]
    del g.initializer[:]
    g.initializer.extend(rest)
    all_nodes = nodes + list(g.node)
    del g.node[:]
    g.node.extend(all_nodes)
    return len(drop)


def decoder_graph(model: TripoSR) -> onnx.ModelProto:
    """features [N,120] → density [N,1] = exp(o0 − 1), colour [N,3] = sigmoid(o1..3); Gemm + SiLU as Sigmoid·x.

    The same head as the published default decoder (the activations live in the graph), which the
    app's decoder reader recognises and never applies twice.
    """
    linears = model.decoder.linears()
    nodes, inits = [], []
    current = DECODER_INPUT
    for i, lin in enumerate(linears):
        w, b = f"decoder.layers.{2 * i}.weight", f"decoder.layers.{2 * i}.bias"
        inits += [numpy_helper.from_array(lin.weight.detach().numpy().astype(np.float32), w),
                  numpy_helper.from_array(lin.bias.detach().numpy().astype(np.float32), b)]
        out = f"h{i}"
        nodes.append(helper.make_node("Gemm", [current, w, b], [out], name=out, transB=1))
        if i < len(linears) - 1:
            nodes.append(helper.make_node("Sigmoid", [out], [f"{out}_sig"], name=f"{out}_sig"))
            nodes.append(helper.make_node("Mul", [out, f"{out}_sig"], [f"{out}_act"], name=f"{out}_act"))
            current = f"{out}_act"
        else:
            current = out
    inits += [numpy_helper.from_array(np.array([1, 3], dtype=np.int64), "split_sizes"),
              numpy_helper.from_array(np.array([-1.0], dtype=np.float32), "density_bias")]
    nodes += [
        helper.make_node("Split", [current, "split_sizes"], ["density_raw", "colour_raw"], name="split", axis=1),
        helper.make_node("Add", ["density_raw", "density_bias"], ["density_shifted"], name="density_shift"),
        helper.make_node("Exp", ["density_shifted"], ["density"], name="density_exp"),
        helper.make_node("Sigmoid", ["colour_raw"], ["colour"], name="colour_sigmoid"),
    ]
    graph = helper.make_graph(
        nodes,
        "triposr_decoder",
        [helper.make_tensor_value_info(DECODER_INPUT, TensorProto.FLOAT, ["N", 3 * model.cfg.triplane_channels])],
        [helper.make_tensor_value_info("density", TensorProto.FLOAT, ["N", 1]),
         helper.make_tensor_value_info("colour", TensorProto.FLOAT, ["N", 3])],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="cadlift-export-triposr")
    onnx.checker.check_model(m)
    return m


def tensor_bytes(t: onnx.TypeProto) -> int | None:
    """Bytes of a fully static tensor type, else None."""
    tt = t.tensor_type
    if not tt.HasField("shape") or tt.elem_type not in ELEM_BYTES:
        return None
    n = 1
    for d in tt.shape.dim:
        if not d.HasField("dim_value"):
            return None
        n *= d.dim_value
    return n * ELEM_BYTES[tt.elem_type]


def infer_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """Shape inference on a weight-free copy (large initializers become typed inputs), so 2 GB never binds.

    Value infos already present (MatMulNBits outputs, which onnx cannot infer) are kept.
    """
    g = model.graph
    small, big_inputs = [], []
    for init in g.initializer:
        if numpy_size(init) > 4096:
            big_inputs.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
        else:
            small.append(init)
    light = helper.make_graph(list(g.node), g.name, list(g.input) + big_inputs, list(g.output), small,
                              value_info=list(g.value_info))
    light_model = helper.make_model(light, opset_imports=list(model.opset_import))
    light_model.ir_version = model.ir_version
    return onnx.shape_inference.infer_shapes(light_model, data_prop=True)


def numpy_size(init: onnx.TensorProto) -> int:
    n = 1
    for d in init.dims:
        n *= d
    return n


def largest_tensors(model: onnx.ModelProto) -> dict:
    """Largest intermediate (from shape inference) and largest initializer, in bytes, with their names."""
    inferred = infer_shapes(model)
    best = ("", 0)
    unknown = 0
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        b = tensor_bytes(vi.type)
        if b is None:
            unknown += 1
        elif b > best[1]:
            best = (vi.name, b)
    init = ("", 0)
    for t in model.graph.initializer:
        b = numpy_size(t) * ELEM_BYTES.get(t.data_type, 4)
        if b > init[1]:
            init = (t.name, b)
    return {"tensor": best[0], "tensorBytes": best[1], "initializer": init[0], "initializerBytes": init[1],
            "unknownShapes": unknown, "inferred": inferred}


def save_with_external_data(model: onnx.ModelProto, path: str) -> list:
    """Write `path` and, when any tensor is large, `<name>.onnx.data` beside it; returns the written paths."""
    data_name = os.path.basename(path) + ".data"
    data_path = path + ".data"
    if os.path.exists(data_path):
        os.remove(data_path)
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data_name, size_threshold=EXTERNAL_THRESHOLD)
    return [path] + ([data_path] if os.path.exists(data_path) else [])
