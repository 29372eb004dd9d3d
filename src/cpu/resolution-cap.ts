/**
 * The highest resolution the CPU path meshes at. 128³ takes seconds with the ORT decoder on one
 * thread (bench:cpu); 256³ evaluates about 8× the points and the walk's field alone needs 64 MiB.
 */
export const CPU_MAX_RESOLUTION = 128;

/** The resolution the CPU path uses for a request, and the notice to show when it had to lower it. */
export function cpuResolution(requested: number): { resolution: number; notice: string | null } {
  if (requested <= CPU_MAX_RESOLUTION) return { resolution: requested, notice: null };
  return {
    resolution: CPU_MAX_RESOLUTION,
    notice: `Without WebGPU the mesh is built on the CPU, at most ${CPU_MAX_RESOLUTION}³ (you asked for ${requested}³); use a browser with WebGPU for finer meshes.`,
  };
}
