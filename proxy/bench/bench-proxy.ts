/**
 * Load test of the proxy on loopback (not part of CI): the Node proxy against a stub of OpenAI's
 * images endpoint, N concurrent clients from many simulated addresses (X-Forwarded-For from a
 * trusted hop), for a fixed time per scenario: a clean upstream, then a fault mix (429s, 5xx,
 * slow streams, connections cut after OpenAI accepted, clients that leave mid-stream).
 *   npm run bench:proxy -- --seconds 20 --clients 32 --addresses 300 --rate-limit 10
 * Prints a table and writes bench-results/proxy-<time>.json at the repository root.
 */
import { Miniflare } from 'miniflare';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { utcDay } from '../src/clock.ts';
import { startNodeServer } from '../src/node.ts';
import { MemoryStore } from '../src/store.ts';
import type { MetricsSnapshot } from '../src/metrics.ts';
import { METRICS_TOKEN, ORIGIN } from '../test/constants.ts';
import { bundleWorker, workerFromWranglerConfig } from '../test/workerd-harness.ts';
import { startStub, type Stub, type StubOptions } from './stub-openai.ts';

/** Options of one run. */
export interface BenchOptions {
  seconds: number;
  clients: number;
  addresses: number;
  rateLimit: number;
  /** Share of streamed requests (the Text tab streams); the rest ask for JSON. */
  streamShare: number;
}

/** Defaults: about 20 s per scenario, so the whole run stays well under two minutes. */
export const BENCH_DEFAULTS: BenchOptions = { seconds: 20, clients: 32, addresses: 300, rateLimit: 10, streamShare: 0.7 };

interface Scenario {
  name: string;
  stub: Partial<StubOptions>;
  /** Share of streamed requests whose client leaves after the first partial image. */
  leaveShare: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'clean', stub: {}, leaveShare: 0 },
  {
    name: 'faults',
    stub: { rate429: 0.1, rate5xx: 0.1, rateSlow: 0.1, rateDrop: 0.05 },
    leaveShare: 0.1,
  },
];

/** A seeded generator (mulberry32), so two runs send the same traffic. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** What the clients saw. */
interface Traffic {
  elapsedS: number;
  statuses: Record<string, number>;
  sentByAddress: Map<string, number>;
  /** Client-side time of each 200, by request id. */
  totalMs: Map<string, number>;
  left: number;
}

/**
 * `o.clients` clients send requests to `url` for `o.seconds`, each from a simulated address
 * (`addressHeader`), streamed or not, some leaving after the first partial image.
 */
async function drive(url: string, addressHeader: string, scenario: Scenario, o: BenchOptions): Promise<Traffic> {
  const random = seeded(14);
  const sentByAddress = new Map<string, number>();
  const statuses: Record<string, number> = {};
  const totalMs = new Map<string, number>();
  let nextId = 0;
  let left = 0;
  const started = performance.now();
  const endAt = started + o.seconds * 1000;
  const client = async () => {
    while (performance.now() < endAt) {
      const id = String(nextId++);
      // A few addresses send most of the traffic, as abusers and busy offices do.
      const n = Math.floor(random() ** 2 * o.addresses);
      const address = `10.${n >> 8}.${n & 255}.1`;
      sentByAddress.set(address, (sentByAddress.get(address) ?? 0) + 1);
      const stream = random() < o.streamShare;
      const leave = stream && random() < scenario.leaveShare;
      const t0 = performance.now();
      const controller = new AbortController();
      let status: string;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { Origin: ORIGIN, 'Content-Type': 'application/json', [addressHeader]: address },
          body: JSON.stringify({ prompt: `a red ceramic teapot [bench:${id}]`, quality: 'medium', stream }),
          signal: controller.signal,
        });
        status = String(res.status);
        if (leave && res.ok && res.body) {
          await res.body.getReader().read();
          controller.abort();
          left++;
          status = 'left';
        } else {
          const text = await res.text();
          if (res.ok && stream && !text.includes('event: done')) status = 'stream-error';
        }
      } catch {
        status = 'network-error';
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === '200') totalMs.set(id, performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  const elapsedS = (performance.now() - started) / 1000;
  // Clients that left: their settlement runs when the proxy notices; give it a moment.
  await new Promise((r) => setTimeout(r, 500));
  return { elapsedS, statuses, sentByAddress, totalMs, left };
}

/** The figures of one scenario, from what the clients saw, the stub billed and the store holds. */
function figures(name: string, t: Traffic, stub: Stub, snapshot: MetricsSnapshot, o: BenchOptions) {
  const added: number[] = [];
  for (const [id, ms] of t.totalMs) {
    const service = stub.stats.serviceMs.get(id);
    // Requests answered at the first attempt: a retry's back-off is not the proxy's overhead.
    if (service !== undefined && stub.stats.attempts.get(id) === 1) added.push(ms - service);
  }
  added.sort((a, b) => a - b);
  // Each address's first RATE_LIMIT requests of the (under a minute) run pass; the rest are refused.
  let expectedLimited = 0;
  for (const sent of t.sentByAddress.values()) expectedLimited += Math.max(0, sent - o.rateLimit);
  const requests = Object.values(t.statuses).reduce((a, b) => a + b, 0);
  const limited = t.statuses['429'] ?? 0;
  return {
    scenario: name,
    seconds: round(t.elapsedS, 2),
    clients: o.clients,
    addresses: t.sentByAddress.size,
    requests,
    requestsPerSecond: round(requests / t.elapsedS),
    statuses: t.statuses,
    clientsLeftMidStream: t.left,
    addedLatencyMs: { p50: round(percentile(added, 50)), p99: round(percentile(added, 99)), samples: added.length },
    rateLimited: { observed: limited, expected: expectedLimited, matches: limited === expectedLimited },
    upstream: { requests: stub.stats.requests, byOutcome: stub.stats.byOutcome },
    spend: {
      bookedUsd: snapshot.spentTodayUsd,
      billedUsd: stub.stats.billedUsd,
      // Booked never below billed; above it only by estimates kept for requests cut short.
      bookedCoversBilled: snapshot.spentTodayUsd >= stub.stats.billedUsd - 1e-9,
    },
    reservationsOpen: snapshot.reservationsOpen,
    reservedUsd: snapshot.reservedTodayUsd,
    /** Store calls per second (Workers: calls to the one Durable Object). */
    storeCallsPerSecond: round((requests + (requests - limited) * 2 + requests) / t.elapsedS),
  };
}

/** One scenario against the Node proxy (in-memory store) on a fresh stub. */
async function runNode(scenario: Scenario, o: BenchOptions) {
  const stub = await startStub(scenario.stub, seeded(41));
  const store = new MemoryStore();
  const proxy = await startNodeServer({
    env: {
      OPENAI_API_KEY: 'sk-bench-not-a-key',
      OPENAI_BASE_URL: stub.url,
      ALLOWED_ORIGINS: ORIGIN,
      RATE_LIMIT_PER_MINUTE: String(o.rateLimit),
      DAILY_BUDGET_USD: '1000000',
      TRUST_PROXY: '127.0.0.1',
    },
    port: 0,
    hostname: '127.0.0.1',
    store,
    log: () => {},
  });
  const traffic = await drive(`http://127.0.0.1:${proxy.port}/v1/text-to-image`, 'X-Forwarded-For', scenario, o);
  const snapshot = await store.snapshot(utcDay(Date.now()));
  await proxy.close();
  await stub.close();
  return figures(`node ${scenario.name}`, traffic, stub, snapshot, o);
}

/**
 * The clean scenario against the Worker in workerd (Miniflare), every store call going to the one
 * Durable Object: what one object sustains on this machine.
 */
async function runWorkerd(o: BenchOptions) {
  const stub = await startStub({}, seeded(41));
  const mf = new Miniflare({
    workers: [
      {
        ...workerFromWranglerConfig('proxy', await bundleWorker(), stub.url, {
          RATE_LIMIT_PER_MINUTE: String(o.rateLimit),
          DAILY_BUDGET_USD: '1000000',
        }),
        unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
      },
    ],
    handleStructuredLogs: () => {},
  });
  const base = await mf.unsafeGetDirectURL('proxy');
  const scenario = SCENARIOS[0]!;
  const traffic = await drive(new URL('/v1/text-to-image', base).href, 'CF-Connecting-IP', scenario, o);
  const metrics = await (
    await fetch(new URL('/metrics', base), { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })
  ).text();
  const gauge = (name: string) => Number(/^cadlift_proxy_(\S+) (\S+)$/m.exec(metrics.split('\n').find((l) => l.startsWith(`cadlift_proxy_${name} `)) ?? '')?.[2]);
  const snapshot = {
    spentTodayUsd: gauge('spend_today_usd'),
    reservedTodayUsd: gauge('reserved_today_usd'),
    reservationsOpen: gauge('reservations_open'),
  } as MetricsSnapshot;
  await mf.dispose();
  await stub.close();
  return figures('workerd clean (one Durable Object)', traffic, stub, snapshot, o);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      clients: { type: 'string' },
      addresses: { type: 'string' },
      'rate-limit': { type: 'string' },
      'no-workerd': { type: 'boolean' },
    },
  });
  const o: BenchOptions = {
    ...BENCH_DEFAULTS,
    ...(values.seconds ? { seconds: Number(values.seconds) } : {}),
    ...(values.clients ? { clients: Number(values.clients) } : {}),
    ...(values.addresses ? { addresses: Number(values.addresses) } : {}),
    ...(values['rate-limit'] ? { rateLimit: Number(values['rate-limit']) } : {}),
  };
  if (o.seconds >= 60) throw new Error('--seconds must stay under 60: the rate-limit check assumes one window.');
  const results = [];
  for (const scenario of SCENARIOS) results.push(await runNode(scenario, o));
  if (!values['no-workerd']) results.push(await runWorkerd({ ...o, seconds: Math.min(o.seconds, 10) }));
  console.table(
    results.map((r) => ({
      scenario: r.scenario,
      'req/s': r.requestsPerSecond,
      requests: r.requests,
      'added p50 ms': r.addedLatencyMs.p50,
      'added p99 ms': r.addedLatencyMs.p99,
      '429 seen/expected': `${r.rateLimited.observed}/${r.rateLimited.expected}`,
      'booked $': r.spend.bookedUsd,
      'billed $': r.spend.billedUsd,
      'open reservations': r.reservationsOpen,
      'store calls/s': r.storeCallsPerSecond,
    })),
  );
  const out = new URL('../../bench-results/', import.meta.url);
  mkdirSync(out, { recursive: true });
  const file = new URL(`proxy-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, out);
  const report = {
    bench: 'proxy',
    node: process.version,
    note: 'One Node process runs the clients, the Node proxy (in-memory store) and the stub; the workerd run has the Worker and its Durable Object in workerd. Loopback only.',
    options: o,
    results,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report));
  console.log(`Wrote ${file.pathname}`);
  const failed = results.filter((r) => !r.rateLimited.matches || !r.spend.bookedCoversBilled || r.reservationsOpen !== 0);
  if (failed.length) {
    console.error(`Invariants broken in: ${failed.map((r) => r.scenario).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
