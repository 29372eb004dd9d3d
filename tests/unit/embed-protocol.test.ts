import { describe, expect, it } from 'vitest';
import { checkHostMessage, envelope, PROTOCOL_LIMITS, type Checked } from '../../src/embed/protocol';

const base = { source: 'cadlift', version: 1 } as const;
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]).buffer;

function rejected(checked: Checked): { id: string | null; code: string } {
  if (checked.kind !== 'reject') throw new Error(`expected a rejection, got ${checked.kind}`);
  return { id: checked.id, code: checked.code };
}

describe('checkHostMessage', () => {
  it('ignores messages without the envelope, whatever they hold', () => {
    for (const data of [null, 'generate', 42, [], { type: 'generate', id: 'a', image: png }, { source: 'other', version: 1, type: 'generate' }]) {
      expect(checkHostMessage(data)).toEqual({ kind: 'ignore' });
    }
  });

  it('accepts a generate with each image form and every option', () => {
    const blob = new Blob([new Uint8Array(10)], { type: 'image/png' });
    for (const image of [png, blob, 'https://example.com/photo.jpg', 'data:image/png;base64,iVBORw0KGgo=']) {
      const checked = checkHostMessage({ ...base, type: 'generate', id: 'job-1', image, options: { resolution: 64, threshold: 10, foregroundRatio: 0.9, removeBackground: 'off' } });
      expect(checked).toEqual({ kind: 'ok', message: { type: 'generate', id: 'job-1', image, options: { resolution: 64, threshold: 10, foregroundRatio: 0.9, removeBackground: 'off' } } });
    }
    const bare = checkHostMessage({ ...base, type: 'generate', id: 'b', image: png });
    expect(bare.kind === 'ok' && bare.message.type === 'generate' && bare.message.options).toEqual({});
  });

  it('accepts a cancel', () => {
    expect(checkHostMessage({ ...base, type: 'cancel', id: 'job-1' })).toEqual({ kind: 'ok', message: { type: 'cancel', id: 'job-1' } });
  });

  it('rejects a wrong type, an unknown field, a missing id and another version with stable codes', () => {
    expect(rejected(checkHostMessage({ ...base, type: 'render', id: 'a' }))).toEqual({ id: 'a', code: 'invalid-message' });
    expect(rejected(checkHostMessage({ ...base, type: 'generate', id: 'a', image: png, colour: 'red' }))).toEqual({ id: 'a', code: 'invalid-message' });
    expect(rejected(checkHostMessage({ ...base, type: 'cancel', id: 'a', image: png }))).toEqual({ id: 'a', code: 'invalid-message' });
    expect(rejected(checkHostMessage({ ...base, type: 'generate', image: png }))).toEqual({ id: null, code: 'invalid-message' });
    expect(rejected(checkHostMessage({ ...base, type: 'generate', id: '', image: png }))).toEqual({ id: null, code: 'invalid-message' });
    expect(rejected(checkHostMessage({ ...base, type: 'generate', id: 7, image: png }))).toEqual({ id: null, code: 'invalid-message' });
    expect(rejected(checkHostMessage({ source: 'cadlift', version: 2, type: 'generate', id: 'a', image: png }))).toEqual({ id: 'a', code: 'unsupported-version' });
  });

  it('rejects bad images: wrong kind, oversize, refused schemes', () => {
    const generate = (image: unknown) => checkHostMessage({ ...base, type: 'generate', id: 'x', image });
    expect(rejected(generate(undefined)).code).toBe('invalid-message');
    expect(rejected(generate(new Uint8Array(4))).code).toBe('invalid-message');
    expect(rejected(generate({ url: 'https://a' })).code).toBe('invalid-message');
    expect(rejected(generate('photo.jpg')).code).toBe('invalid-message');
    expect(rejected(generate('javascript:alert(1)')).code).toBe('image-url-refused');
    expect(rejected(generate('file:///etc/passwd')).code).toBe('image-url-refused');
    const limits = { ...PROTOCOL_LIMITS, maxImageBytes: 100 };
    expect(checkHostMessage({ ...base, type: 'generate', id: 'x', image: new ArrayBuffer(100) }, limits).kind).toBe('ok');
    expect(rejected(checkHostMessage({ ...base, type: 'generate', id: 'x', image: new ArrayBuffer(101) }, limits)).code).toBe('image-too-large');
    expect(rejected(checkHostMessage({ ...base, type: 'generate', id: 'x', image: new Blob([new Uint8Array(101)]) }, limits)).code).toBe('image-too-large');
  });

  it('rejects options out of range, of the wrong type, or unknown', () => {
    const generate = (options: unknown) => rejected(checkHostMessage({ ...base, type: 'generate', id: 'x', image: png, options })).code;
    for (const options of [
      { resolution: 16 },
      { resolution: 321 },
      { resolution: 64.5 },
      { resolution: '64' },
      { threshold: 0 },
      { threshold: Number.NaN },
      { foregroundRatio: 1.2 },
      { removeBackground: 'yes' },
      { meshing: 'dense' },
      'fast',
      null,
    ]) {
      expect(generate(options), JSON.stringify(options)).toBe('invalid-message');
    }
  });
});

describe('envelope', () => {
  it('adds source and version to every widget message', () => {
    expect(envelope({ type: 'resize', height: 420 })).toEqual({ source: 'cadlift', version: 1, type: 'resize', height: 420 });
  });
});
