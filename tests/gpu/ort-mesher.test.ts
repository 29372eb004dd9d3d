import * as ort from 'onnxruntime-web/webgpu';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecoderGraphError, readDecoderOnnx } from '../../src/gpu/decoder-weights';
import { createOrtDecoder } from '../../src/gpu/ort-decoder';
import { meshTriplaneOrt } from '../../src/gpu/ort-mesher';
import { meshTriplane } from '../../src/gpu/triplane-mesher';
import { maxVertexSetDistance } from '../helpers/mesh-metrics';
import { writeDecoderVariant } from '../helpers/onnx-writer';
import { blobDecoder, smoothTriplane } from '../helpers/synthetic-decoder';
import { trackedDevice, withTimeout, type TrackedDevice } from './gpu-harness';

describe('a decoder graph the reader refuses, run by onnxruntime on the same WebGPU device', () => {
  let t: TrackedDevice;
  beforeAll(async () => {
    ort.env.wasm.wasmPaths = { wasm: ortWasmUrl, mjs: ortMjsUrl };
    ort.env.wasm.numThreads = 1;
    t = await trackedDevice();
  });
  afterAll(() => t.device.destroy());

  it('meshes like the WGSL decoder on the equivalent accepted graph (32³)', async () => {
    const triplane = smoothTriplane(11);
    const weights = blobDecoder(12, triplane);
    const refused = writeDecoderVariant(weights, { hidden: 'silu-div' }).model;
    expect(() => readDecoderOnnx(refused)).toThrow(DecoderGraphError);
    const options = { resolution: 32, threshold: 25 };
    const decoder = await createOrtDecoder(ort, refused, { executionProviders: [{ name: 'webgpu', device: t.device } as never], preferredOutputLocation: 'gpu-buffer' }, { batch: 8192 });
    t.device.pushErrorScope('validation');
    let ortMesh;
    try {
      ortMesh = await withTimeout(meshTriplaneOrt(t.device, triplane, decoder, options), 200_000, 'ORT mesh');
    } finally {
      const error = await t.device.popErrorScope();
      expect(error?.message).toBeUndefined();
    }
    await decoder.session.release();
    const wgsl = await meshTriplane(t.device, triplane, readDecoderOnnx(writeDecoderVariant(weights).model), { ...options, mode: 'dense' });
    expect(ortMesh.stats.decoder).toBe('onnxruntime');
    expect(wgsl.positions.length).toBeGreaterThan(300);
    expect(Math.abs(ortMesh.positions.length - wgsl.positions.length)).toBeLessThanOrEqual(wgsl.positions.length * 0.01);
    expect(maxVertexSetDistance(ortMesh.positions, wgsl.positions)).toBeLessThan(1.74 / 31);
    // Same lattice, same marching cubes: with equal counts the vertices come in the same order.
    expect(ortMesh.colours.length).toBe(ortMesh.positions.length);
    if (ortMesh.positions.length === wgsl.positions.length) {
      expect(maxVertexSetDistance(ortMesh.positions, wgsl.positions)).toBeLessThan(1e-3);
      ortMesh.colours.forEach((c, i) => expect(Math.abs(c - wgsl.colours[i]!)).toBeLessThan(1e-3));
    }
  });
});
