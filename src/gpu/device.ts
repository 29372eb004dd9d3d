import { AppError } from '../lib/errors';

/** Features onnxruntime-web's WebGPU EP uses when present; requested only where the adapter has them. */
export const ORT_FEATURES: readonly GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/** What the UI shows about the adapter that ran a job. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** A device with its adapter's summary; `lost` resolves when the device is lost (or destroyed). */
export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  lost: Promise<GPUDeviceLostInfo>;
}

/** Summarises an adapter for the UI and for the model's requirement check. */
export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    // `isFallbackAdapter` moved from GPUAdapter to GPUAdapterInfo; read both.
    isFallbackAdapter: Boolean(
      (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter,
    ),
    features: [...adapter.features].sort(),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

/** Every numeric limit the adapter offers, so kernels and ORT can use the whole GPU. */
function adapterLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  return limits;
}

/**
 * The one place a GPUDevice is requested: the adapter's own limits, the features ORT uses where
 * present, and loss/uncaptured errors logged. Throws AppError('webgpu-unavailable') without an adapter.
 */
export async function requestGpu(options: { powerPreference?: GPUPowerPreference } = {}): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const adapter = await gpu?.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new AppError('webgpu-unavailable', 'This browser offers no WebGPU; for GPU speed use a recent Chrome, Edge or Safari.');
  }
  const requiredFeatures = ORT_FEATURES.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits: adapterLimits(adapter) });
  device.addEventListener('uncapturederror', (event) => {
    console.error('Uncaptured WebGPU error:', (event as GPUUncapturedErrorEvent).error.message);
  });
  return { device, adapter: summarizeAdapter(adapter), lost: device.lost };
}
