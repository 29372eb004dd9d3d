import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedError, failure } from '../../src/embed/failure';
import { imageBlob } from '../../src/embed/image-input';
import { AppError, abortError } from '../../src/lib/errors';

const signal = new AbortController().signal;

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return failure(error).code;
  }
  return 'resolved';
}

describe('imageBlob', () => {
  let origin = '';
  const server = createServer((req, res) => {
    if (req.url === '/photo.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'access-control-allow-origin': '*' });
      res.end(Buffer.alloc(50, 7));
    } else if (req.url === '/big.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '5000' });
      res.end(Buffer.alloc(5000));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('passes bytes within the limit through and refuses larger ones', async () => {
    expect((await imageBlob(new ArrayBuffer(100), signal, 100)).size).toBe(100);
    const blob = new Blob([new Uint8Array(100)]);
    expect(await imageBlob(blob, signal, 100)).toBe(blob);
    expect(await codeOf(imageBlob(new ArrayBuffer(101), signal, 100))).toBe('image-too-large');
    expect(await codeOf(imageBlob(new Blob([new Uint8Array(101)]), signal, 100))).toBe('image-too-large');
  });

  it('fetches an address, and refuses one that is too large, missing or unreachable', async () => {
    expect((await imageBlob(`${origin}/photo.png`, signal, 100)).size).toBe(50);
    expect(await codeOf(imageBlob(`${origin}/big.png`, signal, 100))).toBe('image-too-large');
    expect(await codeOf(imageBlob(`${origin}/missing.png`, signal, 100))).toBe('image-url-refused');
    expect(await codeOf(imageBlob('http://127.0.0.1:1/photo.png', signal, 100))).toBe('image-url-refused');
    expect((await imageBlob('data:image/png;base64,AAECAw==', signal, 100)).size).toBe(4);
    expect(await codeOf(imageBlob(`data:image/png;base64,${'A'.repeat(200)}`, signal, 100))).toBe('image-too-large');
  });

  it('stops with an AbortError when cancelled during the fetch', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(imageBlob(`${origin}/photo.png`, controller.signal, 100))).toBe('cancelled');
  });
});

describe('failure', () => {
  it('keeps stable codes and turns anything else into internal', () => {
    expect(failure(abortError())).toEqual({ code: 'cancelled', message: 'The job was cancelled.' });
    expect(failure(new AppError('no-surface', 'Lower the threshold.'))).toEqual({ code: 'no-surface', message: 'Lower the threshold.' });
    expect(failure(new EmbedError('duplicate-id', 'Use a new id.')).code).toBe('duplicate-id');
    const original = console.error;
    console.error = () => undefined;
    try {
      expect(failure(new TypeError('x is undefined'))).toMatchObject({ code: 'internal', message: expect.stringContaining('x is undefined') });
    } finally {
      console.error = original;
    }
  });
});
