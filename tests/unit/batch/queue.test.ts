import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/lib/errors';
import { JobQueue, type JobContext } from '../../../src/batch/queue';

/** A runner whose runs the test finishes by hand: no timers. */
function manualRunner() {
  const runs: { input: string; context: JobContext; resolve(v: string): void; reject(e: unknown): void }[] = [];
  const runner = (input: string, context: JobContext): Promise<string> =>
    new Promise((resolve, reject) => runs.push({ input, context, resolve, reject }));
  return { runner, runs };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('JobQueue', () => {
  it('runs photos one at a time and text jobs two at a time, in order', async () => {
    const photo = manualRunner();
    const text = manualRunner();
    const queue = new JobQueue({ photo: photo.runner, text: text.runner });
    for (const p of ['a', 'b', 'c']) queue.add('photo', p, p);
    for (const t of ['x', 'y', 'z']) queue.add('text', t, t);
    await settle();
    expect(photo.runs.map((r) => r.input)).toEqual(['a']);
    expect(text.runs.map((r) => r.input)).toEqual(['x', 'y']);
    expect(queue.jobs.map((j) => j.state)).toEqual(['running', 'queued', 'queued', 'running', 'running', 'queued']);

    text.runs[1]!.resolve('Y');
    await settle();
    expect(text.runs.map((r) => r.input)).toEqual(['x', 'y', 'z']);
    photo.runs[0]!.resolve('A');
    await settle();
    expect(photo.runs.map((r) => r.input)).toEqual(['a', 'b']);
    expect(queue.jobs.filter((j) => j.state === 'done').map((j) => j.result)).toEqual(['A', 'Y']);
  });

  it('keeps going after a failure, which only its own job shows', async () => {
    const photo = manualRunner();
    const queue = new JobQueue({ photo: photo.runner, text: photo.runner });
    for (const p of ['ok1', 'unreadable', 'ok2']) queue.add('photo', p, p);
    await settle();
    photo.runs[0]!.resolve('1');
    await settle();
    photo.runs[1]!.reject(new AppError('image-unreadable', 'This file is not an image CADLift can read; pick a PNG, JPEG or WebP.'));
    await settle();
    photo.runs[2]!.context.progress(0.5, 'Decoding');
    photo.runs[2]!.context.progress(0.75);
    await settle();
    expect(queue.jobs[2]).toMatchObject({ state: 'running', progress: 0.75, label: 'Decoding' });
    photo.runs[2]!.resolve('2');
    await queue.idle();
    expect(queue.jobs.map((j) => [j.state, j.result, j.error?.code ?? null])).toEqual([
      ['done', '1', null],
      ['failed', null, 'image-unreadable'],
      ['done', '2', null],
    ]);
    // A bug (not an AppError) gets the generic message.
    queue.add('photo', 'bug', 'bug');
    await settle();
    photo.runs[3]!.reject(new RangeError('index out of range'));
    await queue.idle();
    expect(queue.jobs[3]!.error).toEqual({ code: 'internal', message: expect.stringMatching(/index out of range.*Retry this job/) as unknown as string });
  });

  it('cancels a queued job without running it, and a running one through its signal', async () => {
    const photo = manualRunner();
    const queue = new JobQueue({ photo: photo.runner, text: photo.runner });
    const a = queue.add('photo', 'a', 'a');
    const b = queue.add('photo', 'b', 'b');
    const c = queue.add('photo', 'c', 'c');
    await settle();
    queue.cancel(b);
    queue.cancel(a);
    expect(photo.runs[0]!.context.signal.aborted).toBe(true);
    expect(queue.jobs.map((j) => j.state)).toEqual(['cancelled', 'cancelled', 'queued']);
    // The photo lane stays held until the cancelled runner has really stopped: never two on the GPU.
    await settle();
    expect(photo.runs).toHaveLength(1);
    photo.runs[0]!.resolve('late result');
    await settle();
    expect(queue.jobs[0]).toMatchObject({ state: 'cancelled', result: null });
    expect(photo.runs.map((r) => r.input)).toEqual(['a', 'c']);
    photo.runs[1]!.reject(new DOMException('The operation was cancelled.', 'AbortError'));
    await queue.idle();
    expect(queue.jobs.find((j) => j.id === c)?.state).toBe('cancelled');
  });

  it('retries a failed or cancelled job, ignoring what the old run reports', async () => {
    const photo = manualRunner();
    const queue = new JobQueue({ photo: photo.runner, text: photo.runner });
    const id = queue.add('photo', 'a', 'a');
    await settle();
    photo.runs[0]!.reject(new Error('boom'));
    await settle();
    expect(queue.jobs[0]).toMatchObject({ state: 'failed', attempts: 1 });
    queue.retry(id);
    await settle();
    expect(queue.jobs[0]).toMatchObject({ state: 'running', attempts: 2, error: null });
    queue.cancel(id);
    queue.retry(id);
    photo.runs[1]!.context.progress(0.9, 'stale');
    photo.runs[1]!.resolve('stale');
    await settle();
    expect(photo.runs).toHaveLength(3);
    expect(queue.jobs[0]).toMatchObject({ state: 'running', attempts: 3, progress: 0, label: null });
    photo.runs[2]!.resolve('fresh');
    await queue.idle();
    expect(queue.jobs[0]).toMatchObject({ state: 'done', result: 'fresh', progress: 1 });
    queue.retry(id); // a finished job is not run again
    expect(queue.jobs[0]!.state).toBe('done');
  });

  it('tells subscribers about every change with new job objects', async () => {
    const photo = manualRunner();
    const queue = new JobQueue({ photo: photo.runner, text: photo.runner });
    const seen: string[] = [];
    let previous: unknown = null;
    const stop = queue.subscribe((jobs) => {
      if (jobs.length) expect(jobs[0]).not.toBe(previous);
      previous = jobs[0];
      seen.push(jobs.map((j) => `${j.state}:${j.progress}`).join(','));
    });
    queue.add('photo', 'a', 'a');
    await settle();
    photo.runs[0]!.context.progress(0.5);
    photo.runs[0]!.resolve('A');
    await queue.idle();
    stop();
    queue.clearFinished();
    expect(seen).toEqual(['', 'queued:0', 'running:0', 'running:0.5', 'done:1']);
    expect(queue.jobs).toEqual([]);
  });

  it('refuses a lane without a runner', () => {
    const queue = new JobQueue<string, string, 'photo'>({ photo: manualRunner().runner }, { concurrency: { photo: 1 } });
    expect(() => queue.add('text' as 'photo', 't', 't')).toThrow(TypeError);
  });
});
