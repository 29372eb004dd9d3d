import { DECODER_FEATURES, DEFAULT_BOUNDS, type Dims } from './constants';
import { colourFromOutput, densityFromOutput } from './decoder-tail';
import { PointSource, pointJobParams } from './field-evaluator';
import { bindGroup, computePipeline, dispatchLinear, GpuScope } from './gpu-kit';
import { marchingCubes } from './marching-cubes';
import { fieldLength, finishNormals } from './mesh';
import { type DecoderBackend, type OrtDecoder } from './ort-decoder';
import pointJobWgsl from './point-job.wgsl?raw';
import type { TriplaneMesh } from './reference/triplane-mesher-cpu';
import featuresWgsl from './triplane-features.wgsl?raw';
import sampleWgsl from './triplane-sample.wgsl?raw';
import { throwIfAborted } from '../lib/errors';

/** Options of meshTriplaneOrt: the lattice, the iso level and cancellation. */
export interface OrtMesherOptions {
  resolution: number;
  threshold: number;
  bounds?: [Dims, Dims];
  signal?: AbortSignal;
}

/**
 * Meshes a triplane with decoder.onnx itself in onnxruntime's WebGPU EP on the same device (the
 * session must be created with `executionProviders: [{ name: 'webgpu', device }]`): features from the
 * WGSL sampler go to the session as GPU tensors in batches, its density fills the lattice, marching
 * cubes runs on the GPU, and vertex colours go through the session the same way. For graphs the reader refuses.
 */
export async function meshTriplaneOrt(
  device: GPUDevice,
  triplane: Float32Array,
  decoder: OrtDecoder,
  options: OrtMesherOptions,
): Promise<TriplaneMesh & { stats: { decoder: DecoderBackend } }> {
  const r = options.resolution;
  const dims: Dims = [r, r, r];
  const bounds = options.bounds ?? DEFAULT_BOUNDS;
  const n = fieldLength(dims);
  const scope = new GpuScope(device);
  try {
    const t0 = performance.now();
    const planes = scope.upload(triplane, GPUBufferUsage.STORAGE, 'triplane');
    const field = new Float32Array(n);
    await runBatches(device, scope, planes, decoder, { dims, bounds, mode: PointSource.Range }, n, undefined, (out, first, count) => {
      const { name, column, width } = decoder.densityOut;
      const d = out[name]!;
      for (let i = 0; i < count; i++) field[first + i] = densityFromOutput(decoder.outputs.density, d[i * width + column]!);
    }, options.signal);
    const t1 = performance.now();
    const mesh = finishNormals(await marchingCubes(device, field, dims, options.threshold, { bounds, signal: options.signal }));
    const t2 = performance.now();
    const vertices = mesh.positions.length / 3;
    const colours = new Float32Array(3 * vertices);
    if (vertices > 0) {
      const records = new Float32Array(6 * vertices);
      for (let i = 0; i < vertices; i++) records.set(mesh.positions.subarray(3 * i, 3 * i + 3), 6 * i);
      const points = scope.upload(records, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'vertices');
      await runBatches(device, scope, planes, decoder, { dims, bounds, mode: PointSource.Vertices }, vertices, points, (out, first, count) => {
        const { name, column, width } = decoder.colourOut;
        const c = out[name]!;
        for (let i = 0; i < count; i++) {
          for (let k = 0; k < 3; k++) colours[3 * (first + i) + k] = colourFromOutput(decoder.outputs.colour, c[i * width + column + k]!);
        }
      }, options.signal);
    }
    const t3 = performance.now();
    return {
      ...mesh,
      colours,
      stats: { evaluations: n, decoder: 'onnxruntime', ms: { decode: t1 - t0, march: t2 - t1, colour: t3 - t2, readback: 0 } },
    };
  } finally {
    scope.destroy();
  }
}

/** Samples features for points [first, first + count) on the GPU and runs the session on them, batch by batch. */
async function runBatches(
  device: GPUDevice,
  scope: GpuScope,
  planes: GPUBuffer,
  decoder: OrtDecoder,
  job: { dims: Dims; bounds: [Dims, Dims]; mode: PointSource },
  total: number,
  vertices: GPUBuffer | undefined,
  take: (out: Record<string, Float32Array>, first: number, count: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const pipeline = computePipeline(device, 'triplane-features', pointJobWgsl + featuresWgsl + sampleWgsl);
  const planesGroup = bindGroup(device, pipeline, { 0: planes }, 2);
  const batch = Math.min(decoder.batch, total);
  const empty = vertices ?? scope.buffer(16, GPUBufferUsage.STORAGE, 'no points');
  const inputName = decoder.session.inputNames[0]!;
  const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
  for (let first = 0; first < total; first += batch) {
    throwIfAborted(signal);
    const count = Math.min(batch, total - first);
    // ORT takes ownership of nothing here: this batch's buffers are ours, destroyed after the run.
    const batchScope = scope.child();
    const features = batchScope.buffer(count * DECODER_FEATURES * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'features');
    try {
      const params = pointJobParams(batchScope, { ...job, count, first: job.mode === PointSource.Range ? first : 0, compactOut: true });
      // Vertex mode reads records from the start of the buffer: offset through a copy of this batch's slice.
      let points = empty;
      if (vertices) {
        points = batchScope.buffer(count * 24, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, 'vertex batch');
      }
      const encoder = device.createCommandEncoder();
      if (vertices) encoder.copyBufferToBuffer(vertices, first * 24, points, 0, count * 24);
      const pass = encoder.beginComputePass();
      const group = bindGroup(device, pipeline, { 0: params, 1: points, 2: features });
      dispatchLinear(pass, batchScope, pipeline, [group, planesGroup], Math.ceil(count / 64), maxPerDim);
      pass.end();
      device.queue.submit([encoder.finish()]);
      const input = decoder.Tensor.fromGpuBuffer(features, { dataType: 'float32', dims: [count, DECODER_FEATURES] });
      const out = await decoder.session.run({ [inputName]: input });
      const data: Record<string, Float32Array> = {};
      for (const [name, t] of Object.entries(out)) {
        data[name] = (t.location === 'gpu-buffer' ? await t.getData(true) : t.data) as Float32Array;
      }
      take(data, first, count);
    } finally {
      batchScope.destroy();
    }
  }
}
