import type { Clock } from '../src/clock.ts';

/**
 * A clock that only moves when told. `sleep` jumps the clock forward at once (firing any timer it
 * passes) and records the wait, so back-off tests run instantly and can assert the waits; timers
 * (the 120 s deadline) fire only when the clock is advanced past them.
 */
export class FakeClock implements Clock {
  /** Every sleep requested, in milliseconds. */
  readonly sleeps: number[] = [];
  #now: number;
  #timers: { at: number; callback: () => void }[] = [];

  constructor(start = Date.UTC(2026, 0, 15, 12, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) throw signal.reason;
    this.advance(ms);
    if (signal?.aborted) throw signal.reason;
  }

  setTimer(ms: number, callback: () => void): () => void {
    const timer = { at: this.#now + ms, callback };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = due.at;
      due.callback();
    }
    this.#now = target;
  }
}
