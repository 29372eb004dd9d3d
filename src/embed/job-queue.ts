import { abortError } from '../lib/errors';

/** One job's work; it must stop (throw an AbortError) once `signal` aborts. */
export type JobWork<T> = (signal: AbortSignal) => Promise<T>;

interface Entry {
  id: string;
  controller: AbortController;
  start: () => void;
}

/**
 * Runs jobs one at a time in the order they were added. `cancel(id)` stops a running job (its
 * signal aborts) or drops a queued one before it starts; either way its promise rejects with an
 * AbortError. Ids are unique among the jobs not yet settled.
 * @example
 * const queue = new JobQueue();
 * queue.add('a', (signal) => generate(photo, signal)).then(send, report);
 * queue.cancel('a');
 */
export class JobQueue {
  private readonly waiting: Entry[] = [];
  private running: Entry | null = null;

  /** True while a job with this id is queued or running. */
  has(id: string): boolean {
    return this.running?.id === id || this.waiting.some((e) => e.id === id);
  }

  /** The running job's id, if any. */
  get current(): string | null {
    return this.running?.id ?? null;
  }

  /** Jobs waiting behind the running one. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Queues `work` under `id`; throws when a job with that id is still queued or running. */
  add<T>(id: string, work: JobWork<T>): Promise<T> {
    if (this.has(id)) throw new Error(`A job with id ${id} is already queued or running.`);
    const controller = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = {
        id,
        controller,
        start: () => {
          this.running = entry;
          // The outcome is settled first and the next job starts a microtask later, so whoever
          // awaits this job hears of it before the next job's first event.
          const settle = (outcome: () => void): void => {
            this.running = null;
            outcome();
            queueMicrotask(() => this.next());
          };
          // A job cancelled at the moment it starts still never runs its work.
          const run = controller.signal.aborted ? Promise.reject(abortError()) : work(controller.signal);
          run.then(
            (value) => settle(() => (controller.signal.aborted ? reject(abortError()) : resolve(value))),
            (error: unknown) => settle(() => reject(controller.signal.aborted ? abortError() : error)),
          );
        },
      };
      controller.signal.addEventListener('abort', () => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) {
          this.waiting.splice(at, 1);
          reject(abortError());
        }
      });
      this.waiting.push(entry);
      if (!this.running) this.next();
    });
  }

  /** Cancels the job `id`; returns false when no such job is queued or running. */
  cancel(id: string): boolean {
    const entry = this.running?.id === id ? this.running : this.waiting.find((e) => e.id === id);
    if (!entry) return false;
    entry.controller.abort();
    return true;
  }

  /** Cancels every job, running and queued. */
  cancelAll(): void {
    for (const entry of [...this.waiting]) entry.controller.abort();
    this.running?.controller.abort();
  }

  private next(): void {
    if (this.running) return;
    const entry = this.waiting.shift();
    entry?.start();
  }
}
