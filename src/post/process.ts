/** processMesh: the whole "Prepare for printing / CAD" chain, with progress, logs and cancellation. */
import { AppError, throwIfAborted } from '../lib/errors';
import type { ResultMesh } from '../shared/mesh';
import type { PostProgress, PostResult, PostSettings, PostStep, QualityReport, StepLog } from './types';
import { removeFloaters } from './cleanup';
import { POST_RANGES, POST_SETTINGS_DEFAULTS } from './settings';
import { decimate } from './decimate';
import { loadManifold } from './manifold';
import { flattenBottom, placeAndScale } from './placement';
import { makePrintable, plural } from './printable';
import { qualityReport } from './quality';
import { taubinSmooth } from './smooth';
import { weldVertices } from './weld';
import { toResultMesh, toWorkMesh, triangleCount, usedBounds, yieldToEventLoop, type WorkMesh } from './work-mesh';
import type { MeshToSource } from '../texture/types';

/** The app's defaults (src/post/settings.ts, which the page imports without the WASM). */
export const POST_DEFAULTS: PostSettings = POST_SETTINGS_DEFAULTS;

/** Bounds of targetTriangles the UI offers. */
export const TARGET_TRIANGLES_RANGE = POST_RANGES.targetTriangles;

/** Options for {@link processMesh}. */
export interface ProcessOptions {
  onProgress?: PostProgress;
  signal?: AbortSignal;
}

/** Settings with every missing field taken from {@link POST_DEFAULTS}. */
export function resolvePostSettings(settings: Partial<PostSettings> = {}): PostSettings {
  return {
    ...POST_DEFAULTS,
    ...settings,
    cleanup: { ...POST_DEFAULTS.cleanup, ...settings.cleanup },
    smoothing: { ...POST_DEFAULTS.smoothing, ...settings.smoothing },
    size: { ...POST_DEFAULTS.size, ...settings.size },
  };
}

/**
 * Runs clean-up (weld, floaters) → smoothing → decimation → make printable (fill holes, manifold) →
 * scale and pivot → flat bottom → quality report on a copy of `input` (metres, Y up). The result's
 * coordinates are in `settings.size.unit`, pivot at bottom centre. Yields to the event loop and
 * checks `signal` between steps (cancellation throws a DOMException AbortError). A failed repair
 * keeps the unrepaired mesh and logs the step as failed. Throws AppError 'no-surface' for a mesh
 * with no usable triangle (empty, or every triangle degenerate or not finite).
 */
export async function processMesh(
  input: ResultMesh,
  settingsIn: Partial<PostSettings> = {},
  { onProgress, signal }: ProcessOptions = {},
): Promise<PostResult> {
  const settings = resolvePostSettings(settingsIn);
  validateSettings(settings);
  const steps: StepLog[] = [];
  let mesh: WorkMesh = toWorkMesh(input);

  const run = async (step: PostStep, work: () => Promise<string | { message: string; failed: boolean }>) => {
    throwIfAborted(signal);
    onProgress?.(step, 0);
    await yieldToEventLoop();
    throwIfAborted(signal);
    const started = performance.now();
    const outcome = await work();
    const entry: StepLog = typeof outcome === 'string' ? { step, message: outcome, ms: 0 } : { step, ...outcome, ms: 0 };
    entry.ms = Math.round(performance.now() - started);
    steps.push(entry);
    onProgress?.(step, 1);
  };

  // Weld always: every later step relies on shared vertices, and it drops NaN and collapsed triangles.
  await run('weld', async () => {
    const welded = weldVertices(mesh, { tolerance: settings.cleanup.enabled ? 1e-6 : 0 });
    mesh = welded.mesh;
    if (triangleCount(mesh) === 0) {
      throw new AppError('no-surface', 'The mesh has no usable triangles to process. Generate the model again, perhaps with a lower density threshold.');
    }
    const parts = [`Welded ${plural(welded.merged, 'duplicate vertex', 'duplicate vertices')}`];
    if (welded.degenerate > 0) parts.push(`dropped ${plural(welded.degenerate, 'degenerate triangle')}`);
    if (welded.nonFinite > 0) parts.push(`ignored ${plural(welded.nonFinite, 'vertex', 'vertices')} with invalid coordinates`);
    return `${parts.join(', ')}.`;
  });

  if (settings.cleanup.enabled) {
    await run('cleanup', async () => {
      const result = removeFloaters(mesh, settings.cleanup.keepShare);
      mesh = result.mesh;
      if (result.removedComponents === 0) return `Kept all ${plural(result.components, 'piece')}.`;
      return `Removed ${plural(result.removedComponents, 'floating piece')} (${plural(result.removedTriangles, 'triangle')}).`;
    });
  }

  if (settings.smoothing.iterations > 0) {
    await run('smooth', async () => {
      mesh = await taubinSmooth(mesh, {
        ...settings.smoothing,
        signal,
        onProgress: (fraction) => onProgress?.('smooth', fraction),
      });
      return `Smoothed with ${plural(settings.smoothing.iterations, 'Taubin iteration')}.`;
    });
  }

  if (settings.targetTriangles !== null && triangleCount(mesh) > settings.targetTriangles) {
    const target = settings.targetTriangles;
    await run('decimate', async () => {
      const result = await decimate(mesh, { targetTriangles: target });
      mesh = result.mesh;
      return `Reduced ${plural(result.before, 'triangle')} to ${result.after.toLocaleString('en-US')} (target ${target.toLocaleString('en-US')}).`;
    });
  }

  if (settings.printable) {
    throwIfAborted(signal);
    onProgress?.('fill-holes', 0);
    await yieldToEventLoop();
    const started = performance.now();
    const repaired = await makePrintable(mesh, { signal, onProgress: (fraction) => onProgress?.('fill-holes', fraction) });
    const ms = Math.round(performance.now() - started) - repaired.manifoldMs;
    steps.push({ step: 'fill-holes', message: repaired.fillMessage, ms, ...(repaired.ok ? {} : { failed: true }) });
    onProgress?.('fill-holes', 1);
    onProgress?.('manifold', 0);
    steps.push(
      repaired.ok
        ? { step: 'manifold', message: repaired.message, ms: repaired.manifoldMs }
        : { step: 'manifold', message: `${repaired.message} Kept the unrepaired mesh.`, ms: 0, failed: true },
    );
    if (repaired.ok) mesh = repaired.mesh;
    onProgress?.('manifold', 1);
  }

  let factor = 1;
  // Processed → input frame; each placement step composes its inverse onto it.
  let toSource: MeshToSource = { scale: 1, offset: [0, 0, 0] };
  await run('scale', async () => {
    const placed = placeAndScale(mesh, settings.size);
    toSource = composePlacement(toSource, mesh, placed.factor);
    mesh = placed.mesh;
    factor = placed.factor;
    const { dimension, value, unit } = settings.size;
    return `Scaled ×${formatFactor(factor)} so the ${dimension === 'height' ? 'height' : 'longest side'} is ${value} ${unit}; pivot at the bottom centre.`;
  });

  if (settings.flatBottom > 0) {
    await run('flatten', async () => {
      const wasm = await loadManifold();
      const bottom = usedBounds(mesh).min[1];
      const flat = flattenBottom(mesh, settings.flatBottom, wasm);
      // flattenBottom moves the cut plane (a float32 value, as it computes it) down to y = 0.
      toSource = composeShift(toSource, [0, Math.fround(bottom + flat.cutHeight), 0]);
      // Re-scale so the requested size still holds after the cut.
      const placed = placeAndScale(flat.mesh, settings.size);
      toSource = composePlacement(toSource, flat.mesh, placed.factor);
      mesh = placed.mesh;
      return `Cut the bottom flat ${round(flat.cutHeight)} ${settings.size.unit} up (${plural(flat.capTriangles, 'cap triangle')}).`;
    });
  }

  const result = toResultMesh(mesh);
  let report!: QualityReport;
  await run('report', async () => {
    report = qualityReport(result, settings.size.unit);
    const below = report.score < settings.minQuality ? ` Below the minimum of ${settings.minQuality}.` : '';
    return `Score ${report.score}/10: ${report.verdict}${below}`;
  });
  return { mesh: result, report, steps, settings, toSource };
}

/**
 * `toSource` after placeAndScale(`before`): that step maps p to (p − centre) × factor, with centre the
 * bottom centre of `before`'s used bounds, so its inverse is q / factor + centre.
 */
function composePlacement(toSource: MeshToSource, before: WorkMesh, factor: number): MeshToSource {
  const { min, max } = usedBounds(before);
  const centre: [number, number, number] = [(min[0] + max[0]) / 2, min[1], (min[2] + max[2]) / 2];
  const inner: MeshToSource = { scale: 1 / factor, offset: centre };
  return compose(toSource, inner);
}

/** `toSource` after a step that moved every vertex by −`shift`. */
function composeShift(toSource: MeshToSource, shift: [number, number, number]): MeshToSource {
  return compose(toSource, { scale: 1, offset: shift });
}

/** outer ∘ inner: q → (q × inner.scale + inner.offset) × outer.scale + outer.offset. */
function compose(outer: MeshToSource, inner: MeshToSource): MeshToSource {
  return {
    scale: inner.scale * outer.scale,
    offset: [0, 1, 2].map((a) => inner.offset[a]! * outer.scale + outer.offset[a]!) as [number, number, number],
  };
}

function validateSettings(settings: PostSettings): void {
  const { value } = settings.size;
  if (!(value > 0) || !Number.isFinite(value)) {
    // The UI only offers positive sizes, so this is a programming error, not a user-facing one.
    throw new RangeError(`Post-processing size must be a positive number, got ${value}.`);
  }
}

function formatFactor(factor: number): string {
  return factor >= 100 ? Math.round(factor).toLocaleString('en-US') : factor.toPrecision(3);
}

function round(x: number): string {
  return x.toPrecision(3);
}
