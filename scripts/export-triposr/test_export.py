"""Self-tests of the exporter's pieces (run: /usr/bin/python3 -m unittest discover scripts/export-triposr)."""

import os
import sys
import unittest

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from graphs import decoder_graph, export_encoder, largest_tensors  # noqa: E402
from model import CONFIGS, TripoSR, chunked_attention, fixed_image, seeded_model  # noqa: E402
from quantize import convert_fp16, dequantize_weight, fake_quantize, quantize_matmuls, quantize_weight  # noqa: E402


class QuantiserTest(unittest.TestCase):
    def test_int4_layout_low_nibble_first(self):
        # One row, one block of 32: codes are round(w / scale) + 8 with scale = max|w| / 7.
        w = np.linspace(-7, 7, 32, dtype=np.float32).reshape(1, 32)
        packed, scales = quantize_weight(w, 4, 32)
        self.assertEqual(packed.shape, (1, 1, 16))
        self.assertEqual(scales.shape, (1,))
        self.assertAlmostEqual(float(scales[0]), 1.0, places=6)
        codes = np.round(w[0]).astype(int) + 8
        self.assertEqual(int(packed[0, 0, 0]), codes[0] | (codes[1] << 4))
        self.assertEqual(int(packed[0, 0, 15]), codes[30] | (codes[31] << 4))

    def test_int8_zero_point_128(self):
        w = np.array([[-127, 0, 1, 127] + [0] * 28], dtype=np.float32)
        packed, scales = quantize_weight(w, 8, 32)
        self.assertEqual(packed.shape, (1, 1, 32))
        self.assertEqual(list(packed[0, 0, :4]), [1, 128, 129, 255])

    def test_round_trip_error_bounded_by_half_a_step(self):
        rng = np.random.default_rng(0)
        w = rng.standard_normal((48, 100)).astype(np.float32)  # K not a multiple of the block: padded
        for bits, block in ((4, 32), (4, 64), (8, 32), (4, 128)):
            packed, scales = quantize_weight(w, bits, block)
            nb = -(-100 // block)
            self.assertEqual(packed.shape, (48, nb, block * bits // 8))
            self.assertEqual(scales.shape, (48 * nb,))
            back = dequantize_weight(packed, scales, bits, block, 100)
            step = np.repeat(scales.reshape(48, nb), block, axis=1)[:, :100]
            self.assertTrue(np.all(np.abs(back - w) <= step / 2 + 1e-6))
            self.assertFalse(np.allclose(back, w))


class GraphTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_grad_enabled(False)
        cls.model = seeded_model("tiny", 0)
        cls.graph = export_encoder(cls.model)

    def test_state_dict_names_are_the_official_ones(self):
        keys = set(TripoSR(CONFIGS["tiny"]).state_dict())
        for k in ("image_tokenizer.model.embeddings.position_embeddings",
                  "image_tokenizer.model.encoder.layer.0.attention.attention.query.weight",
                  "image_tokenizer.model.pooler.dense.weight",
                  "tokenizer.embeddings", "backbone.norm.weight",
                  "backbone.transformer_blocks.0.attn2.to_k.weight", "backbone.transformer_blocks.0.attn1.to_out.0.bias",
                  "backbone.transformer_blocks.0.ff.net.0.proj.weight", "backbone.transformer_blocks.0.ff.net.2.weight",
                  "post_processor.upsample.weight", "decoder.layers.18.bias"):
            self.assertIn(k, keys)
        self.assertNotIn("backbone.transformer_blocks.0.attn1.to_q.bias", keys)

    def test_chunked_attention_equals_plain(self):
        g = torch.Generator().manual_seed(1)
        q, k, v = (torch.randn(1, 2, 50, 8, generator=g) for _ in range(3))
        plain = torch.softmax(q @ k.transpose(-1, -2) * 0.3, dim=-1) @ v
        chunked = chunked_attention(q, k, v, 0.3, budget=2 * 7 * 50 * 4)  # 7 queries per chunk
        self.assertLess(float((plain - chunked).abs().max()), 1e-6)

    def test_encoder_graph_static_and_within_budget(self):
        sizes = largest_tensors(self.graph)
        self.assertEqual(sizes["unknownShapes"], 0)
        self.assertLessEqual(sizes["tensorBytes"], CONFIGS["tiny"].attention_chunk_bytes)
        ops = {n.op_type for n in self.graph.graph.node}
        self.assertTrue({"LayerNormalization", "InstanceNormalization", "ConvTranspose", "Erf", "Softmax"} <= ops)
        self.assertFalse(ops & {"Shape", "Resize", "GroupNormalization"})

    def test_quantise_replaces_every_linear(self):
        g = onnx.ModelProto()
        g.CopyFrom(self.graph)
        n = quantize_matmuls(g, 4, 32)
        self.assertEqual(n, len(self.model.encoder_linears()))
        self.assertFalse(any(node.op_type == "MatMul" and node.input[1] in {t.name for t in g.graph.initializer}
                             for node in g.graph.node))

    def test_fp16_graph_type_checks(self):
        g = onnx.ModelProto()
        g.CopyFrom(self.graph)
        convert_fp16(g, "image", "triplane")
        inferred = onnx.shape_inference.infer_shapes(g, strict_mode=True)
        self.assertEqual(inferred.graph.output[0].type.tensor_type.elem_type, onnx.TensorProto.FLOAT)
        self.assertFalse(any(t.data_type == onnx.TensorProto.FLOAT for t in g.graph.initializer))

    def test_decoder_graph(self):
        d = decoder_graph(self.model)
        self.assertEqual([o.name for o in d.graph.output], ["density", "colour"])
        self.assertEqual(sum(n.op_type == "Gemm" for n in d.graph.node), 10)

    def test_fixed_image_formula(self):
        img = fixed_image()
        self.assertEqual(tuple(img.shape), (1, 3, 512, 512))
        x, y, c = 300, 200, 2
        self.assertAlmostEqual(float(img[0, c, y, x]), ((x * 7 + y * 13 + c * 101 + ((x * y) >> 6)) % 256) / 255, places=6)

    def test_simulated_weights_are_the_graph_weights(self):
        # simulate() must hand torch exactly what each MatMulNBits multiplies by, or the goldens drift.
        g = onnx.ModelProto()
        g.CopyFrom(self.graph)
        quantize_matmuls(g, 4, 32)
        inits = {t.name: numpy_helper.to_array(t) for t in g.graph.initializer}
        in_graph = []
        for node in g.graph.node:
            if node.op_type == "MatMulNBits":
                k = next(a.i for a in node.attribute if a.name == "K")
                in_graph.append(dequantize_weight(inits[node.input[1]], inits[node.input[2]], 4, 32, k))
        for name, lin in self.model.encoder_linears():
            w = fake_quantize(lin.weight.numpy(), 4, 32)
            self.assertTrue(any(x.shape == w.shape and np.array_equal(x, w) for x in in_graph), name)


if __name__ == "__main__":
    unittest.main()
