// The writer lives with the test-model generator; tests keep importing it from here.
export {
  writeDecoderOnnx,
  type DecoderLayout,
  type DecoderOnnxOptions,
} from '../../scripts/lib/onnx-writer';
