import { FAULTS, type Fault } from '../shared/pipeline';
/** Limits and defaults of the generation controls (the UI ranges). */
export const RESOLUTION = { min: 32, max: 320, step: 8, hardware: 256, fallback: 128 } as const;
export const THRESHOLD = { min: 1, max: 100, default: 25 } as const;
export const RATIO = { min: 0.5, max: 1, step: 0.01, default: 0.85 } as const;

/** The default model: the published int8 WebGPU export, described by the app's own manifest. */
export const DEFAULT_MANIFEST_URL = `${import.meta.env.BASE_URL}models/manifest.json`;

/** The background-removal model (BiRefNet-lite), described like the TripoSR model. */
export const DEFAULT_SEGMENTER_URL = `${import.meta.env.BASE_URL}models/segmenter.json`;

/** Query parameters the app reads: `?model=`, `?segmenter=` (manifest URLs), `?cpu=1`, and in test builds `?fault=`. */
export interface UrlOptions {
  manifestUrl: string | null;
  segmenterUrl: string | null;
  fault: Fault | undefined;
  forceCpu: boolean;
}

/** Reads the page's query string once at start-up. */
export function readUrlOptions(search: string): UrlOptions {
  const params = new URLSearchParams(search);
  const fault = params.get('fault');
  return {
    manifestUrl: params.get('model'),
    segmenterUrl: params.get('segmenter'),
    fault: (FAULTS as readonly string[]).includes(fault ?? '') ? (fault as Fault) : undefined,
    forceCpu: params.get('cpu') === '1',
  };
}

/** Workers resolve relative URLs against their own script, so the page resolves them first. */
export function absoluteUrl(url: string): string {
  return new URL(url, globalThis.location?.href).href;
}
