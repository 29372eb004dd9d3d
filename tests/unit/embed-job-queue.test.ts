import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/embed/job-queue';
import { isAbortError } from '../../src/lib/errors';

/** A job that runs until `finish` or its signal aborts, recording when it started. */
function controllable(log: string[], name: string) {
  let finish: (value: string) => void = () => undefined;
  const work = (signal: AbortSignal) =>
    new Promise<string>((resolve, reject) => {
      log.push(`start ${name}`);
      finish = resolve;
      signal.addEventListener('abort', () => reject(new DOMException('stopped', 'AbortError')));
    });
  return { work, finish: (value: string) => finish(value) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const settled = <T>(p: Promise<T>) => p.then((v) => ({ ok: true as const, v }), (e: unknown) => ({ ok: false as const, e }));

describe('JobQueue', () => {
  it('runs jobs one at a time in the order they were added', async () => {
    const log: string[] = [];
    const queue = new JobQueue();
    const a = controllable(log, 'a');
    const b = controllable(log, 'b');
    const pa = queue.add('a', a.work);
    const pb = queue.add('b', b.work);
    expect(log).toEqual(['start a']);
    expect(queue.current).toBe('a');
    expect(queue.queued).toBe(1);
    a.finish('A');
    expect(await pa).toBe('A');
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    b.finish('B');
    expect(await pb).toBe('B');
    expect(queue.current).toBeNull();
  });

  it('cancel stops the running job, which rejects with AbortError, and the next one starts', async () => {
    const log: string[] = [];
    const queue = new JobQueue();
    const a = controllable(log, 'a');
    const b = controllable(log, 'b');
    const pa = settled(queue.add('a', a.work));
    const pb = queue.add('b', b.work);
    expect(queue.cancel('a')).toBe(true);
    const outcome = await pa;
    expect(outcome.ok === false && isAbortError(outcome.e)).toBe(true);
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    b.finish('B');
    expect(await pb).toBe('B');
  });

  it("delivers a job's outcome before the next job starts", async () => {
    const log: string[] = [];
    const queue = new JobQueue();
    const a = controllable(log, 'a');
    const b = controllable(log, 'b');
    const pa = queue.add('a', a.work).then(
      () => log.push('a settled'),
      () => log.push('a cancelled'),
    );
    void queue.add('b', b.work).catch(() => undefined);
    queue.cancel('a');
    await pa;
    await tick();
    expect(log).toEqual(['start a', 'a cancelled', 'start b']);
    queue.cancelAll();
  });

  it('cancel drops a queued job before it starts', async () => {
    const log: string[] = [];
    const queue = new JobQueue();
    const a = controllable(log, 'a');
    const b = controllable(log, 'b');
    const c = controllable(log, 'c');
    const pa = queue.add('a', a.work);
    const pb = settled(queue.add('b', b.work));
    const pc = queue.add('c', c.work);
    expect(queue.cancel('b')).toBe(true);
    const outcome = await pb;
    expect(outcome.ok === false && isAbortError(outcome.e)).toBe(true);
    a.finish('A');
    await pa;
    await tick();
    expect(log).toEqual(['start a', 'start c']);
    c.finish('C');
    expect(await pc).toBe('C');
  });

  it('a job that ignores its signal still reports the cancellation, not its value', async () => {
    const queue = new JobQueue();
    let finish: () => void = () => undefined;
    const p = settled(queue.add('a', () => new Promise<string>((resolve) => (finish = () => resolve('late')))));
    queue.cancel('a');
    finish();
    const outcome = await p;
    expect(outcome.ok === false && isAbortError(outcome.e)).toBe(true);
  });

  it('refuses a second job with the id of one not yet settled, and forgets settled ids', async () => {
    const queue = new JobQueue();
    const p = queue.add('a', async () => 1);
    expect(() => queue.add('a', async () => 2)).toThrow(/already/);
    expect(await p).toBe(1);
    expect(await queue.add('a', async () => 3)).toBe(3);
    expect(queue.cancel('missing')).toBe(false);
  });

  it('a failing job rejects with its error and the queue goes on', async () => {
    const queue = new JobQueue();
    const failing = settled(queue.add('a', async () => { throw new Error('boom'); }));
    const next = queue.add('b', async () => 'fine');
    const outcome = await failing;
    expect(outcome.ok === false && (outcome.e as Error).message).toBe('boom');
    expect(await next).toBe('fine');
  });
});
