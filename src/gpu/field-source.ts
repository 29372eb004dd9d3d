import type { Dims } from './constants';
import type { GpuScope } from './gpu-kit';

/** Field layers [first, end) bound for a kernel: element `base` of `buffer` holds layer `first`. */
export interface FieldLayers {
  buffer: GPUBuffer;
  base: number;
  first: number;
}

/**
 * Where the marching-cubes slabs get their field from: an uploaded array, a caller's buffer, or a
 * density walk that evaluates layers on demand. Buffers it creates belong to `scope`.
 */
export interface FieldSource {
  readonly dims: Dims;
  layers(first: number, end: number, scope: GpuScope): Promise<FieldLayers>;
  /** Whether layers() needs a binding of its own per slab (counts against the binding limit). */
  readonly perSlabBinding: boolean;
}

/** Serves layers from one bindable buffer: the whole field, uploaded or given. */
export function wholeBufferSource(dims: Dims, buffer: GPUBuffer): FieldSource {
  const layer = dims[1] * dims[2];
  return {
    dims,
    perSlabBinding: false,
    layers: async (first) => ({ buffer, base: first * layer, first }),
  };
}

/** Serves layers of a Float32Array, uploading each slab's layers. */
export function arraySource(dims: Dims, field: Float32Array): FieldSource {
  const layer = dims[1] * dims[2];
  return {
    dims,
    perSlabBinding: true,
    layers: async (first, end, scope) => ({
      buffer: scope.upload(field.subarray(first * layer, end * layer), GPUBufferUsage.STORAGE, 'field slab'),
      base: 0,
      first,
    }),
  };
}

/** Serves layers of a buffer too large to bind whole, copying each slab's layers out of it. */
export function copiedBufferSource(dims: Dims, field: GPUBuffer): FieldSource {
  const layerBytes = dims[1] * dims[2] * 4;
  return {
    dims,
    perSlabBinding: true,
    layers: async (first, end, scope) => {
      const size = (end - first) * layerBytes;
      const buffer = scope.buffer(size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, 'field slab');
      const encoder = scope.device.createCommandEncoder();
      encoder.copyBufferToBuffer(field, first * layerBytes, buffer, 0, size);
      scope.device.queue.submit([encoder.finish()]);
      return { buffer, base: 0, first };
    },
  };
}
