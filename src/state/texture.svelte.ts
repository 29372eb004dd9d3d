import { isAbortError } from '../lib/errors';
import type { PostResult } from '../post/types';
import type { ResultMesh } from '../shared/mesh';
import type { BakeRequest, TexturedMesh, TextureSize } from '../texture/types';
import { userMessage, type UserMessage } from './messages';

/** The steps a bake reports, in order. */
export type BakeStep = 'unwrap' | 'bake';

/** What the shown result was generated from, as a bake needs it. */
export interface BakeSource {
  /** [1, 3, 40, 64, 64]. */
  triplane: Float32Array;
  /** The density threshold the mesh was extracted at. */
  threshold: number;
}

/** What baking needs from the app: the shown result's triplane and the pipeline worker. */
export interface TextureHost {
  /** The triplane of the result now shown, or null when none was kept (an old history entry). */
  source(): Promise<BakeSource | null>;
  /** Runs the bake in the pipeline worker; aborting `signal` stops it (an AbortError). */
  bake(request: BakeRequest, onProgress: (step: BakeStep, fraction: number) => void, signal: AbortSignal): Promise<TexturedMesh>;
  /** True when the pipeline runs on the CPU (WASM), where large bakes take minutes. */
  onCpu?(): boolean;
}

/** The processing panel's colour choice. */
export interface TextureChoice {
  mode: 'vertex' | 'texture';
  size: TextureSize;
}

/** Formats that carry the texture; the rest write geometry and vertex colours. */
export const TEXTURED_FORMATS: ReadonlySet<string> = new Set(['glb', 'obj', 'usdz']);

/**
 * The "Texture" choice of the processing panel and its bake: after processing, the processed mesh is
 * unwrapped and its colours baked from the triplane into a texture (workers/pipeline-core.ts). The
 * result belongs to one processed mesh; a new source or processing run replaces it.
 */
export class TextureBake {
  choice = $state<TextureChoice>({ mode: 'vertex', size: 1024 });
  status = $state<'idle' | 'running' | 'done' | 'failed'>('idle');
  progress = $state<{ step: BakeStep; fraction: number } | null>(null);
  error = $state<UserMessage | null>(null);
  /** Why a texture cannot be baked for the result shown (null: it can; 'checking' while unknown). */
  unavailable = $state<string | null>('Generate a model first.');
  /** The before/after of the viewer for a baked mesh: its vertex colours or its texture. */
  view = $state<'vertex' | 'texture'>('texture');
  /** The last bake, and the processed mesh it was baked for. */
  result = $state.raw<TexturedMesh | null>(null);
  host: TextureHost | null = null;
  private bakedFrom: ResultMesh | null = null;
  private source: Promise<BakeSource | null> | null = null;
  private job = 0;
  private controller: AbortController | null = null;

  /** A new result is shown: forget the bake and find out whether this one can have a texture. */
  reset(): void {
    this.cancel();
    this.result = null;
    this.bakedFrom = null;
    this.status = 'idle';
    this.error = null;
    this.source = null;
    if (!this.host) {
      this.unavailable = 'Textures are not available in this window.';
      return;
    }
    this.unavailable = 'checking';
    const source = this.host.source().catch((error: unknown) => {
      console.error(error);
      return null;
    });
    this.source = source;
    void source.then((found) => {
      if (this.source !== source) return;
      this.unavailable = found
        ? null
        : 'This model was kept without the data a texture is baked from (older history entry). Generate it again to bake a texture.';
    });
  }

  /** The textured version of `mesh`, when the last bake was of it at the chosen size. */
  texturedFor(mesh: ResultMesh | null): TexturedMesh | null {
    const result = this.result;
    if (!mesh || !result || this.bakedFrom !== mesh || result.texture.width !== this.choice.size) return null;
    return result;
  }

  /**
   * Why no texture can be chosen: the result has no triplane, or `processed` was kept before
   * textures existed and lacks its frame. Null while that is still being found out.
   */
  blockedFor(processed: PostResult | null): string | null {
    if (this.unavailable === 'checking') return null;
    if (this.unavailable) return this.unavailable;
    if (processed && !processed.toSource) return 'Prepare the model again to bake a texture (this result was kept before textures existed).';
    return null;
  }

  /** Bakes the chosen size onto `processed`'s mesh; the viewer and textured downloads then use it. */
  async bake(processed: PostResult): Promise<void> {
    if (this.choice.mode !== 'texture' || !this.host || this.status === 'running') return;
    const id = ++this.job;
    this.status = 'running';
    this.error = null;
    this.progress = null;
    const source = await this.source;
    if (this.job !== id) return;
    const blocked = this.blockedFor(processed);
    const toSource = processed.toSource;
    if (blocked || !source || !toSource) {
      this.status = 'failed';
      this.error = { code: 'texture-unavailable', message: `No texture was baked. ${blocked ?? 'The model’s triplane was not found; generate it again.'}` };
      return;
    }
    const size = this.choice.size;
    const controller = new AbortController();
    this.controller = controller;
    try {
      const request: BakeRequest = { triplane: source.triplane, mesh: processed.mesh, toSource, size, threshold: source.threshold };
      const textured = await this.host.bake(
        request,
        (step, fraction) => {
          if (this.job === id) this.progress = { step, fraction };
        },
        controller.signal,
      );
      if (this.job !== id) return;
      this.result = textured;
      this.bakedFrom = processed.mesh;
      this.view = 'texture';
      this.status = 'done';
    } catch (error) {
      if (this.job !== id) return;
      if (isAbortError(error)) {
        this.status = this.result ? 'done' : 'idle';
      } else {
        this.status = 'failed';
        this.error = userMessage(error);
      }
    } finally {
      if (this.job === id) {
        this.progress = null;
        this.controller = null;
      }
    }
  }

  /** Stops a running bake; the last finished one stays. */
  cancel(): void {
    if (this.status !== 'running') return;
    this.job++;
    this.progress = null;
    this.status = this.result ? 'done' : 'idle';
    this.controller?.abort();
    this.controller = null;
  }
}
