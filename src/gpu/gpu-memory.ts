/**
 * Live GPU bytes of the buffers the mesher creates (WebGPU has no memory query, so the kit counts
 * what it allocates). A job's tracker also counts into its parent, normally the device's tracker.
 */
export class GpuMemory {
  /** Bytes of buffers created and not yet destroyed. */
  live = 0;
  /** The most `live` has been since creation or the last resetPeak(). */
  peak = 0;
  /** The largest single buffer seen since creation or the last resetPeak(). */
  largestBuffer = 0;

  constructor(readonly parent?: GpuMemory) {}

  /** Counts a buffer of `bytes` as created. */
  add(bytes: number): void {
    this.live += bytes;
    this.peak = Math.max(this.peak, this.live);
    this.largestBuffer = Math.max(this.largestBuffer, bytes);
    this.parent?.add(bytes);
  }

  /** Counts a buffer of `bytes` as destroyed (or handed to a caller who is not counted). */
  remove(bytes: number): void {
    this.live -= bytes;
    this.parent?.remove(bytes);
  }

  /** Starts a new peak from what is live now. */
  resetPeak(): void {
    this.peak = this.live;
    this.largestBuffer = 0;
  }
}

const devices = new WeakMap<GPUDevice, GpuMemory>();

/** The tracker of every mesher buffer on `device` (created on first use). */
export function deviceMemory(device: GPUDevice): GpuMemory {
  let memory = devices.get(device);
  if (!memory) devices.set(device, (memory = new GpuMemory()));
  return memory;
}

/** Bytes as MiB with one decimal, for tables. */
export function mebibytes(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}
