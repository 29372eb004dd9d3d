import { JobQueue, type Job, type JobContext } from '../batch/queue';
import type { GenerateResult, PipelineEvent, Stage } from '../shared/pipeline';

/** A finished batch job: its mesh and the name it was saved under. */
export interface BatchResult {
  result: GenerateResult;
  name: string;
}

export type BatchJob = Job<Blob, BatchResult, 'photo'>;

/** What a batch needs from the page. */
export interface BatchHost {
  /**
   * Runs one photo through the pipeline (in the GPU lane, after any job already there) and keeps it
   * in the history; `onEvent` receives its progress.
   */
  meshPhoto(photo: Blob, name: string, onEvent: (event: PipelineEvent) => void, signal: AbortSignal): Promise<GenerateResult>;
  /** One mesh in the chosen download format. */
  exportBytes(result: GenerateResult, name: string): Promise<{ bytes: Uint8Array; fileName: string }>;
  /** Shows a finished job in the viewer. */
  show(result: GenerateResult, name: string): void;
  /** A job finished (the page shows it when the viewer is empty). */
  finished(result: GenerateResult, name: string): void;
  /** Offers the zip as a download. */
  download(data: Blob, fileName: string): void;
}

/** How far into a job each stage starts, for one progress bar per job. */
const STAGE_SHARE: Record<Stage, [number, number]> = {
  prepare: [0, 0.05],
  download: [0.05, 0.15],
  encoder: [0.15, 0.35],
  decode: [0.35, 0.9],
  mesh: [0.9, 1],
};
const STAGE_LABEL: Record<Stage, string> = {
  prepare: 'Preparing the image',
  download: 'Loading the model',
  encoder: 'Reading the photo',
  decode: 'Decoding the 3D density',
  mesh: 'Building the mesh',
};

/**
 * Many photos at once: each is a job with its own progress, cancel and retry (src/batch/queue.ts).
 * Photos run one at a time on the GPU, behind whatever job the GPU lane already holds; a photo that
 * cannot be read fails its own job only. Every finished job lands in the history.
 */
export class BatchState {
  jobs = $state.raw<readonly BatchJob[]>([]);
  zipping = $state(false);
  error = $state<string | null>(null);
  private readonly queue: JobQueue<Blob, BatchResult, 'photo'>;

  constructor(private readonly host: BatchHost) {
    this.queue = new JobQueue<Blob, BatchResult, 'photo'>({ photo: (photo, context) => this.runPhoto(photo, context) }, { concurrency: { photo: 1 } });
    this.queue.subscribe((jobs) => (this.jobs = jobs));
  }

  /** Queues every photo; names come from the file names. */
  add(files: readonly File[]): void {
    for (const file of files) this.queue.add('photo', file.name.replace(/\.[^.]+$/, '') || 'photo', file);
  }

  cancel(id: number): void {
    this.queue.cancel(id);
  }

  cancelAll(): void {
    this.queue.cancelAll();
  }

  retry(id: number): void {
    this.queue.retry(id);
  }

  clearFinished(): void {
    this.queue.clearFinished();
  }

  /** Shows a finished job in the viewer. */
  open(id: number): void {
    const job = this.jobs.find((j) => j.id === id);
    if (job?.result) this.host.show(job.result.result, job.result.name);
  }

  /** Resolves once nothing is queued or running (tests, and "Download all" after the last job). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Every finished job's mesh in the chosen format, in one zip. */
  async downloadAll(): Promise<void> {
    this.zipping = true;
    this.error = null;
    try {
      const { zipFinished } = await import('../batch/download-all');
      const { zip } = await zipFinished(this.jobs, async (job) => {
        const { bytes, fileName } = await this.host.exportBytes(job.result.result, job.result.name);
        return { name: fileName, bytes };
      });
      this.host.download(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), `cadlift-batch-${new Date().toISOString().slice(0, 10)}.zip`);
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.zipping = false;
    }
  }

  private async runPhoto(photo: Blob, context: JobContext): Promise<BatchResult> {
    const name = this.jobs.find((j) => j.input === photo)?.name ?? 'photo';
    const onEvent = (event: PipelineEvent): void => {
      if (event.type === 'stage' && event.state === 'start') {
        context.progress(STAGE_SHARE[event.stage][0], STAGE_LABEL[event.stage]);
      } else if (event.type === 'progress') {
        const [from, to] = STAGE_SHARE[event.stage];
        context.progress(from + (to - from) * event.fraction, STAGE_LABEL[event.stage]);
      }
    };
    const result = await this.host.meshPhoto(photo, name, onEvent, context.signal);
    this.host.finished(result, name);
    return { result, name };
  }
}
