import { BUFFER_USAGE, NEXT_SLAB_FLAG, type Dims } from './constants';
import { arraySource, copiedBufferSource, wholeBufferSource, type FieldSource } from './field-source';
import { bindGroup, computePipeline, dispatchLinear, GpuScope, gpuStage, kernelLimits, readBuffers, type KernelLimits } from './gpu-kit';
import { packCaseTable } from './mc-tables';
import classifyWgsl from './mc-classify.wgsl?raw';
import commonWgsl from './mc-common.wgsl?raw';
import trianglesWgsl from './mc-triangles.wgsl?raw';
import verticesWgsl from './mc-vertices.wgsl?raw';
import { checkDims, fieldLength, finishNormals, gridToWorld, type IndexedMesh, type MarchingCubesOptions } from './mesh';
import { encodeExclusiveScan } from './scan';
import { throwIfAborted } from '../lib/errors';

/** Options of the GPU marching cubes; the limits force splitting below the device's own. */
export interface MarchingCubesGpuOptions extends MarchingCubesOptions, Partial<KernelLimits> {
  /** Checked between slabs: an aborted job throws AbortError and frees its GPU buffers. */
  signal?: AbortSignal;
}

/**
 * Per-vertex work run on each slab's vertices while they are still on the GPU (vertex colours): it
 * submits its own work and resolves with a buffer of `floatsPerVertex` floats per vertex.
 */
export type VertexHook = (
  vertices: GPUBuffer,
  count: number,
  scope: GpuScope,
) => Promise<{ buffer: GPUBuffer; floatsPerVertex: number }>;

/** Milliseconds spent per stage while marching. */
export interface MarchTimings {
  field: number;
  march: number;
  hook: number;
  readback: number;
}

const { STORAGE, COPY_SRC } = BUFFER_USAGE;

/**
 * Extracts the iso-surface of a scalar field on the GPU as an indexed mesh with shared vertices.
 * field index i = (x * ny + y) * nz + z; positions in grid units (0..n−1) unless bounds are given;
 * a GPUBuffer passed as field stays owned by the caller. Inside is f > iso; triangles wind
 * counter-clockwise seen from outside; normals are normalize(−∇f).
 *
 * @example
 * const mesh = await marchingCubes(device, field, [64, 64, 64], 0, { pad: true });
 */
export async function marchingCubes(
  device: GPUDevice,
  field: Float32Array | GPUBuffer,
  dims: [number, number, number],
  iso: number,
  options: MarchingCubesGpuOptions = {},
): Promise<{ positions: Float32Array; normals: Float32Array; indices: Uint32Array }> {
  checkDims(dims, field instanceof Float32Array ? field.length : undefined);
  const bytes = fieldLength(dims) * 4;
  if (!(field instanceof Float32Array) && field.size < bytes) {
    throw new RangeError(`Field buffer holds ${field.size} bytes but ${dims.join('×')} needs ${bytes}.`);
  }
  const limits = kernelLimits(device, options);
  const scope = new GpuScope(device);
  try {
    let source: FieldSource;
    if (field instanceof Float32Array) {
      // A large array goes up slab by slab, so the GPU never holds more than a slab of it.
      source = bytes <= limits.slabBytes ? wholeBufferSource(dims, scope.upload(field, STORAGE, 'field')) : arraySource(dims, field);
    } else {
      source = bytes <= limits.maxBindingBytes ? wholeBufferSource(dims, field) : copiedBufferSource(dims, field);
    }
    const { mesh } = await marchSlabs(scope, source, iso, options, limits, undefined, options.signal);
    return finishNormals(mesh);
  } finally {
    scope.destroy();
  }
}

/**
 * Marches the field slab by slab along x, each slab sized to the slab byte budget and the binding and
 * dispatch limits, and stitches the slabs' shared vertices into one indexed mesh (normals not yet
 * finished). Every stage runs in error scopes (gpuStage); buffers are counted by `parent`'s tracker.
 */
export async function marchSlabs(
  parent: GpuScope,
  source: FieldSource,
  iso: number,
  options: MarchingCubesOptions,
  limits: KernelLimits,
  hook?: VertexHook,
  signal?: AbortSignal,
): Promise<{ mesh: IndexedMesh; extra: Float32Array; timings: MarchTimings }> {
  const device = parent.device;
  const dims = source.dims;
  const p = options.pad ? 1 : 0;
  const lattice = dims.map((n) => n + 2 * p) as Dims;
  const layerCorners = lattice[1] * lattice[2];
  const fieldLayerBytes = dims[1] * dims[2] * 4;
  const maxBinding = limits.maxBindingBytes;
  // Slabs are sized by the counts' byte budget (their largest buffer), one layer at least, and
  // always within the binding limit.
  const fits = (cells: number, budget: number): boolean =>
    (cells + 1) * layerCorners * 8 <= budget &&
    (!source.perSlabBinding || (cells + 3) * fieldLayerBytes <= maxBinding);
  let maxCells = Math.min(lattice[0] - 1, Math.floor(limits.slabBytes / (layerCorners * 8)) - 1);
  while (maxCells > 0 && !fits(maxCells, limits.slabBytes)) maxCells--;
  if (maxCells < 1 && fits(1, maxBinding)) maxCells = 1;
  if (maxCells < 1) {
    throw new RangeError(
      `One layer of a ${dims.join('×')} field does not fit a ${maxBinding}-byte storage binding; use a smaller grid.`,
    );
  }
  const { origin, spacing } = gridToWorld(dims, options.bounds);
  const caseTable = parent.child();
  const table = caseTable.upload(packCaseTable(), STORAGE, 'marching-cubes case table');
  const classify = computePipeline(device, 'mc-classify', commonWgsl + classifyWgsl);
  const emitVertices = computePipeline(device, 'mc-vertices', commonWgsl + verticesWgsl);
  const emitTriangles = computePipeline(device, 'mc-triangles', commonWgsl + trianglesWgsl);
  const timings: MarchTimings = { field: 0, march: 0, hook: 0, readback: 0 };
  const parts: { positions: Float32Array; normals: Float32Array; indices: Uint32Array; extra: Float32Array; owned: number }[] = [];
  const maxPerDim = limits.maxWorkgroupsPerDimension;

  try {
    for (let begin = 0; begin < lattice[0] - 1; ) {
      let cells = Math.min(maxCells, lattice[0] - 1 - begin);
      for (;;) {
        const end = begin + cells;
        const isLast = end === lattice[0] - 1;
        const scope = parent.child();
        try {
          let t = performance.now();
          const first = Math.max(0, begin - 1 - p);
          const layers = await source.layers(first, Math.min(dims[0], end + 2 - p), scope);
          timings.field += performance.now() - t;
          t = performance.now();
          const corners = (cells + 1) * layerCorners;
          const slab = new ArrayBuffer(80);
          const u = new Uint32Array(slab);
          const f = new Float32Array(slab);
          u.set([...lattice, p, ...dims], 0);
          f[7] = iso;
          f.set(origin, 8);
          u[11] = begin;
          f.set(spacing, 12);
          u.set([end, layers.first, layers.base, isLast ? 1 : 0, corners], 15);
          const params = scope.uniform(u, 'slab params');
          const counts = scope.buffer(corners * 8, STORAGE | COPY_SRC, 'mc counts');
          const workgroups = Math.ceil(corners / 64);
          const [totals, lastLayer] = await gpuStage(device, 'marching-cubes classify', () => {
            const encoder = device.createCommandEncoder();
            const pass = encoder.beginComputePass();
            dispatchLinear(pass, scope, classify, [bindGroup(device, classify, { 0: params, 1: layers.buffer, 2: table, 3: counts })], workgroups, maxPerDim);
            const total = encodeExclusiveScan(pass, scope, counts, corners, maxPerDim);
            pass.end();
            return readBuffers(device, scope, encoder, [
              { buffer: total, size: 8 },
              { buffer: counts, offset: cells * layerCorners * 8, size: 8 },
            ]);
          });
          const [allVertices, triangles] = new Uint32Array(totals!);
          const owned = isLast ? allVertices! : new Uint32Array(lastLayer!)[0]!;
          if ((owned * 24 > maxBinding || triangles! * 12 > maxBinding) && cells > 1) {
            cells = Math.ceil(cells / 2);
            continue;
          }
          if (owned * 24 > maxBinding || triangles! * 12 > maxBinding) {
            throw new RangeError(`One layer of the mesh does not fit a ${maxBinding}-byte storage binding.`);
          }
          const vertices = scope.buffer(owned * 24, STORAGE | COPY_SRC, 'mc vertices');
          const indices = scope.buffer(triangles! * 12, STORAGE | COPY_SRC, 'mc indices');
          await gpuStage(device, 'marching-cubes emit', async () => {
            const encoder = device.createCommandEncoder();
            const pass = encoder.beginComputePass();
            if (owned > 0) {
              dispatchLinear(pass, scope, emitVertices, [bindGroup(device, emitVertices, { 0: params, 1: layers.buffer, 3: counts, 4: vertices })], workgroups, maxPerDim);
            }
            if (triangles! > 0) {
              dispatchLinear(pass, scope, emitTriangles, [bindGroup(device, emitTriangles, { 0: params, 1: layers.buffer, 2: table, 3: counts, 5: indices })], workgroups, maxPerDim);
            }
            pass.end();
            device.queue.submit([encoder.finish()]);
            await device.queue.onSubmittedWorkDone();
          });
          // The counts are the slab's largest buffer: free them before colours and readback.
          scope.drop(counts);
          timings.march += performance.now() - t;
          t = performance.now();
          let extra: { buffer: GPUBuffer; floatsPerVertex: number } | undefined;
          if (hook && owned > 0) {
            extra = await gpuStage(device, 'vertex colour', () => hook(vertices, owned, scope));
          }
          timings.hook += performance.now() - t;
          t = performance.now();
          const [vertexBytes, indexBytes, extraBytes] = await gpuStage(device, 'readback', () =>
            readBuffers(device, scope, device.createCommandEncoder(), [
              { buffer: vertices, size: owned * 24 },
              { buffer: indices, size: triangles! * 12 },
              ...(extra ? [{ buffer: extra.buffer, size: owned * extra.floatsPerVertex * 4 }] : []),
            ]),
          );
          const records = new Float32Array(vertexBytes!);
          const positions = new Float32Array(owned * 3);
          const normals = new Float32Array(owned * 3);
          for (let v = 0; v < owned; v++) {
            positions.set(records.subarray(6 * v, 6 * v + 3), 3 * v);
            normals.set(records.subarray(6 * v + 3, 6 * v + 6), 3 * v);
          }
          parts.push({
            positions,
            normals,
            indices: new Uint32Array(indexBytes!),
            extra: extraBytes ? new Float32Array(extraBytes) : new Float32Array(0),
            owned,
          });
          timings.readback += performance.now() - t;
          throwIfAborted(signal);
          begin = end;
          break;
        } finally {
          scope.destroy();
        }
      }
    }
  } finally {
    caseTable.destroy();
  }
  return { mesh: stitch(parts), extra: concat(parts.map((q) => q.extra)), timings };
}

/** Joins slab meshes, rebasing each slab's indices and its references into the next slab. */
function stitch(parts: { positions: Float32Array; normals: Float32Array; indices: Uint32Array; owned: number }[]): IndexedMesh {
  let base = 0;
  const indices = concat(parts.map((q) => q.indices)) as Uint32Array;
  let offset = 0;
  for (const part of parts) {
    const next = base + part.owned;
    for (let i = offset; i < offset + part.indices.length; i++) {
      const v = indices[i]!;
      indices[i] = v >= NEXT_SLAB_FLAG ? next + (v - NEXT_SLAB_FLAG) : base + v;
    }
    offset += part.indices.length;
    base = next;
  }
  return {
    positions: concat(parts.map((q) => q.positions)) as Float32Array,
    normals: concat(parts.map((q) => q.normals)) as Float32Array,
    indices,
  };
}

function concat<T extends Float32Array | Uint32Array>(arrays: T[]): T {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const Ctor = (arrays[0]?.constructor ?? Float32Array) as new (n: number) => T;
  const out = new Ctor(total);
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
