/** Settings every proxy test (and the bench) shares. */

/** A key shaped like a real one; it must never come back out. */
export const API_KEY = 'sk-proj-TESTKEY0123456789abcdefSECRET';
export const ORIGIN = 'https://cadlift.example';
export const METRICS_TOKEN = 'metrics-token-for-tests';
