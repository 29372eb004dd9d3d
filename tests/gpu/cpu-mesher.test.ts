import * as ort from 'onnxruntime-web/webgpu';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { describe, expect, it } from 'vitest';
import { meshTriplaneCpuAsync } from '../../src/cpu/async-mesher';
import { BatchDecoder } from '../../src/cpu/batch-decoder';
import { OrtDecoder } from '../../src/cpu/ort-decoder';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';

// The CPU path's decoder in real Chromium (no GPU used): onnxruntime-web's WASM from this origin, as
// the app serves it (the same build as workers/encoder.ts), single-threaded because the test page is not cross-origin isolated.
ort.env.wasm.wasmPaths = { wasm: ortWasmUrl, mjs: ortMjsUrl };
ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? 2 : 1;

describe('the CPU path decoder in Chromium', () => {
  it('agrees with the batched TypeScript decoder and meshes asynchronously', async () => {
    const triplane = smoothTriplane(3);
    const weights = blobDecoder(4, triplane);
    const points = Float32Array.from({ length: 3 * 2000 }, (_, i) => Math.sin(i * 12.9898) * 0.9);
    const decoder = await OrtDecoder.create(ort, triplane, weights, { batchPoints: 512 });
    try {
      const ours = await decoder.decode(points);
      const ref = new BatchDecoder(triplane, weights).decode(points);
      let density = 0;
      let colour = 0;
      for (let i = 0; i < 2000; i++) {
        density = Math.max(density, Math.abs(ours.density[i]! - ref.density[i]!) / Math.max(ref.density[i]!, 0.1));
        for (let k = 0; k < 3; k++) colour = Math.max(colour, Math.abs(ours.colour[3 * i + k]! - ref.colour[3 * i + k]!));
      }
      expect(density).toBeLessThan(1e-4);
      expect(colour).toBeLessThan(1e-5);
      const progress: number[] = [];
      const mesh = await meshTriplaneCpuAsync(triplane, weights, { resolution: 24, threshold: 25, mode: 'dense', decoder, onProgress: (f) => progress.push(f) });
      expect(mesh.indices.length).toBeGreaterThan(300);
      expect(progress.at(-1)).toBe(1);
    } finally {
      await decoder.release();
    }
  });
});
