/** Streaming through the Node server: real sockets, so buffering anywhere would show. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSse, type SseEvent } from '../src/sse.ts';
import { API_KEY, deferred, startServer, type ServerHarness } from './harness.ts';
import { OPENAI_ERRORS, PNG_B64, USAGE } from './fake-openai.ts';

let s: ServerHarness;
beforeEach(async () => {
  s = await startServer();
});
afterEach(async () => {
  expect(s.logs.join('\n')).not.toContain(API_KEY);
  await s.close();
});

/** Reads events, calling `onEvent` as each arrives; fails if the stream stalls for 5 s. */
async function readEvents(
  res: Response,
  onEvent: (e: SseEvent) => void = () => {},
): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reading = (async () => {
    for await (const event of parseSse(res.body!)) {
      events.push(event);
      onEvent(event);
    }
    return events;
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`stream stalled after ${JSON.stringify(events.map((e) => e.event))}`)),
      5000,
    );
  });
  try {
    return await Promise.race([reading, stall]);
  } finally {
    clearTimeout(timer);
  }
}

describe('stream: true', () => {
  it('forwards each partial image as it arrives, then done', async () => {
    const firstPartialSeen = deferred();
    // The fake holds back its final event until the client has the first partial: a proxy that
    // buffered the stream would stall here.
    s.fake.reply({
      kind: 'stream',
      partials: ['cGFydGlhbDA=', 'cGFydGlhbDE='],
      holdFinal: firstPartialSeen.promise,
    });
    const res = await s.post({ prompt: 'a red ceramic teapot', stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://cadlift.example');

    const events = await readEvents(res, (e) => {
      if (e.event === 'partial') firstPartialSeen.resolve();
    });
    expect(events.map((e) => e.event)).toEqual(['partial', 'partial', 'done']);
    expect(JSON.parse(events[0]!.data)).toEqual({ index: 0, image: 'cGFydGlhbDA=' });
    expect(JSON.parse(events[1]!.data)).toEqual({ index: 1, image: 'cGFydGlhbDE=' });
    const done = JSON.parse(events[2]!.data);
    expect(done).toEqual({
      image: PNG_B64,
      prompt: expect.stringContaining('a red ceramic teapot'),
      usage: USAGE,
      costUsd: 0.04284,
    });

    expect(s.fake.imageRequests[0]!.body).toMatchObject({ stream: true, partial_images: 2 });
    expect(s.fake.imageRequests[0]!.headers.accept).toBe('text/event-stream');
  });

  it('sends an upstream error after the first byte as an error event', async () => {
    s.fake.reply({
      kind: 'stream',
      partials: ['cGFydGlhbDA='],
      errorEvent: OPENAI_ERRORS.moderation.error,
    });
    const res = await s.post({ prompt: 'a chair', stream: true });
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    expect(events.map((e) => e.event)).toEqual(['partial', 'error']);
    expect(JSON.parse(events[1]!.data)).toEqual({
      error: { code: 'moderation_blocked', message: expect.any(String) },
    });
  });

  it('ends the stream with a timeout event at the 120 s deadline', async () => {
    const never = deferred();
    s.fake.reply({ kind: 'stream', partials: ['cGFydGlhbDA='], holdFinal: never.promise });
    const res = await s.post({ prompt: 'a chair', stream: true });
    const events = await readEvents(res, (e) => {
      if (e.event === 'partial') s.clock.advance(120_000);
    });
    expect(events.map((e) => e.event)).toEqual(['partial', 'error']);
    expect(JSON.parse(events[1]!.data).error.code).toBe('timeout');
    await s.fake.imageRequests[0]!.whenAbandoned;
    never.resolve();
  });

  it('never retries once the stream has started', async () => {
    s.fake.reply({ kind: 'stream', partials: ['cGFydGlhbDA='], dropAfterPartials: true });
    const res = await s.post({ prompt: 'a chair', stream: true });
    const events = await readEvents(res);
    expect(events.map((e) => e.event)).toEqual(['partial', 'error']);
    expect(JSON.parse(events[1]!.data).error.code).toBe('upstream_unavailable');
    expect(s.fake.imageRequests).toHaveLength(1);
  });

  it('answers refusals before the stream as plain JSON errors', async () => {
    s.fake.reply({ kind: 'error', status: 400, body: OPENAI_ERRORS.moderation });
    const res = await s.post({ prompt: 'a chair', stream: true });
    expect(res.status).toBe(422);
    expect(((await res.json()) as any).error.code).toBe('moderation_blocked');
  });

  it('aborts the upstream stream when the client leaves', async () => {
    const never = deferred();
    s.fake.reply({ kind: 'stream', partials: ['cGFydGlhbDA='], holdFinal: never.promise });
    const client = new AbortController();
    const res = await s.post({ prompt: 'a chair', stream: true }, { signal: client.signal });
    const reader = parseSse(res.body!);
    expect((await reader.next()).value?.event).toBe('partial');
    client.abort();
    await s.fake.imageRequests[0]!.whenAbandoned;
    expect(s.fake.imageRequests[0]!.abandoned).toBe(true);
    never.resolve();
  });
});
