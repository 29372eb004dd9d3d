/** Limits a kernel host respects; tests lower them to force splitting. */
export interface KernelLimits {
  /** Largest storage binding, and largest buffer, in bytes. */
  maxBindingBytes: number;
  maxWorkgroupsPerDimension: number;
}

/** The device's own limits, lowered by any overrides. */
export function kernelLimits(device: GPUDevice, overrides: Partial<KernelLimits> = {}): KernelLimits {
  return {
    maxBindingBytes: Math.min(
      device.limits.maxStorageBufferBindingSize,
      device.limits.maxBufferSize,
      overrides.maxBindingBytes ?? Infinity,
    ),
    maxWorkgroupsPerDimension: Math.min(
      device.limits.maxComputeWorkgroupsPerDimension,
      overrides.maxWorkgroupsPerDimension ?? Infinity,
    ),
  };
}

/** Owns the GPU buffers of one operation and destroys them all at once. */
export class GpuScope {
  private readonly buffers: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice) {}

  /** A buffer of at least `size` bytes (rounded up to 4, at least 4). */
  buffer(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const buffer = this.device.createBuffer({ size: Math.max(4, Math.ceil(size / 4) * 4), usage, label });
    this.buffers.push(buffer);
    return buffer;
  }

  /** A buffer holding `data`, created mapped so no staging copy is needed. */
  upload(data: ArrayBufferView, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
    const buffer = this.device.createBuffer({ size, usage, label, mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
    this.buffers.push(buffer);
    return buffer;
  }

  uniform(data: ArrayBufferView, label: string): GPUBuffer {
    return this.upload(data, GPUBufferUsage.UNIFORM, label);
  }

  /** Hands a buffer to the caller: the scope no longer destroys it. */
  release(buffer: GPUBuffer): GPUBuffer {
    const i = this.buffers.indexOf(buffer);
    if (i >= 0) this.buffers.splice(i, 1);
    return buffer;
  }

  destroy(): void {
    for (const b of this.buffers.splice(0)) b.destroy();
  }
}

export { computePipeline, computePipelineAsync } from './pipeline-cache';

/** Bind group 0 of a pipeline from buffers by binding number. */
export function bindGroup(device: GPUDevice, pipeline: GPUComputePipeline, buffers: Record<number, GPUBuffer>, group = 0): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(group),
    entries: Object.entries(buffers).map(([binding, buffer]) => ({ binding: Number(binding), resource: { buffer } })),
  });
}

/**
 * Encodes `workgroups` workgroups of a 1-D kernel, split into chunks whose dispatch shape stays
 * within maxWorkgroupsPerDimension; each chunk's first workgroup index goes to group 1 (dispatch.wgsl).
 */
export function dispatchLinear(
  pass: GPUComputePassEncoder,
  scope: GpuScope,
  pipeline: GPUComputePipeline,
  groups: GPUBindGroup[],
  workgroups: number,
  maxPerDim: number,
): void {
  const perChunk = maxPerDim ** 3;
  pass.setPipeline(pipeline);
  groups.forEach((g, i) => pass.setBindGroup(i === 0 ? 0 : i + 1, g));
  for (let base = 0; base < workgroups; base += perChunk) {
    const n = Math.min(perChunk, workgroups - base);
    const x = Math.min(n, maxPerDim);
    const y = Math.min(Math.ceil(n / x), maxPerDim);
    const z = Math.ceil(n / (x * y));
    const baseBuffer = scope.uniform(new Uint32Array([base, 0, 0, 0]), 'dispatch base');
    pass.setBindGroup(1, bindGroup(scope.device, pipeline, { 0: baseBuffer }, 1));
    pass.dispatchWorkgroups(x, y, z);
  }
}

/** Copies buffers to mappable staging buffers, submits, and returns their bytes once mapped. */
export async function readBuffers(
  device: GPUDevice,
  scope: GpuScope,
  encoder: GPUCommandEncoder,
  sources: { buffer: GPUBuffer; offset?: number; size: number }[],
): Promise<ArrayBuffer[]> {
  const staging = sources.map((s) => {
    const size = Math.max(4, Math.ceil(s.size / 4) * 4);
    const buffer = scope.buffer(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    if (s.size > 0) encoder.copyBufferToBuffer(s.buffer, s.offset ?? 0, buffer, 0, size);
    return buffer;
  });
  device.queue.submit([encoder.finish()]);
  return Promise.all(
    staging.map(async (b, i) => {
      await b.mapAsync(GPUMapMode.READ);
      const bytes = b.getMappedRange().slice(0, sources[i]!.size);
      b.unmap();
      return bytes;
    }),
  );
}
