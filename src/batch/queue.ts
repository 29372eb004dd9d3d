/**
 * A queue of jobs in lanes, each lane with its own concurrency (photos one at a time on the GPU,
 * text jobs a few at once). Every job has its state, progress, Cancel and Retry; one failing never
 * stops the others. Plain TypeScript with a subscribe API, so it runs (and is tested) without Svelte:
 * a component or a `*.svelte.ts` state mirrors `jobs` into `$state.raw` from `subscribe`.
 */
import { AppError, isAbortError } from '../lib/errors';

/** Where a job is. */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** One job as listeners see it: a new object whenever anything about it changes. */
export interface Job<I, R, L extends string = string> {
  readonly id: number;
  readonly lane: L;
  readonly name: string;
  readonly input: I;
  readonly state: JobState;
  /** 0..1 while running (as the runner reports it), 1 when done. */
  readonly progress: number;
  /** What the runner is doing ("Decoding the 3D density"). */
  readonly label: string | null;
  readonly error: { code: string; message: string } | null;
  readonly result: R | null;
  /** Runs started, retries included. */
  readonly attempts: number;
}

/** What a runner gets besides its input. */
export interface JobContext {
  /** Aborted when the job is cancelled; the runner should stop and throw an AbortError. */
  signal: AbortSignal;
  /** Reports progress (0..1) and what it is doing. */
  progress(fraction: number, label?: string): void;
}

/** Does one job's work. */
export type JobRunner<I, R> = (input: I, context: JobContext) => Promise<R>;

/** Options for `JobQueue`. */
export interface JobQueueOptions<L extends string> {
  /** Jobs each lane runs at once. */
  concurrency: Record<L, number>;
  /** Turns a failure into what the job list shows; default: an AppError's code and sentence, else a generic one. */
  describeError: (error: unknown) => { code: string; message: string };
}

/** Photos one at a time (the GPU lane), text jobs two at once (requests at the image proxy). */
export const JOB_QUEUE_DEFAULTS: JobQueueOptions<'photo' | 'text'> = {
  concurrency: { photo: 1, text: 2 },
  describeError,
};

/** The default `describeError`. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  const detail = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message: `Something went wrong (${detail}). Retry this job; the others are not affected.` };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Jobs in lanes with bounded concurrency.
 *
 * @example
 * const queue = new JobQueue({ photo: runPhoto, text: runText });
 * queue.subscribe((jobs) => (state.jobs = jobs));
 * for (const file of files) queue.add('photo', file.name, file);
 */
export class JobQueue<I, R, L extends string = 'photo' | 'text'> {
  private readonly options: JobQueueOptions<L>;
  private list: Job<I, R, L>[] = [];
  private nextId = 1;
  private readonly controllers = new Map<number, AbortController>();
  /** Runs still in flight per lane, including cancelled ones whose runner has not returned yet. */
  private readonly busy = new Map<L, number>();
  private readonly listeners = new Set<(jobs: readonly Job<I, R, L>[]) => void>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly runners: Record<L, JobRunner<I, R>>,
    options: Partial<JobQueueOptions<L>> = {},
  ) {
    this.options = { ...(JOB_QUEUE_DEFAULTS as unknown as JobQueueOptions<L>), ...options };
  }

  /** Every job, oldest first. */
  get jobs(): readonly Job<I, R, L>[] {
    return this.list;
  }

  /** Calls `listener` now and after every change; returns the unsubscribe function. */
  subscribe(listener: (jobs: readonly Job<I, R, L>[]) => void): () => void {
    this.listeners.add(listener);
    listener(this.list);
    return () => this.listeners.delete(listener);
  }

  /** Queues a job; returns its id. */
  add(lane: L, name: string, input: I): number {
    if (!(lane in this.runners)) throw new TypeError(`JobQueue.add: no runner for lane “${lane}”.`);
    const job: Job<I, R, L> = { id: this.nextId++, lane, name, input, state: 'queued', progress: 0, label: null, error: null, result: null, attempts: 0 };
    this.list = [...this.list, job];
    this.emit();
    this.pump();
    return job.id;
  }

  /** Cancels a queued or running job (a running one is told through its signal). */
  cancel(id: number): void {
    const job = this.find(id);
    if (!job || (job.state !== 'queued' && job.state !== 'running')) return;
    this.controllers.get(id)?.abort();
    this.controllers.delete(id);
    this.update(id, { state: 'cancelled', label: null });
  }

  /** Cancels every job that has not finished. */
  cancelAll(): void {
    for (const job of this.list) this.cancel(job.id);
  }

  /** Queues a failed or cancelled job again. */
  retry(id: number): void {
    const job = this.find(id);
    if (!job || (job.state !== 'failed' && job.state !== 'cancelled')) return;
    this.update(id, { state: 'queued', progress: 0, label: null, error: null, result: null });
    this.pump();
  }

  /** Drops finished, failed and cancelled jobs from the list. */
  clearFinished(): void {
    this.list = this.list.filter((job) => job.state === 'queued' || job.state === 'running');
    this.emit();
  }

  /** Resolves once no job is queued or running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.list.some((job) => job.state === 'queued') && [...this.busy.values()].every((n) => n === 0);
  }

  private find(id: number): Job<I, R, L> | undefined {
    return this.list.find((job) => job.id === id);
  }

  private update(id: number, patch: Partial<Mutable<Job<I, R, L>>>): void {
    this.list = this.list.map((job) => (job.id === id ? { ...job, ...patch } : job));
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener(this.list);
  }

  /** Starts queued jobs, oldest first, while their lane has room. */
  private pump(): void {
    for (const job of this.list) {
      if (job.state !== 'queued') continue;
      const busy = this.busy.get(job.lane) ?? 0;
      if (busy >= (this.options.concurrency[job.lane] ?? 1)) continue;
      this.busy.set(job.lane, busy + 1);
      void this.start(job);
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async start(job: Job<I, R, L>): Promise<void> {
    const controller = new AbortController();
    this.controllers.set(job.id, controller);
    this.update(job.id, { state: 'running', progress: 0, label: null, attempts: job.attempts + 1 });
    // A result or progress from a run that was cancelled (or retried since) must not land on the job.
    const current = (): boolean => this.controllers.get(job.id) === controller;
    try {
      const result = await this.runners[job.lane](job.input, {
        signal: controller.signal,
        progress: (fraction, label) => {
          if (current()) this.update(job.id, { progress: Math.min(1, Math.max(0, fraction)), label: label ?? this.find(job.id)?.label ?? null });
        },
      });
      if (current()) this.update(job.id, { state: 'done', progress: 1, label: null, result });
    } catch (error) {
      if (current()) {
        if (isAbortError(error)) this.update(job.id, { state: 'cancelled', label: null });
        else this.update(job.id, { state: 'failed', label: null, error: this.options.describeError(error) });
      }
    } finally {
      if (current()) this.controllers.delete(job.id);
      // The lane's slot is freed only now, even after a cancel: a runner that has not stopped yet
      // may still hold the GPU, and the photo lane promises one job on it at a time.
      this.busy.set(job.lane, (this.busy.get(job.lane) ?? 1) - 1);
      this.pump();
    }
  }
}
