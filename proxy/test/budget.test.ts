import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/store.ts';
import { deferred, setup, type Harness } from './harness.ts';
import type { Reply } from './fake-openai.ts';

let h: Harness | undefined;
afterEach(async () => {
  h?.assertNoKeyLeak();
  await h?.close();
  h = undefined;
});

describe('daily budget under concurrent requests', () => {
  it('lets through only what the cap can pay for, however many arrive at once', async () => {
    // Each medium 1024² request reserves about $0.0443; $0.2 pays for 4 of them.
    h = await setup({ DAILY_BUDGET_USD: '0.2', RATE_LIMIT_PER_MINUTE: '100' });
    const release = deferred();
    h.fake.reply(...Array<Reply>(10).fill({ kind: 'image', hold: release.promise }));

    const pending = Array.from({ length: 10 }, () => h!.post({ prompt: 'a red ceramic teapot' }));
    // Every request is in flight or refused before any upstream answer comes back.
    await h.fake.waitForRequests(4);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.fake.imageRequests).toHaveLength(4);
    const during = await h.store.snapshot('2026-01-15');
    expect(during.reservedTodayUsd).toBeGreaterThan(0.17);
    expect(during.reservedTodayUsd).toBeLessThanOrEqual(0.2);

    release.resolve();
    const statuses = (await Promise.all(pending)).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 402, 402, 402, 402, 402, 402]);

    // Settled from usage: 4 × $0.04284, nothing left reserved.
    const after = await h.store.snapshot('2026-01-15');
    expect(after.spentTodayUsd).toBeCloseTo(0.17136, 6);
    expect(after.reservedTodayUsd).toBe(0);
  });
});

describe('MemoryStore', () => {
  const day = '2026-01-15';
  const t0 = Date.UTC(2026, 0, 15, 12);

  it('reserves atomically and settles what was really spent', async () => {
    const store = new MemoryStore();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.reserveBudget(day, 0.3, 1, t0)),
    );
    const granted = results.filter((r) => r.granted);
    expect(granted).toHaveLength(3);
    const first = granted[0]!;
    if (!first.granted) throw new Error('unreachable');
    await store.settleBudget(first.id, 0.1);
    await store.settleBudget(first.id, 0.1); // settling twice books once
    expect((await store.reserveBudget(day, 0.3, 1, t0)).granted).toBe(true);
    const snapshot = await store.snapshot(day);
    expect(snapshot.spentTodayUsd).toBe(0.1);
    expect(snapshot.reservedTodayUsd).toBe(0.9);
    expect(snapshot.spentTotalUsd).toBe(0.1);
  });

  it('books a reservation nobody settled at its estimate after 10 minutes', async () => {
    const store = new MemoryStore();
    expect((await store.reserveBudget(day, 0.4, 1, t0)).granted).toBe(true);
    expect((await store.reserveBudget(day, 0.7, 1, t0 + 5 * 60_000)).granted).toBe(false);
    expect((await store.reserveBudget(day, 0.1, 1, t0 + 11 * 60_000)).granted).toBe(true);
    const snapshot = await store.snapshot(day);
    expect(snapshot.spentTodayUsd).toBe(0.4);
    expect(snapshot.reservedTodayUsd).toBe(0.1);
  });

  it('reloads open reservations, reports each change to persist, and says when the next expires', async () => {
    const reserved: string[] = [];
    const settled: [string, number, string][] = [];
    const store = new MemoryStore({
      spentByDay: { [day]: 0.2 },
      held: { old: { day, estimateUsd: 0.5, atMs: t0 } },
      onReserve: (id) => reserved.push(id),
      onSpend: (d, spent, id) => settled.push([d, spent, id]),
    });
    expect(store.nextExpiryMs()).toBe(t0 + 10 * 60_000);
    // $0.2 spent + $0.5 held: $0.4 more would pass the $1 cap.
    expect((await store.reserveBudget(day, 0.4, 1, t0 + 60_000)).granted).toBe(false);
    const fresh = await store.reserveBudget(day, 0.2, 1, t0 + 60_000);
    if (!fresh.granted) throw new Error('expected a reservation');
    expect(reserved).toEqual([fresh.id]);
    store.expire(t0 + 10 * 60_000);
    expect(settled).toEqual([[day, 0.7, 'old']]);
    expect(store.nextExpiryMs()).toBe(t0 + 11 * 60_000);
    await store.settleBudget('old', 0.1); // already booked at its estimate
    await store.settleBudget(fresh.id, 0.15);
    expect(store.nextExpiryMs()).toBeUndefined();
    const snapshot = await store.snapshot(day);
    expect(snapshot.spentTodayUsd).toBe(0.85);
    expect(snapshot.reservationsOpen).toBe(0);
  });

  it('keeps days apart and reports persisted spend', async () => {
    const saved: [string, number, string][] = [];
    const store = new MemoryStore({
      spentByDay: { '2026-01-14': 0.5 },
      onSpend: (d, spent, id) => saved.push([d, spent, id]),
    });
    expect((await store.reserveBudget('2026-01-14', 0.6, 1, t0)).granted).toBe(false);
    const reservation = await store.reserveBudget(day, 0.6, 1, t0);
    if (!reservation.granted) throw new Error('expected a reservation');
    await store.settleBudget(reservation.id, 0.25);
    expect(saved).toEqual([[day, 0.25, reservation.id]]);
  });

  it('counts a sliding minute per client', async () => {
    const store = new MemoryStore();
    const t0 = 1_000_000;
    expect(await store.takeRateLimit('a', 2, t0)).toEqual({ allowed: true });
    expect(await store.takeRateLimit('a', 2, t0 + 20_000)).toEqual({ allowed: true });
    expect(await store.takeRateLimit('a', 2, t0 + 30_000)).toEqual({
      allowed: false,
      retryAfterS: 30,
    });
    expect(await store.takeRateLimit('b', 2, t0 + 30_000)).toEqual({ allowed: true });
    expect(await store.takeRateLimit('a', 2, t0 + 60_001)).toEqual({ allowed: true });
    expect(await store.takeRateLimit('a', 2, t0 + 60_002)).toEqual({
      allowed: false,
      retryAfterS: 20,
    });
  });
});
