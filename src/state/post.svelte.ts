import { saveFile } from '../lib/save-file';
import { proxy, wrap, type Remote } from 'comlink';
import type { MeshInspection, PostApi } from '../../workers/post-core';
import { EXPORT_FORMATS, type ExportFormat } from '../export/types';
import { AppError, isAbortError } from '../lib/errors';
import { POST_SETTINGS_DEFAULTS } from '../post/settings';
import type { PostResult, PostSettings, PostStep, QualityReport } from '../post/types';
import type { ResultMesh } from '../shared/mesh';
import { userMessage, type UserMessage } from './messages';
import { TEXTURED_FORMATS, TextureBake } from './texture.svelte';

/** A cancelled job that has not stopped after this long (a long WASM call) gets its worker replaced. */
const CANCEL_GRACE_MS = 2_000;

/** How the download menu names each format. */
const FORMAT_LABELS: Record<ExportFormat, string> = {
  glb: 'GLB (glTF, colours)',
  obj: 'OBJ (colours)',
  stl: 'STL (binary)',
  ply: 'PLY (binary, colours)',
  '3mf': '3MF (mm, colours)',
  usdz: 'USDZ (AR Quick Look)',
  step: 'STEP (CAD, faceted)',
  dxf: 'DXF (3DFACE)',
};

/** How the download menu names the formats that carry a baked texture. */
const TEXTURED_LABELS: Partial<Record<ExportFormat, string>> = {
  glb: 'GLB (glTF, texture)',
  obj: 'OBJ + MTL + PNG (zip, texture)',
  usdz: 'USDZ (AR Quick Look, texture)',
};

/** Menu entries for the download menu. */
export const DOWNLOAD_FORMATS = EXPORT_FORMATS.map((format) => ({ format, label: FORMAT_LABELS[format] }));

/** Menu entries once a texture is baked: the textured formats say so. */
export const TEXTURED_DOWNLOAD_FORMATS = EXPORT_FORMATS.map((format) => ({ format, label: TEXTURED_LABELS[format] ?? FORMAT_LABELS[format] }));

/**
 * "Prepare for printing / CAD": processing settings, the processed result and its report, the
 * before/after view and downloads in every format. Work runs in workers/post.worker.ts. Meshes go
 * there by structured clone (a copy, or shared memory the worker only reads), never transferred, so
 * the viewer's buffers stay intact.
 */
export class PostState {
  settings = $state<PostSettings>(structuredClone(POST_SETTINGS_DEFAULTS));
  status = $state<'idle' | 'running' | 'done' | 'failed'>('idle');
  progress = $state<{ step: PostStep; fraction: number } | null>(null);
  error = $state<UserMessage | null>(null);
  /** The generated mesh (in metres) and its report. */
  source = $state.raw<ResultMesh | null>(null);
  before = $state.raw<MeshInspection | null>(null);
  /** The processed mesh, its report and step log, and its open edges. */
  after = $state.raw<PostResult | null>(null);
  afterEdges = $state.raw<Float32Array | null>(null);
  view = $state<'before' | 'after'>('after');
  format = $state<ExportFormat>('stl');
  stepMaxFaces = $state(20_000);
  exporting = $state(false);
  exportNotes = $state<string[]>([]);
  /** The "Texture" choice and its bake onto the processed mesh. */
  readonly texture = new TextureBake();
  /** Called with each finished processing result (the history keeps it with its entry). */
  onprocessed: ((result: PostResult) => void) | null = null;
  /** Called with the quality report of each new source mesh (the history keeps it with its entry). */
  oninspected: ((report: QualityReport) => void) | null = null;
  private name = 'cadlift-model';
  private worker: Worker | null = null;
  private api: Remote<PostApi> | null = null;
  private nextId = 1;
  private running: { id: number; done: Promise<unknown> } | null = null;

  /** The mesh the viewer shows: the processed one (textured once baked) unless the toggle says "Before". */
  get shown(): ResultMesh | null {
    if (this.view !== 'after' || !this.after) return this.source;
    return this.texture.texturedFor(this.after.mesh) ?? this.after.mesh;
  }

  /** The baked mesh that downloads in `format` use, when the texture is chosen and baked. */
  private texturedDownload(format: ExportFormat): ResultMesh | null {
    if (this.texture.choice.mode !== 'texture' || !TEXTURED_FORMATS.has(format)) return null;
    return this.texture.texturedFor(this.after?.mesh ?? null);
  }

  /** Open edges of the mesh shown (line segments), for the viewer's highlight. */
  get shownEdges(): Float32Array | null {
    return this.view === 'after' && this.after ? this.afterEdges : (this.before?.openEdges ?? null);
  }

  /** A new generation: forget the processed result and inspect the new mesh. */
  setSource(mesh: ResultMesh, name: string): void {
    this.cancel();
    this.source = mesh;
    this.name = name;
    this.before = null;
    this.after = null;
    this.afterEdges = null;
    this.status = 'idle';
    this.error = null;
    this.exportNotes = [];
    this.texture.reset();
    void this.inspectSource(mesh);
  }

  private async inspectSource(mesh: ResultMesh): Promise<void> {
    try {
      const inspection = await this.remote().inspect(mesh, 'm');
      if (this.source !== mesh) return;
      this.before = inspection;
      this.oninspected?.(inspection.report);
    } catch (error) {
      console.error(error);
    }
  }

  /**
   * Shows a processed result kept in the history beside its source (setSource first). Its open
   * edges were not kept, so the highlight waits for the next processing run.
   */
  restore(result: PostResult): void {
    this.after = result;
    this.afterEdges = null;
    this.settings = structuredClone(result.settings);
    this.view = 'after';
    this.status = 'done';
  }

  /** One mesh in the chosen format, as bytes and a file name (batch "Download all"). */
  async exportBytes(mesh: ResultMesh, name: string): Promise<{ bytes: Uint8Array; fileName: string }> {
    const format = this.format;
    const file = await this.remote().exportFile(this.nextId++, format, mesh, { unit: 'm', name, stepMaxFaces: this.stepMaxFaces });
    const { exportFileName } = await import('../export/file-name');
    return { bytes: file.bytes, fileName: exportFileName(name, '', format) };
  }

  /** Runs processing with the current settings; the unprocessed mesh stays as "Before". */
  async run(): Promise<void> {
    const source = this.source;
    if (!source || this.status === 'running') return;
    const id = this.nextId++;
    // The bake belongs to the processed mesh this run replaces.
    this.texture.cancel();
    this.status = 'running';
    this.error = null;
    this.progress = null;
    const settings = $state.snapshot(this.settings) as PostSettings;
    const job = this.remote().process(id, source, settings, proxy((step: PostStep, fraction: number) => {
      if (this.running?.id === id) this.progress = { step, fraction };
    }));
    this.running = { id, done: job.catch(() => undefined) };
    try {
      const { openEdges, ...result } = await job;
      if (this.running?.id !== id) return;
      this.after = result;
      this.afterEdges = openEdges;
      this.view = 'after';
      this.status = 'done';
      this.onprocessed?.(result);
      if (this.texture.choice.mode === 'texture') void this.bakeTexture();
    } catch (error) {
      if (this.running?.id !== id) return;
      if (isAbortError(error)) {
        this.status = this.after ? 'done' : 'idle';
      } else {
        this.status = 'failed';
        this.error = userMessage(error);
      }
    } finally {
      if (this.running?.id === id) {
        this.running = null;
        this.progress = null;
      }
    }
  }

  /** Bakes the chosen texture onto the processed mesh; a download format without textures becomes GLB. */
  async bakeTexture(): Promise<void> {
    const after = this.after;
    if (!after) return;
    await this.texture.bake(after);
    if (this.texture.texturedFor(after.mesh) && !TEXTURED_FORMATS.has(this.format)) this.format = 'glb';
  }

  /** Cancels the running step; a worker stuck in one long call is replaced (nothing in it is kept). */
  cancel(): void {
    this.texture.cancel();
    const job = this.running;
    if (!job) return;
    this.running = null;
    this.progress = null;
    this.status = this.after ? 'done' : 'idle';
    void this.api?.cancel(job.id);
    const worker = this.worker;
    const timer = setTimeout(() => {
      if (this.worker === worker) this.reset();
    }, CANCEL_GRACE_MS);
    void job.done.then(() => clearTimeout(timer));
  }

  /** The file name's processing part: "raw", or e.g. "printable-50k". */
  get processingLabel(): string {
    if (!this.after) return 'raw';
    const s = this.after.settings;
    const parts = [s.printable ? 'printable' : s.cleanup.enabled ? 'clean' : 'processed'];
    if (s.targetTriangles) parts.push(`${Math.round(s.targetTriangles / 1000)}k`);
    return parts.join('-');
  }

  /** Downloads the mesh shown as "After" (or the unprocessed one) in the chosen format. */
  async download(): Promise<void> {
    const format = this.format;
    const textured = this.texturedDownload(format);
    const mesh = textured ?? this.after?.mesh ?? this.source;
    if (!mesh || this.exporting) return;
    this.exporting = true;
    this.exportNotes = [];
    this.error = null;
    const id = this.nextId++;
    try {
      const unit = this.after?.report.unit ?? 'm';
      const closed = (this.after ?? this.before)?.report.watertight;
      const file = await this.remote().exportFile(id, format, mesh, { unit, name: this.name, stepMaxFaces: this.stepMaxFaces, closed });
      const { exportFileName } = await import('../export/file-name');
      const label = textured ? `${this.processingLabel}-texture-${this.texture.choice.size}` : this.processingLabel;
      // A textured OBJ comes as a zip: the file's own extension wins over the format's.
      const fileName = exportFileName(this.name, label, format).replace(/[^.]+$/, file.extension);
      saveFile(new Blob([file.bytes as BlobPart], { type: file.mime }), fileName);
      this.exportNotes = file.warnings;
    } catch (error) {
      if (!isAbortError(error)) this.error = userMessage(error);
    } finally {
      this.exporting = false;
    }
  }

  private remote(): Remote<PostApi> {
    if (!this.api) {
      const worker = new Worker(new URL('../../workers/post.worker.ts', import.meta.url), { type: 'module', name: 'cadlift-post' });
      worker.addEventListener('error', (event) => {
        this.error = userMessage(new AppError('pipeline-crashed', `Processing stopped (${event.message || 'the worker failed'}). Your generated model is kept; try again.`));
        this.status = this.after ? 'done' : 'failed';
        this.reset();
      });
      this.worker = worker;
      this.api = wrap<PostApi>(worker);
    }
    return this.api;
  }

  private reset(): void {
    this.worker?.terminate();
    this.worker = null;
    this.api = null;
  }

  /** Stops the worker (page teardown). */
  dispose(): void {
    this.reset();
  }
}
