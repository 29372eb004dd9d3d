import * as ort from 'onnxruntime-web/webgpu';
import { meshTriplaneCpuAsync } from '../src/cpu/async-mesher';
import { OrtDecoder as MlpDecoder } from '../src/cpu/ort-decoder';
import { cpuResolution } from '../src/cpu/resolution-cap';
import { meshTriplaneOrtCpu } from '../src/gpu/ort-decoder';
import type { TriplaneMesh } from '../src/gpu/reference/triplane-mesher-cpu';
import type { BackendJob, PipelineBackend } from './backend';

/**
 * The CPU path: ORT's WASM EP for the encoder, the MLP through ORT WASM for the walk, and marching
 * cubes in TypeScript. Everything awaits between batches, so Cancel stops it without killing the
 * worker (and the loaded model stays). It imports nothing that needs WebGPU.
 */
export function createCpuBackend(): PipelineBackend {
  return {
    kind: 'wasm',
    open: async () => null,
    sessionDevice: async () => undefined,
    healthy: () => true,
    census: () => null,
    async texelColourer(triplane, weights) {
      const { cpuTexelColourer } = await import('../src/cpu/bake');
      const decoder = await MlpDecoder.create(ort, triplane, weights);
      return { colourer: cpuTexelColourer(decoder), release: () => decoder.release() };
    },
    async run(job: BackendJob): Promise<TriplaneMesh> {
      const { request, loaded, emit, signal, stats } = job;
      emit({ type: 'stage', stage: 'encoder', state: 'start' });
      const t = performance.now();
      const tensor = await loaded.encoder.run(request.image, loaded.manifest.contract, signal);
      const triplane = (tensor.data as Float32Array).slice();
      tensor.dispose();
      // Read only from here on, so the result can take it along once the mesh is done.
      job.triplane = triplane;
      stats.ms.encoder = performance.now() - t;
      emit({ type: 'stage', stage: 'encoder', state: 'done', ms: stats.ms.encoder });
      emit({ type: 'stage', stage: 'decode', state: 'start' });
      const { resolution, notice } = cpuResolution(request.resolution);
      if (notice) emit({ type: 'notice', code: 'cpu-resolution-capped', message: notice, resolution });
      stats.resolution = resolution;
      stats.triplaneSource = 'cpu';
      const options = { resolution, threshold: request.threshold, signal };
      if (loaded.ortDecoder) return meshTriplaneOrtCpu(triplane, loaded.ortDecoder, options);
      const weights = loaded.weights!;
      const decoder = await MlpDecoder.create(ort, triplane, weights);
      try {
        return await meshTriplaneCpuAsync(triplane, weights, {
          ...options,
          mode: request.meshing,
          decoder,
          onProgress: (fraction) => emit({ type: 'progress', stage: 'decode', fraction }),
        });
      } finally {
        await decoder.release();
      }
    },
  };
}
