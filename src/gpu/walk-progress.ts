/**
 * Progress of a density walk as a fraction of its planned work: a head (the coarse pass) and a weight
 * per x layer (its planned evaluations), known on the CPU before any layer is filled. Reports only
 * increase, and reach exactly 1 once every layer is done.
 */
export class WalkProgress {
  private readonly total: number;
  private done = 0;
  private last = 0;

  constructor(
    private readonly layerWeights: Float64Array,
    head: number,
    private readonly report?: (fraction: number) => void,
  ) {
    this.total = head + layerWeights.reduce((a, b) => a + b, 0);
    this.done = head;
  }

  /** Reports the head (coarse pass) as done. */
  start(): void {
    this.emit(this.done);
  }

  /** Planned work of layers [first, end). */
  weight(first: number, end: number): number {
    let w = 0;
    for (let x = first; x < end; x++) w += this.layerWeights[x]!;
    return w;
  }

  /** Reports `part` (0..1) of layers [first, end) as done; at 1 they count as finished. */
  layers(first: number, end: number, part: number): void {
    const w = this.weight(first, end);
    if (part >= 1) {
      this.done += w;
      this.emit(this.done);
    } else {
      this.emit(this.done + w * part);
    }
  }

  private emit(value: number): void {
    const fraction = this.total > 0 ? Math.min(1, value / this.total) : 1;
    if (fraction <= this.last) return;
    this.last = fraction;
    this.report?.(fraction);
  }
}
