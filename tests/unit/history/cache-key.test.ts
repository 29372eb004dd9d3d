import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, MESHER_VERSION, resultCacheKey, type CacheKeyInput } from '../../../src/history/cache-key';

const input = new Float32Array(3 * 16 * 16).map((_, i) => Math.sin(i));
const base: CacheKeyInput = { input, params: { resolution: 256, threshold: 25, meshing: 'coarse-to-fine' }, model: { id: 'triposr', revision: 'abc' } };

describe('resultCacheKey', () => {
  it('is SHA-256 over a length-prefixed canonical header and the input bytes', async () => {
    const header = Buffer.from(canonicalJson({ mesherVersion: MESHER_VERSION, model: base.model, params: base.params }));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length);
    const expected = createHash('sha256').update(length).update(header).update(new Uint8Array(input.buffer)).digest('hex');
    expect(await resultCacheKey(base)).toBe(expected);
  });

  it('changes with every parameter, the model, the mesher version and any byte of the input', async () => {
    const key = await resultCacheKey(base);
    const variants: CacheKeyInput[] = [
      { ...base, params: { ...base.params, resolution: 264 } },
      { ...base, params: { ...base.params, threshold: 24.5 } },
      { ...base, params: { ...base.params, meshing: 'dense' } },
      { ...base, model: { ...base.model, revision: 'abd' } },
      { ...base, model: { ...base.model, id: 'triposr-int8' } },
      { ...base, mesherVersion: MESHER_VERSION + 1 },
      { ...base, input: input.map((v, i) => (i === input.length - 1 ? v + 1e-6 : v)) },
      { ...base, input: input.subarray(1) },
    ];
    const keys = await Promise.all(variants.map(resultCacheKey));
    for (const k of keys) expect(k).not.toBe(key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('does not depend on the order the parameters were written in, or on the view of the bytes', async () => {
    const reordered: CacheKeyInput = {
      model: { revision: 'abc', id: 'triposr' },
      params: { meshing: 'coarse-to-fine', threshold: 25, resolution: 256 },
      input: new Uint8Array(input.buffer),
    };
    expect(await resultCacheKey(reordered)).toBe(await resultCacheKey(base));
    // A view into a larger buffer hashes only its own bytes.
    const padded = new Float32Array(input.length + 8);
    padded.set(input, 4);
    expect(await resultCacheKey({ ...base, input: padded.subarray(4, 4 + input.length) })).toBe(await resultCacheKey(base));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('refuses values with no JSON form', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ a: () => 1 })).toThrow(TypeError);
  });
});
