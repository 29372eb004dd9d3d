import { isAbortError } from '../lib/errors';
import { appTurnstile } from '../lib/turnstile';
import { TEXT_TO_IMAGE_DEFAULTS, textToImage, type ImageQuality, type ImageSize } from '../lib/text-to-image';
import type { GenerateResult, PipelineEvent, Stage } from '../shared/pipeline';
import { userMessage } from './messages';

/** Where a text job is: drawing at the proxy, waiting for or using the GPU, or finished. */
export type TextJobState = 'queued' | 'drawing' | 'waiting-gpu' | 'meshing' | 'done' | 'failed' | 'cancelled';

/** One prompt's way to a mesh, as the job list shows it. */
export interface TextJob {
  id: number;
  prompt: string;
  size: ImageSize;
  quality: ImageQuality;
  state: TextJobState;
  /** Object URL of the latest partial image, then of the final one. */
  imageUrl: string | null;
  /** The prompt the proxy really sent (rewritten for image-to-3D). */
  sentPrompt: string | null;
  costUsd: number | null;
  stage: Stage | null;
  error: { code: string; message: string } | null;
  result: GenerateResult | null;
}

/** What the queue needs from the rest of the app. */
export interface TextJobHost {
  proxyUrl: string;
  ensureConsent(): Promise<boolean>;
  /** Meshes the drawn picture; `prompt` names it (and goes with it into the history). */
  meshImage(image: Blob, onEvent: (event: PipelineEvent) => void, signal: AbortSignal, prompt: string): Promise<GenerateResult>;
  showResult(result: GenerateResult, name: string): void;
  /** A fresh Turnstile token per request; defaults to the Text tab's widget when the build has a site key. */
  turnstileToken?: (signal?: AbortSignal) => Promise<string>;
}

/** Concurrency limits: requests in flight at the proxy (the GPU lane runs one job at a time anyway). */
export const TEXT_JOB_DEFAULTS = { proxyConcurrency: 2 } as const;

/**
 * The queue of text → image → 3D jobs: up to two images drawn at once, one mesh at a time, each job
 * with its own progress and Cancel; one job failing leaves the others running.
 */
export class TextJobs {
  jobs = $state<TextJob[]>([]);
  private nextId = 1;
  private controllers = new Map<number, AbortController>();
  private readonly turnstileToken: TextJobHost['turnstileToken'];

  constructor(
    private readonly host: TextJobHost,
    private readonly proxyConcurrency: number = TEXT_JOB_DEFAULTS.proxyConcurrency,
  ) {
    const turnstile = appTurnstile();
    this.turnstileToken = host.turnstileToken ?? (turnstile ? (signal) => turnstile.token(signal) : undefined);
  }

  /** Queues a prompt; returns its job id. */
  add(prompt: string, size: ImageSize = TEXT_TO_IMAGE_DEFAULTS.size, quality: ImageQuality = TEXT_TO_IMAGE_DEFAULTS.quality): number {
    const job: TextJob = {
      id: this.nextId++,
      prompt: prompt.trim(),
      size,
      quality,
      state: 'queued',
      imageUrl: null,
      sentPrompt: null,
      costUsd: null,
      stage: null,
      error: null,
      result: null,
    };
    this.jobs.push(job);
    this.pump();
    return job.id;
  }

  /** Cancels a job wherever it is (queued, drawing, waiting for or on the GPU). */
  cancel(id: number): void {
    const job = this.find(id);
    if (!job || job.state === 'done' || job.state === 'failed' || job.state === 'cancelled') return;
    this.controllers.get(id)?.abort();
    this.controllers.delete(id);
    job.state = 'cancelled';
    job.stage = null;
    this.pump();
  }

  /** Draws a new image for the same prompt and meshes it again. */
  regenerate(id: number): void {
    const job = this.find(id);
    if (!job) return;
    this.cancel(id);
    this.add(job.prompt, job.size, job.quality);
  }

  /** Shows a finished job's mesh in the viewer. */
  show(id: number): void {
    const job = this.find(id);
    if (job?.result) this.host.showResult(job.result, slug(job.prompt));
  }

  private find(id: number): TextJob | undefined {
    return this.jobs.find((j) => j.id === id);
  }

  private pump(): void {
    const drawing = this.jobs.filter((j) => j.state === 'drawing').length;
    const free = this.proxyConcurrency - drawing;
    for (const job of this.jobs.filter((j) => j.state === 'queued').slice(0, Math.max(0, free))) {
      void this.runJob(job.id);
    }
  }

  private async runJob(id: number): Promise<void> {
    const controller = new AbortController();
    this.controllers.set(id, controller);
    const { signal } = controller;
    // Reads through the proxy so Svelte sees every change.
    const job = (): TextJob => this.find(id)!;
    job().state = 'drawing';
    try {
      const drawn = await textToImage(this.host.proxyUrl, job().prompt, {
        size: job().size,
        quality: job().quality,
        signal,
        turnstileToken: this.turnstileToken,
        onPartial: (image) => {
          if (!signal.aborted) this.setImage(id, image);
        },
      });
      if (signal.aborted) return;
      this.setImage(id, drawn.image);
      job().sentPrompt = drawn.prompt;
      job().costUsd = drawn.costUsd;
      job().state = 'waiting-gpu';
      this.pump();
      if (!(await this.host.ensureConsent())) {
        job().state = 'cancelled';
        return;
      }
      const result = await this.host.meshImage(
        drawn.image,
        (event) => {
          if (event.type === 'stage' && event.state === 'start') {
            job().state = 'meshing';
            job().stage = event.stage;
          }
        },
        signal,
        job().prompt,
      );
      if (signal.aborted) return;
      job().result = result;
      job().state = 'done';
      job().stage = null;
      this.host.showResult(result, slug(job().prompt));
    } catch (error) {
      if (signal.aborted || isAbortError(error)) return;
      job().state = 'failed';
      job().stage = null;
      job().error = userMessage(error);
    } finally {
      if (this.controllers.get(id) === controller) this.controllers.delete(id);
      this.pump();
    }
  }

  private setImage(id: number, image: Blob): void {
    const job = this.find(id)!;
    if (job.imageUrl) URL.revokeObjectURL(job.imageUrl);
    job.imageUrl = URL.createObjectURL(image);
  }
}

/** A file-name-safe short form of a prompt, for downloads. */
function slug(prompt: string): string {
  return prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'cadlift-model';
}
