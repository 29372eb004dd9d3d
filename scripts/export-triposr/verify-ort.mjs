// Runs an exported encoder with onnxruntime-web's WASM backend in Node on the golden's fixed image and
// compares with the torch golden: an independent check of the graph (onnx has no runtime for Python here).
//   node scripts/export-triposr/verify-ort.mjs DIR/triplane_int4.onnx tests/fixtures/goldens/triposr-tiny/int4.bin
import { readFileSync, existsSync } from 'node:fs';
import { basename } from 'node:path';
import * as ort from 'onnxruntime-web';

/** The golden's input ("hash" formula): NCHW [1,3,512,512], integer arithmetic then float32. */
function fixedImage() {
  const size = 512;
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        out[(c * size + y) * size + x] = ((x * 7 + y * 13 + c * 101 + Math.floor((x * y) / 64)) % 256) / 255;
  return out;
}

const [modelPath, goldenPath] = process.argv.slice(2);
ort.env.wasm.numThreads = 1;
const externalData = existsSync(`${modelPath}.data`)
  ? [{ path: `${basename(modelPath)}.data`, data: readFileSync(`${modelPath}.data`) }]
  : undefined;
const t0 = performance.now();
const session = await ort.InferenceSession.create(readFileSync(modelPath), { executionProviders: ['wasm'], externalData });
const t1 = performance.now();
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', fixedImage(), [1, 3, 512, 512]) };
const result = await session.run(feeds);
const t2 = performance.now();
const out = result[session.outputNames[0]];
const golden = new Float32Array(readFileSync(goldenPath).buffer.slice(0));
let dot = 0, na = 0, nb = 0, maxAbs = 0, maxRef = 0;
for (let i = 0; i < golden.length; i++) {
  const a = out.data[i], b = golden[i];
  dot += a * b; na += a * a; nb += b * b;
  maxAbs = Math.max(maxAbs, Math.abs(a - b));
  maxRef = Math.max(maxRef, Math.abs(b));
}
console.log(JSON.stringify({
  model: basename(modelPath), dims: out.dims, input: session.inputNames[0], output: session.outputNames[0],
  cosine: dot / Math.sqrt(na * nb), maxAbsDiff: maxAbs, maxAbsGolden: maxRef,
  createMs: Math.round(t1 - t0), runMs: Math.round(t2 - t1),
}));
