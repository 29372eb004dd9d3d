import {
  countRequest,
  emptySnapshot,
  type MetricsSnapshot,
  type RequestSample,
} from './metrics.ts';
import { roundUsd } from './pricing.ts';

/** The answer of a rate-limit check. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterS: number };

/** The answer of a budget reservation; `id` settles it. */
export type Reservation = { granted: true; id: string } | { granted: false };

/**
 * Shared state: rate limits, the daily budget and metrics. In memory on Node (one process), in a
 * Durable Object on Workers so that every isolate sees the same numbers. Each method is atomic.
 */
export interface Store {
  /** Counts one request of `client` unless it already made `limitPerMinute` in the last minute. */
  takeRateLimit(client: string, limitPerMinute: number, nowMs: number): Promise<RateDecision>;
  /** Holds `estimateUsd` of `day`'s budget, unless spent + held + estimate would pass `capUsd`. */
  reserveBudget(
    day: string,
    estimateUsd: number,
    capUsd: number,
    nowMs: number,
  ): Promise<Reservation>;
  /** Releases a reservation and books what the generation really cost. */
  settleBudget(id: string, actualUsd: number): Promise<void>;
  /** Counts a finished request for /metrics. */
  recordRequest(sample: RequestSample): Promise<void>;
  /** The metrics, with `day`'s spend. */
  snapshot(day: string): Promise<MetricsSnapshot>;
}

const WINDOW_MS = 60_000;

/**
 * A reservation never settled within this time (its request died with its isolate) is booked at
 * its estimate: the image may have been generated and billed.
 */
export const RESERVATION_TTL_MS = 10 * 60_000;

/** A reservation not yet settled: what it holds, of which day, since when. */
export interface HeldReservation {
  day: string;
  estimateUsd: number;
  atMs: number;
}

/** Options of MemoryStore. */
export interface MemoryStoreOptions {
  /** Spend already booked, by UTC day (a Durable Object reloads it from storage). */
  spentByDay?: Record<string, number>;
  /** Reservations still open, by id (a Durable Object reloads them from storage). */
  held?: Record<string, HeldReservation>;
  /** Called after each reservation, to persist it. */
  onReserve?: (id: string, held: HeldReservation) => void;
  /**
   * Called after each settlement (or expiry) with the day's new total, to persist it together
   * with the removal of the reservation `id`.
   */
  onSpend?: (day: string, spentUsd: number, id: string) => void;
}

interface DayBudget {
  spentUsd: number;
  reservedUsd: number;
}

/**
 * The store kept in one JavaScript heap. Each method runs to completion without awaiting, so
 * concurrent requests cannot interleave inside a check-and-update.
 */
export class MemoryStore implements Store {
  readonly #hits = new Map<string, number[]>();
  readonly #days = new Map<string, DayBudget>();
  readonly #held = new Map<string, HeldReservation>();
  readonly #metrics = emptySnapshot();
  readonly #onSpend: MemoryStoreOptions['onSpend'];
  readonly #onReserve: MemoryStoreOptions['onReserve'];
  #calls = 0;

  constructor(options: MemoryStoreOptions = {}) {
    for (const [day, spentUsd] of Object.entries(options.spentByDay ?? {})) {
      this.#days.set(day, { spentUsd, reservedUsd: 0 });
    }
    for (const [id, held] of Object.entries(options.held ?? {})) {
      this.#held.set(id, held);
      const budget = this.#day(held.day);
      budget.reservedUsd = roundUsd(budget.reservedUsd + held.estimateUsd);
    }
    this.#onSpend = options.onSpend;
    this.#onReserve = options.onReserve;
  }

  async takeRateLimit(
    client: string,
    limitPerMinute: number,
    nowMs: number,
  ): Promise<RateDecision> {
    if (++this.#calls % 1000 === 0) this.#sweep(nowMs);
    const hits = (this.#hits.get(client) ?? []).filter((t) => t > nowMs - WINDOW_MS);
    this.#hits.set(client, hits);
    if (hits.length >= limitPerMinute) {
      const oldest = hits[0] ?? nowMs;
      return {
        allowed: false,
        retryAfterS: Math.max(1, Math.ceil((oldest + WINDOW_MS - nowMs) / 1000)),
      };
    }
    hits.push(nowMs);
    return { allowed: true };
  }

  async reserveBudget(
    day: string,
    estimateUsd: number,
    capUsd: number,
    nowMs: number,
  ): Promise<Reservation> {
    this.expire(nowMs);
    const budget = this.#day(day);
    if (budget.spentUsd + budget.reservedUsd + estimateUsd > capUsd + 1e-9)
      return { granted: false };
    budget.reservedUsd = roundUsd(budget.reservedUsd + estimateUsd);
    const id = crypto.randomUUID();
    const held = { day, estimateUsd, atMs: nowMs };
    this.#held.set(id, held);
    this.#onReserve?.(id, held);
    return { granted: true, id };
  }

  /**
   * Books every reservation older than RESERVATION_TTL_MS at its estimate: its request died
   * without settling, and OpenAI may have generated and billed the image.
   */
  expire(nowMs: number): void {
    for (const [id, held] of this.#held) {
      if (held.atMs <= nowMs - RESERVATION_TTL_MS) this.#settle(id, held.estimateUsd);
    }
  }

  /** When the oldest open reservation expires, or undefined when none is open. */
  nextExpiryMs(): number | undefined {
    let oldest: number | undefined;
    for (const held of this.#held.values()) oldest = Math.min(oldest ?? held.atMs, held.atMs);
    return oldest === undefined ? undefined : oldest + RESERVATION_TTL_MS;
  }

  async settleBudget(id: string, actualUsd: number): Promise<void> {
    this.#settle(id, actualUsd);
  }

  #settle(id: string, actualUsd: number): void {
    const held = this.#held.get(id);
    // Unknown: already expired and booked at its estimate.
    if (!held) return;
    this.#held.delete(id);
    const budget = this.#day(held.day);
    budget.reservedUsd = Math.max(0, roundUsd(budget.reservedUsd - held.estimateUsd));
    budget.spentUsd = roundUsd(budget.spentUsd + actualUsd);
    this.#metrics.spentTotalUsd = roundUsd(this.#metrics.spentTotalUsd + actualUsd);
    this.#onSpend?.(held.day, budget.spentUsd, id);
  }

  async recordRequest(sample: RequestSample): Promise<void> {
    countRequest(this.#metrics, sample);
  }

  async snapshot(day: string): Promise<MetricsSnapshot> {
    const budget = this.#days.get(day);
    return structuredClone({
      ...this.#metrics,
      spentTodayUsd: budget?.spentUsd ?? 0,
      reservedTodayUsd: budget?.reservedUsd ?? 0,
      reservationsOpen: this.#held.size,
    });
  }

  #day(day: string): DayBudget {
    let budget = this.#days.get(day);
    if (!budget) {
      budget = { spentUsd: 0, reservedUsd: 0 };
      this.#days.set(day, budget);
      // Keep today and yesterday (a request may settle just after midnight).
      const keep = [...this.#days.keys()].sort().slice(-2);
      for (const key of this.#days.keys()) if (!keep.includes(key)) this.#days.delete(key);
    }
    return budget;
  }

  /** Drops clients idle for a whole window, so the map does not grow without bound. */
  #sweep(nowMs: number): void {
    for (const [client, hits] of this.#hits) {
      if ((hits.at(-1) ?? 0) <= nowMs - WINDOW_MS) this.#hits.delete(client);
    }
  }
}
