/**
 * The store on Cloudflare Workers: one Durable Object holds the limits, the budget and the metrics
 * for every isolate, so a limit holds however many isolates serve the traffic. A Durable Object
 * runs one call at a time against its in-memory state, which makes each Store method atomic.
 * https://developers.cloudflare.com/durable-objects/
 */
import { DurableObject } from 'cloudflare:workers';
import type { MetricsSnapshot, RequestSample } from './metrics.ts';
import {
  MemoryStore,
  type HeldReservation,
  type RateDecision,
  type Reservation,
  type Store,
} from './store.ts';

const SPENT_KEY = 'spentByDay';
/** Each open reservation is its own key, `held:<id>`, so reserving writes one small row. */
const HELD_PREFIX = 'held:';

/**
 * The Durable Object class (binding `PROXY_STORE` in wrangler.jsonc). Spend and open
 * reservations are written to the object's SQLite storage, so an eviction between reserve and
 * settle (a generation can leave the object idle for up to the 120 s deadline) loses neither;
 * an alarm books reservations nobody settles. Rate-limit windows and metric counters are in
 * memory and start over if the object is evicted, which Prometheus reads as a counter reset.
 */
export class ProxyStoreObject extends DurableObject<unknown> {
  #store = new MemoryStore();
  #spentByDay: Record<string, number> = {};

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#spentByDay = (await ctx.storage.get<Record<string, number>>(SPENT_KEY)) ?? {};
      const held = await ctx.storage.list<HeldReservation>({ prefix: HELD_PREFIX });
      this.#store = new MemoryStore({
        spentByDay: this.#spentByDay,
        held: Object.fromEntries(
          [...held].map(([key, value]) => [key.slice(HELD_PREFIX.length), value]),
        ),
        // Not awaited: the output gate holds the RPC answer until the write is durable, and
        // writes with no await between them are committed as one transaction.
        onReserve: (id, reservation) => {
          void ctx.storage.put(HELD_PREFIX + id, reservation);
        },
        onSpend: (day, spentUsd, id) => {
          const kept = Object.entries({ ...this.#spentByDay, [day]: spentUsd })
            .sort(([a], [b]) => a.localeCompare(b))
            .slice(-2);
          this.#spentByDay = Object.fromEntries(kept);
          void ctx.storage.put(SPENT_KEY, this.#spentByDay);
          void ctx.storage.delete(HELD_PREFIX + id);
        },
      });
      await this.#armAlarm();
    });
  }

  /** Books the reservations whose requests never settled, then waits for the next one. */
  override async alarm(): Promise<void> {
    this.#store.expire(Date.now());
    await this.#armAlarm();
  }

  /** Keeps one alarm set for the oldest open reservation's expiry (none when none is open). */
  async #armAlarm(): Promise<void> {
    const at = this.#store.nextExpiryMs();
    if (at === undefined) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  takeRateLimit(client: string, limitPerMinute: number, nowMs: number): Promise<RateDecision> {
    return this.#store.takeRateLimit(client, limitPerMinute, nowMs);
  }

  async reserveBudget(
    day: string,
    estimateUsd: number,
    capUsd: number,
    nowMs: number,
  ): Promise<Reservation> {
    const reservation = await this.#store.reserveBudget(day, estimateUsd, capUsd, nowMs);
    if (reservation.granted) await this.#armAlarm();
    return reservation;
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
