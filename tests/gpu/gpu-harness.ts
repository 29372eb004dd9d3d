/** Test harness for kernels in real Chromium: a tracked device, validation scopes and timeouts. */

export interface TrackedDevice {
  device: GPUDevice;
  /** Buffers created and not yet destroyed. */
  live: () => number;
  created: () => number;
}

/**
 * Requests a device (with the adapter's own limits, or the defaults) whose createBuffer is wrapped to
 * count buffers created and destroyed.
 */
export async function trackedDevice(opts: { defaultLimits?: boolean } = {}): Promise<TrackedDevice> {
  const adapter = await withTimeout(navigator.gpu.requestAdapter(), 30_000, 'requestAdapter');
  if (!adapter) throw new Error('No WebGPU adapter in this browser.');
  const requiredLimits: Record<string, number> = {};
  if (!opts.defaultLimits) {
    for (const key of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup'] as const) {
      requiredLimits[key] = adapter.limits[key];
    }
  }
  const device = await withTimeout(adapter.requestDevice({ requiredLimits }), 30_000, 'requestDevice');
  const alive = new Set<GPUBuffer>();
  let created = 0;
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
    const buffer = createBuffer(desc);
    created++;
    alive.add(buffer);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      alive.delete(buffer);
      destroy();
    };
    return buffer;
  };
  return { device, live: () => alive.size, created: () => created };
}

/** Rejects when `p` takes longer than `ms` (one SwiftShader hang was seen). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * Runs `fn` inside validation and out-of-memory error scopes that must stay empty, with a timeout,
 * and checks that it left no buffer alive.
 */
export async function gpuCheck<T>(t: TrackedDevice, fn: () => Promise<T>, ms = 180_000): Promise<T> {
  const before = t.live();
  t.device.pushErrorScope('validation');
  t.device.pushErrorScope('out-of-memory');
  let result: T;
  try {
    result = await withTimeout(fn(), ms, 'GPU work');
  } finally {
    const oom = await t.device.popErrorScope();
    const validation = await t.device.popErrorScope();
    if (validation) throw new Error(`WebGPU validation error: ${validation.message}`);
    if (oom) throw new Error(`WebGPU out-of-memory error: ${oom.message}`);
  }
  if (t.live() !== before) throw new Error(`${t.live() - before} GPU buffers left alive`);
  return result;
}
