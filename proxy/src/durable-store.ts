/**
 * The store on Cloudflare Workers: one Durable Object holds the limits, the budget and the metrics
 * for every isolate, so a limit holds however many isolates serve the traffic. A Durable Object
 * runs one call at a time against its in-memory state, which makes each Store method atomic.
 * https://developers.cloudflare.com/durable-objects/
 */
import { DurableObject } from 'cloudflare:workers';
import type { MetricsSnapshot, RequestSample } from './metrics.ts';
import { MemoryStore, type RateDecision, type Reservation, type Store } from './store.ts';

const SPENT_KEY = 'spentByDay';

/**
 * The Durable Object class (binding `PROXY_STORE` in wrangler.jsonc). Spend is written to durable
 * storage; rate-limit windows and metric counters are in memory and start over if the object is
 * evicted, which Prometheus reads as a counter reset.
 */
export class ProxyStoreObject extends DurableObject<unknown> {
  #store = new MemoryStore();
  #spentByDay: Record<string, number> = {};

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#spentByDay = (await ctx.storage.get<Record<string, number>>(SPENT_KEY)) ?? {};
      this.#store = new MemoryStore({
        spentByDay: this.#spentByDay,
        onSpend: (day, spentUsd) => {
          const kept = Object.entries({ ...this.#spentByDay, [day]: spentUsd })
            .sort(([a], [b]) => a.localeCompare(b))
            .slice(-2);
          this.#spentByDay = Object.fromEntries(kept);
          // Not awaited: the output gate holds the RPC answer until the write is durable.
          void ctx.storage.put(SPENT_KEY, this.#spentByDay);
        },
      });
    });
  }

  takeRateLimit(client: string, limitPerMinute: number, nowMs: number): Promise<RateDecision> {
    return this.#store.takeRateLimit(client, limitPerMinute, nowMs);
  }

  reserveBudget(
    day: string,
    estimateUsd: number,
    capUsd: number,
    nowMs: number,
  ): Promise<Reservation> {
    return this.#store.reserveBudget(day, estimateUsd, capUsd, nowMs);
  }

  settleBudget(id: string, actualUsd: number): Promise<void> {
    return this.#store.settleBudget(id, actualUsd);
  }

  recordRequest(sample: RequestSample): Promise<void> {
    return this.#store.recordRequest(sample);
  }

  snapshot(day: string): Promise<MetricsSnapshot> {
    return this.#store.snapshot(day);
  }
}

/** The Store interface over RPC to the one `ProxyStoreObject`. */
export class DurableObjectStore implements Store {
  readonly #stub: DurableObjectStub<ProxyStoreObject>;

  constructor(namespace: DurableObjectNamespace<ProxyStoreObject>) {
    this.#stub = namespace.get(namespace.idFromName('global'));
  }

  async takeRateLimit(
    client: string,
    limitPerMinute: number,
    nowMs: number,
  ): Promise<RateDecision> {
    return (await this.#stub.takeRateLimit(client, limitPerMinute, nowMs)) as RateDecision;
  }

  async reserveBudget(
    day: string,
    estimateUsd: number,
    capUsd: number,
    nowMs: number,
  ): Promise<Reservation> {
    return (await this.#stub.reserveBudget(day, estimateUsd, capUsd, nowMs)) as Reservation;
  }

  async settleBudget(id: string, actualUsd: number): Promise<void> {
    await this.#stub.settleBudget(id, actualUsd);
  }

  async recordRequest(sample: RequestSample): Promise<void> {
    await this.#stub.recordRequest(sample);
  }

  async snapshot(day: string): Promise<MetricsSnapshot> {
    return (await this.#stub.snapshot(day)) as MetricsSnapshot;
  }
}
