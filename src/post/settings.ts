/** Defaults and ranges of the processing settings: light, so the page can import them without the WASM. */
import type { PostSettings } from './types';

/** The defaults: clean-up on (floaters under 5 % of the largest part go), 50 k triangles, 100 mm. */
export const POST_SETTINGS_DEFAULTS: PostSettings = {
  cleanup: { enabled: true, keepShare: 0.05 },
  smoothing: { iterations: 0, lambda: 0.5, mu: -0.53 },
  targetTriangles: 50_000,
  printable: false,
  size: { dimension: 'longest', value: 100, unit: 'mm' },
  flatBottom: 0,
  minQuality: 7,
};

/** Ranges the panel offers. */
export const POST_RANGES = {
  targetTriangles: { min: 1_000, max: 500_000 },
  smoothingIterations: { min: 0, max: 50 },
  keepShare: { min: 0, max: 1 },
  flatBottom: { min: 0, max: 0.2 },
  minQuality: { min: 0, max: 10 },
} as const;
