/**
 * The Durable Object's budget across restarts: a restart is a new workerd (Miniflare) on the same
 * persistence directory, which is what an eviction looks like to the object.
 */
import { Miniflare } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '../src/clock.ts';
import { RESERVATION_TTL_MS, type Reservation, type Store } from '../src/store.ts';
import { deferred, METRICS_TOKEN } from './harness.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';
import { bundleWorker, workerFromWranglerConfig, workerPost } from './workerd-harness.ts';

let script: string;
let fake: FakeOpenAI;
let dir: string;
let mf: Miniflare | undefined;

beforeAll(async () => {
  script = await bundleWorker();
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await mf?.dispose();
  mf = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Starts workerd on `dir`'s persisted storage, replacing the one running. */
async function restart(): Promise<Miniflare> {
  await mf?.dispose();
  mf = new Miniflare({
    workers: [workerFromWranglerConfig('proxy', script, fake.url, {})],
    durableObjectsPersist: dir,
    handleStructuredLogs: () => {},
  });
  await mf.ready;
  return mf;
}

/** The one global ProxyStoreObject, over RPC: its methods are the Store interface. */
async function store(runtime: Miniflare): Promise<Store> {
  const namespace = await runtime.getDurableObjectNamespace('PROXY_STORE', 'proxy');
  return namespace.get(namespace.idFromName('global')) as unknown as Store;
}

async function metric(runtime: Miniflare, name: string): Promise<number> {
  const res = await runtime.dispatchFetch('http://proxy.example/metrics', {
    headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`cadlift_proxy_${name} `));
  return Number(line?.split(' ')[1]);
}

describe('budget across Durable Object restarts', () => {
  it('settles a reservation made before a restart, once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'proxy-do-'));
    const day = utcDay(Date.now());
    const before = await store(await restart());
    // Plain data: what an RPC answer holds dies with its runtime.
    const reservation = JSON.parse(
      JSON.stringify(await before.reserveBudget(day, 0.3, 1, Date.now())),
    ) as Reservation;
    expect(reservation.granted).toBe(true);
    if (!reservation.granted) return;

    const after = await store(await restart());
    // The held $0.3 survived: $0.8 more would pass the $1 cap.
    expect((await after.snapshot(day)).reservedTodayUsd).toBe(0.3);
    expect((await after.reserveBudget(day, 0.8, 1, Date.now())).granted).toBe(false);
    await after.settleBudget(reservation.id, 0.25);
    await after.settleBudget(reservation.id, 0.25);
    const settled = await after.snapshot(day);
    expect(settled.spentTodayUsd).toBe(0.25);
    expect(settled.reservedTodayUsd).toBe(0);
    expect(settled.reservationsOpen).toBe(0);

    // And the booking itself is durable.
    const again = await (await store(await restart())).snapshot(day);
    expect(again.spentTodayUsd).toBe(0.25);
    expect(again.reservationsOpen).toBe(0);
  });

  it('keeps the reservation of a request that died with its runtime, and the alarm books expired ones', async () => {
    dir = mkdtempSync(join(tmpdir(), 'proxy-do-'));
    const runtime = await restart();
    const never = deferred();
    fake.reply({ kind: 'image', hold: never.promise });
    const before = fake.imageRequests.length;
    const pending = runtime
      .dispatchFetch('http://proxy.example/v1/text-to-image', workerPost({ prompt: 'a chair' }))
      .catch(() => undefined);
    await expect.poll(() => fake.imageRequests.length).toBe(before + 1);
    const estimate = await metric(runtime, 'reserved_today_usd');
    expect(estimate).toBeCloseTo(0.0443, 3);
    // The runtime goes away mid-generation: nothing settles the request.
    const after = await restart();
    await pending;
    never.resolve();
    expect(await metric(after, 'reservations_open')).toBe(1);
    expect(await metric(after, 'reserved_today_usd')).toBe(estimate);
    expect(await metric(after, 'spend_today_usd')).toBe(0);

    // The dead request's reservation expires 10 minutes after it was made. One that expires in
    // 1 s, made just before another restart, shows that the alarm survives a restart and books
    // at the estimate.
    const day = utcDay(Date.now());
    const soon = await (await store(after)).reserveBudget(
      day,
      0.01,
      5,
      Date.now() - RESERVATION_TTL_MS + 1000,
    );
    expect(soon.granted).toBe(true);
    const last = await restart();
    await expect
      .poll(() => metric(last, 'reservations_open'), { timeout: 10_000, interval: 250 })
      .toBe(1);
    expect(await metric(last, 'spend_today_usd')).toBe(0.01);
    expect(await metric(last, 'reserved_today_usd')).toBe(estimate);
  });
});
