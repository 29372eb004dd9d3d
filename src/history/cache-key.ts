/** The result cache's key: what makes two generations give the same mesh. */
import { createSHA256 } from 'hash-wasm';
import type { MeshingMode } from '../shared/pipeline';
import type { ModelRef } from './types';

/**
 * Bumped whenever the mesher's output changes for the same input (a new kernel, a fixed bug), so
 * that entries meshed by older code are no longer returned as cached results.
 */
export const MESHER_VERSION = 1;

/** The controls that change the mesh for a given model input (any further field is hashed too). */
export interface MeshParams {
  resolution: number;
  threshold: number;
  meshing: MeshingMode;
}

/** Everything the key covers. */
export interface CacheKeyInput {
  /** The exact model input (the framed 512² CHW image after background removal), as its bytes. */
  input: ArrayBufferView | ArrayBuffer;
  params: MeshParams;
  model: ModelRef;
  /** Defaults to MESHER_VERSION. */
  mesherVersion?: number;
}

/** JSON with keys sorted at every level, so that the order parameters were written in never matters. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form.`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form.`);
}

/**
 * SHA-256 (hex) over the parameters' canonical JSON, its length, and the input's bytes. hash-wasm
 * rather than crypto.subtle: subtle exists only on secure pages, and the app also runs on plain http.
 */
export async function resultCacheKey({ input, params, model, mesherVersion = MESHER_VERSION }: CacheKeyInput): Promise<string> {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const header = new TextEncoder().encode(
    canonicalJson({
      mesherVersion,
      model: { id: model.id, revision: model.revision },
      params,
    }),
  );
  const sha = await createSHA256();
  sha.init();
  // The length prefix keeps header and input apart: no other header/input split hashes the same bytes.
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, header.length, true);
  sha.update(length);
  sha.update(header);
  sha.update(bytes);
  return sha.digest('hex');
}
