/** Mesh processing for printing and CAD: the entry points a worker or the UI needs. */
export { processMesh, resolvePostSettings, POST_DEFAULTS, TARGET_TRIANGLES_RANGE, type ProcessOptions } from './process';
export { qualityReport, qualityScore, aspectQuality } from './quality';
export { loadManifold } from './manifold';
export * from './types';
