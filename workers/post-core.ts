import { transfer } from 'comlink';
import { STEP_SAFE_FACES } from '../src/export/options';
import type { ExportedFile, ExportFormat, ExportOptions } from '../src/export/types';
import type { PostProgress, PostResult, PostSettings, QualityReport, Unit } from '../src/post/types';
import { throwIfAborted } from '../src/lib/errors';
import type { ResultMesh } from '../src/shared/mesh';


/** Options of `PostApi.exportFile`. */
export interface ExportRequest extends ExportOptions {
  /** STEP only: decimate to at most this many faces first (default STEP_SAFE_FACES). */
  stepMaxFaces?: number;
  /** The mesh's report said watertight (3MF writes a model, STEP a closed shell); unset: the exporter checks. */
  closed?: boolean;
}

/** A mesh's quality report and its open edges as line segments (6 floats per edge) for the viewer. */
export interface MeshInspection {
  report: QualityReport;
  openEdges: Float32Array;
}

const buffers = (mesh: ResultMesh): ArrayBuffer[] =>
  [mesh.positions, mesh.normals, mesh.colours, mesh.indices].map((a) => a.buffer as ArrayBuffer);

/**
 * What the processing worker offers: processing with progress, cancel by job id, inspection and
 * export. Heavy modules (meshoptimizer, manifold-3d, the exporters) load on first use.
 */
export function createPostApi() {
  const jobs = new Map<number, AbortController>();
  const run = async <T>(id: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    jobs.set(id, controller);
    try {
      return await work(controller.signal);
    } finally {
      jobs.delete(id);
    }
  };
  return {
    /** Runs clean-up → smoothing → decimation → make printable → scale → flat bottom → report; adds the result's open edges. */
    process(id: number, mesh: ResultMesh, settings: Partial<PostSettings>, onProgress?: PostProgress): Promise<PostResult & { openEdges: Float32Array }> {
      return run(id, async (signal) => {
        const { processMesh } = await import('../src/post/process');
        const { openEdgeSegments } = await import('../src/post/open-edges');
        const result = await processMesh(mesh, settings, { onProgress, signal });
        const openEdges = openEdgeSegments(result.mesh);
        return transfer({ ...result, openEdges }, [...buffers(result.mesh), openEdges.buffer as ArrayBuffer]);
      });
    },
    /** Stops the job `id` (it rejects with AbortError at its next check); unknown ids are ignored. */
    cancel(id: number): void {
      jobs.get(id)?.abort();
    },
    /** The quality report of `mesh` in `unit`, and its open edges. */
    async inspect(mesh: ResultMesh, unit: Unit): Promise<MeshInspection> {
      const { qualityReport } = await import('../src/post/quality');
      const { openEdgeSegments } = await import('../src/post/open-edges');
      const inspection = { report: qualityReport(mesh, unit), openEdges: openEdgeSegments(mesh) };
      return transfer(inspection, [inspection.openEdges.buffer as ArrayBuffer]);
    },
    /** Writes `mesh` as `format`; STEP is decimated to `stepMaxFaces` first, with a warning. */
    exportFile(id: number, format: ExportFormat, mesh: ResultMesh, request: ExportRequest, onProgress?: PostProgress): Promise<ExportedFile> {
      return run(id, async (signal) => {
        const { exportMesh } = await import('../src/export/export-mesh');
        const limit = request.stepMaxFaces ?? STEP_SAFE_FACES;
        let source = mesh;
        let closed = request.closed;
        const warnings: string[] = [];
        if (format === 'step' && mesh.indices.length / 3 > limit) {
          const { decimate } = await import('../src/post/decimate');
          const { toResultMesh, toWorkMesh } = await import('../src/post/work-mesh');
          onProgress?.('decimate', 0);
          const reduced = await decimate(toWorkMesh(mesh), { targetTriangles: limit });
          throwIfAborted(signal);
          source = toResultMesh(reduced.mesh);
          closed = undefined;
          warnings.push(`This STEP file holds at most ${limit.toLocaleString('en')} faces here (CAD importers stall on more), so it was decimated from ${(mesh.indices.length / 3).toLocaleString('en')} to ${(source.indices.length / 3).toLocaleString('en')} triangles.`);
        }
        const file = await exportMesh(format, source, { unit: request.unit, name: request.name, closed, stepMaxFaces: limit });
        const result = { ...file, warnings: [...warnings, ...file.warnings] };
        return transfer(result, [result.bytes.buffer as ArrayBuffer]);
      });
    },
  };
}

export type PostApi = ReturnType<typeof createPostApi>;
