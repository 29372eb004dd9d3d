/**
 * Prometheus text exposition of what the store counted.
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

/** Upper bounds (seconds) of the request duration histogram; generation takes 5–60 s. */
export const DURATION_BUCKETS_S = [0.05, 0.25, 1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120] as const;

/** One finished request, as the store counts it. */
export interface RequestSample {
  /** The HTTP status answered (499 when the client left first). */
  status: number;
  /** The error code, for failures. */
  code?: string;
  durationS: number;
  /** Images delivered (0 or 1). */
  images: number;
}

/** Everything /metrics shows, as plain data (it crosses the Durable Object boundary). */
export interface MetricsSnapshot {
  requestsByStatus: Record<string, number>;
  errorsByCode: Record<string, number>;
  /** Per-bucket (not cumulative) counts, aligned with DURATION_BUCKETS_S plus a final +Inf. */
  durationBuckets: number[];
  durationSumS: number;
  durationCount: number;
  images: number;
  spentTotalUsd: number;
  spentTodayUsd: number;
  reservedTodayUsd: number;
  /** Reservations not yet settled (requests in flight, or dead ones until they expire). */
  reservationsOpen: number;
}

/** An empty snapshot. */
export function emptySnapshot(): MetricsSnapshot {
  return {
    requestsByStatus: {},
    errorsByCode: {},
    durationBuckets: Array<number>(DURATION_BUCKETS_S.length + 1).fill(0),
    durationSumS: 0,
    durationCount: 0,
    images: 0,
    spentTotalUsd: 0,
    spentTodayUsd: 0,
    reservedTodayUsd: 0,
    reservationsOpen: 0,
  };
}

/** Adds one request to a snapshot in place. */
export function countRequest(snapshot: MetricsSnapshot, sample: RequestSample): void {
  const status = String(sample.status);
  snapshot.requestsByStatus[status] = (snapshot.requestsByStatus[status] ?? 0) + 1;
  if (sample.code) {
    snapshot.errorsByCode[sample.code] = (snapshot.errorsByCode[sample.code] ?? 0) + 1;
  }
  let bucket = DURATION_BUCKETS_S.findIndex((le) => sample.durationS <= le);
  if (bucket < 0) bucket = DURATION_BUCKETS_S.length;
  snapshot.durationBuckets[bucket] = (snapshot.durationBuckets[bucket] ?? 0) + 1;
  snapshot.durationSumS += sample.durationS;
  snapshot.durationCount += 1;
  snapshot.images += sample.images;
}

const PREFIX = 'cadlift_proxy';

function labels(entries: Record<string, string>): string {
  const body = Object.entries(entries)
    .map(
      ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');
  return `{${body}}`;
}

/** Renders the snapshot in the Prometheus text format (version 0.0.4). */
export function renderMetrics(snapshot: MetricsSnapshot, dailyBudgetUsd: number): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${PREFIX}_${name} ${help}`, `# TYPE ${PREFIX}_${name} ${type}`);
    for (const [suffix, value] of samples) lines.push(`${PREFIX}_${name}${suffix} ${value}`);
  };
  metric(
    'requests_total',
    'counter',
    'Text-to-image requests answered, by HTTP status.',
    Object.entries(snapshot.requestsByStatus).map(([status, n]) => [labels({ status }), n]),
  );
  metric(
    'errors_total',
    'counter',
    'Text-to-image requests that failed, by error code.',
    Object.entries(snapshot.errorsByCode).map(([code, n]) => [labels({ code }), n]),
  );
  let cumulative = 0;
  const buckets: [string, number][] = DURATION_BUCKETS_S.map((le, i) => {
    cumulative += snapshot.durationBuckets[i] ?? 0;
    return [`_bucket${labels({ le: String(le) })}`, cumulative];
  });
  cumulative += snapshot.durationBuckets[DURATION_BUCKETS_S.length] ?? 0;
  buckets.push([`_bucket${labels({ le: '+Inf' })}`, cumulative]);
  buckets.push(['_sum', round(snapshot.durationSumS)], ['_count', snapshot.durationCount]);
  metric(
    'request_duration_seconds',
    'histogram',
    'Time to answer a text-to-image request, to the end of the stream.',
    buckets,
  );
  metric('images_generated_total', 'counter', 'Images delivered to clients.', [
    ['', snapshot.images],
  ]);
  metric('estimated_spend_usd_total', 'counter', 'Estimated OpenAI spend since start, in USD.', [
    ['', round(snapshot.spentTotalUsd)],
  ]);
  metric('spend_today_usd', 'gauge', 'Estimated OpenAI spend settled today (UTC), in USD.', [
    ['', round(snapshot.spentTodayUsd)],
  ]);
  metric('reserved_today_usd', 'gauge', 'Budget held by requests still running, in USD.', [
    ['', round(snapshot.reservedTodayUsd)],
  ]);
  metric('reservations_open', 'gauge', 'Budget reservations not yet settled.', [
    ['', snapshot.reservationsOpen],
  ]);
  metric('daily_budget_usd', 'gauge', 'The configured daily spending cap, in USD.', [
    ['', dailyBudgetUsd],
  ]);
  return `${lines.join('\n')}\n`;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
