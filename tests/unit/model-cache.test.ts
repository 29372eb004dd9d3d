import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { AppError, formatBytes } from '../../src/lib/errors';
import {
  cacheKey,
  cachedModelBytes,
  deleteCachedModels,
  fetchManifest,
  fetchSegmenterManifest,
  loadModel,
  loadModelFiles,
  modelDownloadSize,
  parseManifest,
  type ModelProgress,
} from '../../src/lib/model-cache';
import { CacheStorageModelStore, MemoryModelStore } from '../../src/lib/model-store';
import type { ModelFile, ModelManifest, SegmenterManifest } from '../../src/shared/manifest';
import { bytesOf } from '../helpers/seeded-bytes';

const { onnx } = onnxProto;

const PIECE = 1024;
const BASE = 'https://models.example.com/triposr/';

// ---------------------------------------------------------------------------------------------------
// Fixtures

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An encoder graph whose tensors keep their data in `locations` (repeats allowed), plus inline filler. */
function encoderOnnx(locations: string[], fillerBytes = 3000): Uint8Array {
  const external = locations.map((location, i) =>
    onnx.TensorProto.create({
      name: `w${i}`,
      dims: [4],
      dataType: onnx.TensorProto.DataType.FLOAT,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(16 * i) },
        { key: 'length', value: '16' },
      ],
    }),
  );
  const filler = onnx.TensorProto.create({
    name: 'inline',
    dims: [fillerBytes / 4],
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: bytesOf(fillerBytes, 99),
  });
  const graph = onnx.GraphProto.create({ name: 'encoder', node: [], initializer: [...external, filler] });
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'cadlift-tests', opsetImport: [{ domain: '', version: 17 }], graph });
  // protobufjs hands back a Buffer in Node; the app sees plain Uint8Arrays.
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

const encoder = encoderOnnx(['weights.bin', 'extra.bin', 'weights.bin']);
const weights = bytesOf(5000, 1);
const extra = bytesOf(700, 2);
const decoder = bytesOf(5000, 3);

function manifestOf(overrides: Partial<ModelManifest> = {}, files?: ModelFile[]): ModelManifest {
  return {
    version: 1,
    id: 'triposr',
    name: 'TripoSR',
    license: 'MIT',
    revision: 'rev-a',
    files: files ?? [
      { role: 'encoder', name: 'encoder.onnx', url: `${BASE}encoder.onnx`, bytes: encoder.length, sha256: sha256(encoder) },
      { role: 'encoder-data', name: 'weights.bin', url: `${BASE}weights.bin`, bytes: weights.length, sha256: sha256(weights) },
      { role: 'decoder', name: 'decoder.onnx', url: `${BASE}decoder.onnx`, bytes: decoder.length, sha256: sha256(decoder) },
    ],
    contract: { image: [1, 3, 512, 512], triplane: [1, 3, 40, 64, 64], features: 120 },
    requirements: { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 },
    ...overrides,
  };
}

/** The decoder entry of a manifest, changed. */
function withDecoder(m: ModelManifest, change: Partial<ModelFile>): ModelManifest {
  return { ...m, files: m.files.map((f) => (f.role === 'decoder' ? { ...f, ...change } : f)) };
}

// ---------------------------------------------------------------------------------------------------
// A small fake HTTP server behind an injected fetch

interface Served {
  bytes: Uint8Array;
  /** Answer 200 with the whole body whatever the Range. */
  ignoreRange?: boolean;
  /** Announce the full length but send only the file's first this-many bytes, then end cleanly. */
  truncateTo?: number;
  /** Break the connection once this many bytes of the file were sent (counted over responses); once. */
  failAfter?: number;
  /** No Content-Length header. */
  noLength?: boolean;
  /** 206 with a Content-Range one byte off. */
  wrongRange?: boolean;
  /** No Content-Range header, as when a cross-origin server does not expose it. */
  hideContentRange?: boolean;
  /** Answer every request with this status. */
  status?: number;
}

interface Logged {
  url: string;
  range: string | null;
}

class FakeServer {
  readonly files = new Map<string, Served>();
  readonly redirects = new Map<string, string>();
  readonly requests: Logged[] = [];
  private readonly sent = new Map<string, number>();

  constructor(readonly chunkBytes = 300) {}

  serve(url: string, file: Served): this {
    this.files.set(url, file);
    return this;
  }

  /** Requests whose final URL ends with `name`. */
  requestsFor(name: string): Logged[] {
    return this.requests.filter((r) => r.url.endsWith(`/${name}`));
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const signal = init?.signal ?? undefined;
    const range = new Headers(init?.headers).get('range');
    let url = String(input);
    // fetch follows redirects and keeps the Range header, as browsers do.
    for (;;) {
      if (signal?.aborted) throw new DOMException('The operation was aborted.', 'AbortError');
      this.requests.push({ url, range });
      const to = this.redirects.get(url);
      if (!to) break;
      url = to;
    }
    const file = this.files.get(url);
    const response = file ? this.respond(url, file, range, signal) : new Response('not found', { status: 404 });
    Object.defineProperty(response, 'url', { value: url });
    return response;
  };

  private respond(url: string, file: Served, range: string | null, signal: AbortSignal | undefined): Response {
    if (file.status) return new Response('nope', { status: file.status });
    const length = file.bytes.length;
    const headers = new Headers({ 'content-type': 'application/octet-stream' });
    let start = 0;
    let end = length - 1;
    let status = 200;
    const match = range && !file.ignoreRange ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    if (match) {
      start = Number(match[1]);
      end = Math.min(Number(match[2]), length - 1);
      if (start >= length) return new Response(null, { status: 416, headers: { 'content-range': `bytes */${length}` } });
      status = 206;
      const shift = file.wrongRange ? 1 : 0;
      if (!file.hideContentRange) headers.set('content-range', `bytes ${start + shift}-${end + shift}/${length}`);
    }
    if (!file.noLength) headers.set('content-length', String(end - start + 1));
    const body = file.bytes.subarray(start, Math.min(end + 1, file.truncateTo ?? Infinity));
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        signal?.addEventListener('abort', () => controller.error(new DOMException('The operation was aborted.', 'AbortError')));
      },
      pull: (controller) => {
        const sent = this.sent.get(url) ?? 0;
        if (file.failAfter !== undefined && sent >= file.failAfter) {
          file.failAfter = undefined;
          controller.error(new TypeError('network error'));
          return;
        }
        if (offset >= body.length) {
          controller.close();
          return;
        }
        const room = file.failAfter === undefined ? Infinity : file.failAfter - sent;
        const n = Math.min(this.chunkBytes, body.length - offset, room);
        controller.enqueue(body.slice(offset, offset + n));
        offset += n;
        this.sent.set(url, sent + n);
      },
    });
    return new Response(stream, { status, headers });
  }
}

function standardServer(): FakeServer {
  return new FakeServer()
    .serve(`${BASE}encoder.onnx`, { bytes: encoder })
    .serve(`${BASE}weights.bin`, { bytes: weights })
    .serve(`${BASE}extra.bin`, { bytes: extra })
    .serve(`${BASE}decoder.onnx`, { bytes: decoder });
}

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

function pieceCount(bytes: number): number {
  return Math.ceil(bytes / PIECE);
}

async function pieceKeys(store: MemoryModelStore, file: string, key = 'v1/triposr/rev-a'): Promise<string[]> {
  return (await store.keys(`${key}/${file}/`)).filter((k) => k.includes('/piece-'));
}

// ---------------------------------------------------------------------------------------------------

describe('loadModel', () => {
  it('downloads every file in Range pieces, verifies it and stores it piece by piece', async () => {
    const server = standardServer();
    const store = new MemoryModelStore();
    const events: ModelProgress[] = [];
    const model = await loadModel(manifestOf(), {
      store,
      fetch: server.fetch,
      pieceBytes: PIECE,
      onProgress: (p) => events.push(p),
    });

    expect(model.encoder).toEqual(encoder);
    expect(model.decoder).toEqual(decoder);
    expect(model.fromCache).toBe(false);
    expect(model.cacheKey).toBe('v1/triposr/rev-a');
    // Names come from the encoder, once each, in order; the unlisted one sits next to the encoder.
    expect(model.externalData.map((d) => d.path)).toEqual(['weights.bin', 'extra.bin']);
    expect(model.externalData[0]!.data).toEqual(weights);
    expect(model.externalData[1]!.data).toEqual(extra);

    // One Range request per piece, aligned to pieces, the last one cut at the file's end.
    expect(server.requestsFor('decoder.onnx').map((r) => r.range)).toEqual([
      'bytes=0-1023',
      'bytes=1024-2047',
      'bytes=2048-3071',
      'bytes=3072-4095',
      'bytes=4096-4999',
    ]);
    // Its size is unknown until the first answer, so it asks for a whole piece and gets the rest of the file.
    expect(server.requestsFor('extra.bin')).toEqual([{ url: `${BASE}extra.bin`, range: 'bytes=0-1023' }]);
    expect(server.requests.length).toBe(pieceCount(encoder.length) + pieceCount(5000) + 1 + pieceCount(5000));

    // Pieces and a `complete` entry with the verified hash; no partial entry left behind.
    expect(await pieceKeys(store, 'decoder.onnx')).toHaveLength(5);
    const complete = JSON.parse(new TextDecoder().decode(await store.get('v1/triposr/rev-a/decoder.onnx/complete')));
    expect(complete).toEqual({ bytes: 5000, sha256: sha256(decoder), pieces: 5, pieceBytes: PIECE });
    const extraComplete = JSON.parse(new TextDecoder().decode(await store.get('v1/triposr/rev-a/extra.bin/complete')));
    expect(extraComplete.sha256).toBe(sha256(extra));
    expect(await store.get('v1/triposr/rev-a/decoder.onnx/partial')).toBeUndefined();

    // Progress: files in order, bytes never go back, each ends verified and cached at its full size.
    expect([...new Set(events.map((e) => e.file))]).toEqual(['encoder.onnx', 'weights.bin', 'extra.bin', 'decoder.onnx']);
    for (const file of ['encoder.onnx', 'weights.bin', 'extra.bin', 'decoder.onnx']) {
      const own = events.filter((e) => e.file === file);
      own.slice(1).forEach((e, i) => expect(e.loaded).toBeGreaterThanOrEqual(own[i]!.loaded));
      expect(own[0]!.phase).toBe('checking');
      expect(own.at(-2)!.phase).toBe('verifying');
      expect(own.at(-1)).toMatchObject({ phase: 'cached', fromCache: false });
      expect(own.at(-1)!.loaded).toBe(own.at(-1)!.total);
      expect(own.every((e) => !e.fromCache)).toBe(true);
    }
    // The unlisted file's size comes from the server.
    expect(events.filter((e) => e.file === 'extra.bin' && e.phase === 'downloading').at(-1)!.total).toBe(700);
    // At least one event per stored piece.
    expect(events.filter((e) => e.file === 'decoder.onnx' && e.phase === 'downloading').length).toBeGreaterThanOrEqual(5);
  });

  it('loads a second time from the cache with no request at all', async () => {
    const server = standardServer();
    const store = new MemoryModelStore();
    await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE });
    const before = server.requests.length;
    const events: ModelProgress[] = [];
    const model = await loadModel(manifestOf(), { store, fetch: server.fetch, onProgress: (p) => events.push(p) });

    expect(server.requests.length).toBe(before);
    expect(model.fromCache).toBe(true);
    expect(model.encoder).toEqual(encoder);
    expect(model.decoder).toEqual(decoder);
    expect(model.externalData.map((d) => [d.path, d.data.length])).toEqual([
      ['weights.bin', 5000],
      ['extra.bin', 700],
    ]);
    // The pieces keep the size they were stored with, whatever pieceBytes says now.
    expect(events.filter((e) => e.phase === 'downloading' || e.phase === 'verifying')).toEqual([]);
    const finals = events.filter((e) => e.phase === 'cached' && e.loaded === e.total);
    expect(finals.map((e) => [e.file, e.fromCache])).toEqual([
      ['encoder.onnx', true],
      ['weights.bin', true],
      ['extra.bin', true],
      ['decoder.onnx', true],
    ]);
  });

  it('discards a truncated file and says so', async () => {
    const server = standardServer();
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, truncateTo: 1500 });
    const store = new MemoryModelStore();
    const error = await appError(loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE }));

    expect(error.code).toBe('model-truncated');
    expect(error.message).toBe(
      'The model file decoder.onnx is truncated: expected 5.0 kB, got 1.5 kB. Check your connection and press Generate to retry.',
    );
    expect(await store.keys('v1/triposr/rev-a/decoder.onnx/')).toEqual([]);
    // Files finished before it stay cached.
    expect(await store.get('v1/triposr/rev-a/encoder.onnx/complete')).toBeDefined();
  });

  it('reports a server file smaller than the manifest says as truncated', async () => {
    const server = standardServer();
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder.subarray(0, 3000) });
    const store = new MemoryModelStore();
    const error = await appError(loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE }));

    expect(error.code).toBe('model-truncated');
    expect(error.message).toContain('expected 5.0 kB, got 3.0 kB');
    expect(await store.keys('v1/triposr/rev-a/decoder.onnx/')).toEqual([]);
  });

  it('discards a file whose checksum does not match', async () => {
    const server = standardServer();
    const store = new MemoryModelStore();
    const m = withDecoder(manifestOf(), { sha256: sha256(bytesOf(5000, 4)) });
    const error = await appError(loadModel(m, { store, fetch: server.fetch, pieceBytes: PIECE }));

    expect(error.code).toBe('model-corrupt');
    expect(error.message).toContain('decoder.onnx');
    expect(await store.keys('v1/triposr/rev-a/decoder.onnx/')).toEqual([]);
    expect(await store.get('v1/triposr/rev-a/weights.bin/complete')).toBeDefined();
  });

  it('downloads a new revision anew and deletes the old one once it is complete', async () => {
    const server = standardServer();
    const store = new MemoryModelStore();
    await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE });
    expect((await store.keys('v1/triposr/rev-a/')).length).toBeGreaterThan(0);

    const decoderB = bytesOf(4000, 5);
    server.serve(`${BASE}decoder.onnx`, { bytes: decoderB });
    const before = server.requests.length;
    const b = withDecoder(manifestOf({ revision: 'rev-b' }), { bytes: 4000, sha256: sha256(decoderB) });
    const model = await loadModel(b, { store, fetch: server.fetch, pieceBytes: PIECE });

    expect(model.cacheKey).toBe('v1/triposr/rev-b');
    expect(model.fromCache).toBe(false);
    expect(model.decoder).toEqual(decoderB);
    // Every file again, not only the one that changed: bytes are never shared across revisions.
    expect(server.requests.length - before).toBe(pieceCount(encoder.length) + pieceCount(5000) + 1 + pieceCount(4000));
    expect(await store.keys('v1/triposr/rev-a/')).toEqual([]);
    expect(await store.get('v1/triposr/rev-b/decoder.onnx/complete')).toBeDefined();

    const again = await loadModel(b, { store, fetch: server.fetch });
    expect(again.fromCache).toBe(true);
  });

  it('keeps the old revision while the new one is incomplete', async () => {
    const server = standardServer();
    const store = new MemoryModelStore();
    await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE });
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, status: 503 });
    const error = await appError(loadModel(manifestOf({ revision: 'rev-b' }), { store, fetch: server.fetch, pieceBytes: PIECE }));

    expect(error.code).toBe('model-download-failed');
    expect(error.message).toBe('Could not download decoder.onnx (HTTP 503); check your connection and press Generate to retry.');
    expect(await store.get('v1/triposr/rev-a/decoder.onnx/complete')).toBeDefined();
  });

  it('resumes an interrupted download with only the missing ranges', async () => {
    const server = standardServer();
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, failAfter: 2500 });
    const store = new MemoryModelStore();
    const error = await appError(loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE }));

    expect(error.code).toBe('model-download-failed');
    expect(error.message).toContain('decoder.onnx');
    // The two whole pieces are kept; the half-received third is not.
    expect((await pieceKeys(store, 'decoder.onnx')).sort()).toEqual([
      'v1/triposr/rev-a/decoder.onnx/piece-0',
      'v1/triposr/rev-a/decoder.onnx/piece-1',
    ]);
    expect(await modelDownloadSize(manifestOf(), store)).toEqual({ total: encoder.length + 5000 + 5000, missing: 5000 - 2048 });

    const before = server.requests.length;
    const events: ModelProgress[] = [];
    const model = await loadModel(manifestOf(), {
      store,
      fetch: server.fetch,
      pieceBytes: PIECE,
      onProgress: (p) => events.push(p),
    });
    const resumed = server.requests.slice(before);
    expect(resumed.map((r) => r.range)).toEqual(['bytes=2048-3071', 'bytes=3072-4095', 'bytes=4096-4999']);
    expect(model.decoder).toEqual(decoder);
    expect(model.fromCache).toBe(false);
    const complete = JSON.parse(new TextDecoder().decode(await store.get('v1/triposr/rev-a/decoder.onnx/complete')));
    expect(complete.sha256).toBe(sha256(decoder));
    const own = events.filter((e) => e.file === 'decoder.onnx');
    expect(own.find((e) => e.phase === 'downloading')!.loaded).toBe(2048);
  });

  it('resumes with the piece size the download began with', async () => {
    const server = standardServer();
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, failAfter: 2500 });
    const store = new MemoryModelStore();
    await appError(loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE }));
    const before = server.requests.length;
    const model = await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: 4096 });

    expect(server.requests.slice(before).map((r) => r.range)).toEqual(['bytes=2048-3071', 'bytes=3072-4095', 'bytes=4096-4999']);
    expect(model.decoder).toEqual(decoder);
  });

  it('streams a whole-body 200 from a server that ignores Range, still piece by piece', async () => {
    const server = standardServer();
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, ignoreRange: true });
    const store = new MemoryModelStore();
    const model = await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE });

    expect(model.decoder).toEqual(decoder);
    expect(server.requestsFor('decoder.onnx')).toHaveLength(1);
    expect(await pieceKeys(store, 'decoder.onnx')).toHaveLength(5);
    expect((await store.get('v1/triposr/rev-a/decoder.onnx/piece-4'))!.length).toBe(5000 - 4096);
  });

  it('streams a file of unknown size to its end', async () => {
    const server = standardServer();
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, ignoreRange: true, noLength: true });
    const store = new MemoryModelStore();
    const m = withDecoder(manifestOf(), { bytes: undefined, sha256: undefined });
    const events: ModelProgress[] = [];
    const model = await loadModel(m, { store, fetch: server.fetch, pieceBytes: PIECE, onProgress: (p) => events.push(p) });

    expect(model.decoder).toEqual(decoder);
    expect(await pieceKeys(store, 'decoder.onnx')).toHaveLength(5);
    const own = events.filter((e) => e.file === 'decoder.onnx' && e.phase === 'downloading');
    expect(own.every((e) => e.total === undefined)).toBe(true);
    expect(events.filter((e) => e.file === 'decoder.onnx').at(-1)).toMatchObject({ loaded: 5000, total: 5000 });
    // A file that cannot resume still counts as cached once complete.
    const complete = JSON.parse(new TextDecoder().decode(await store.get('v1/triposr/rev-a/decoder.onnx/complete')));
    expect(complete).toMatchObject({ bytes: 5000, sha256: sha256(decoder) });
  });

  it('starts over from byte 0 when a resumed request is answered with the whole file', async () => {
    const server = standardServer();
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, failAfter: 2500 });
    const store = new MemoryModelStore();
    await appError(loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE }));
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, ignoreRange: true });
    const before = server.requests.length;
    const model = await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE });

    expect(server.requests.slice(before).map((r) => r.range)).toEqual(['bytes=2048-3071']);
    expect(model.decoder).toEqual(decoder);
  });

  it('detects a truncated whole-body 200 as well', async () => {
    const server = standardServer();
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, ignoreRange: true, truncateTo: 4500 });
    const store = new MemoryModelStore();
    const error = await appError(loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE }));

    expect(error.code).toBe('model-truncated');
    expect(error.message).toContain('expected 5.0 kB, got 4.5 kB');
    expect(await store.keys('v1/triposr/rev-a/decoder.onnx/')).toEqual([]);
  });

  it('trusts the range it asked for when Content-Range is not exposed', async () => {
    // 2048 bytes: the size is only learnt from a short or refused range.
    const even = bytesOf(2048, 6);
    const server = standardServer();
    server.serve(`${BASE}extra.bin`, { bytes: extra, hideContentRange: true });
    server.serve(`${BASE}decoder.onnx`, { bytes: even, hideContentRange: true });
    const store = new MemoryModelStore();
    const m = withDecoder(manifestOf(), { bytes: undefined, sha256: sha256(even) });
    const model = await loadModel(m, { store, fetch: server.fetch, pieceBytes: PIECE });

    expect(model.externalData[1]!.data).toEqual(extra);
    expect(server.requestsFor('extra.bin')).toHaveLength(1);
    expect(model.decoder).toEqual(even);
    expect(server.requestsFor('decoder.onnx').map((r) => r.range)).toEqual(['bytes=0-1023', 'bytes=1024-2047', 'bytes=2048-3071']);
    const complete = JSON.parse(new TextDecoder().decode(await store.get('v1/triposr/rev-a/decoder.onnx/complete')));
    expect(complete).toMatchObject({ bytes: 2048, pieces: 2 });
  });

  it('follows a redirect to another origin, with the Range kept', async () => {
    const cdn = 'https://cdn.example.net/lfs/0123abcd';
    const server = standardServer();
    server.files.delete(`${BASE}encoder.onnx`);
    server.serve(cdn, { bytes: encoder });
    server.redirects.set(`${BASE}encoder.onnx`, cdn);
    const store = new MemoryModelStore();
    const model = await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE });

    expect(model.encoder).toEqual(encoder);
    const hops = server.requests.filter((r) => r.url === cdn || r.url === `${BASE}encoder.onnx`);
    expect(hops.slice(0, 2)).toEqual([
      { url: `${BASE}encoder.onnx`, range: 'bytes=0-1023' },
      { url: cdn, range: 'bytes=0-1023' },
    ]);
    // External data is still looked up next to the encoder's own URL, not the CDN's.
    expect(server.requestsFor('extra.bin')[0]!.url).toBe(`${BASE}extra.bin`);
  });

  it('calls fetch unbound, as the global fetch requires', async () => {
    const server = standardServer();
    // The worker's fetch throws "Illegal invocation" when called as a method of another object.
    const strictFetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
      return server.fetch(input, init);
    } as typeof fetch;
    const model = await loadModel(manifestOf(), { store: new MemoryModelStore(), fetch: strictFetch });
    expect(model.decoder).toEqual(decoder);
  });

  it('treats a 206 with the wrong Content-Range as a failed download and keeps earlier pieces', async () => {
    const server = standardServer();
    server.serve(`${BASE}decoder.onnx`, { bytes: decoder, wrongRange: true });
    const store = new MemoryModelStore();
    const error = await appError(loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE }));

    expect(error.code).toBe('model-download-failed');
    expect(error.message).toContain('asked for bytes 0-1023, got "bytes 1-1024/5000"');
    expect(await store.get('v1/triposr/rev-a/weights.bin/complete')).toBeDefined();
  });

  it('stops at once on abort, throws AbortError and keeps the stored pieces', async () => {
    const server = standardServer();
    const store = new MemoryModelStore();
    const controller = new AbortController();
    const error = await loadModel(manifestOf(), {
      store,
      fetch: server.fetch,
      pieceBytes: PIECE,
      signal: controller.signal,
      // Every chunk reports, so the abort lands inside the third piece.
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.file === 'decoder.onnx' && p.loaded >= 2100) controller.abort();
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(error).not.toBeInstanceOf(AppError);
    expect((await pieceKeys(store, 'decoder.onnx')).sort()).toEqual([
      'v1/triposr/rev-a/decoder.onnx/piece-0',
      'v1/triposr/rev-a/decoder.onnx/piece-1',
    ]);
    // Nothing was requested after the abort.
    expect(server.requestsFor('decoder.onnx').map((r) => r.range)).toEqual(['bytes=0-1023', 'bytes=1024-2047', 'bytes=2048-3071']);

    const before = server.requests.length;
    const model = await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE });
    expect(server.requests.slice(before).map((r) => r.range)).toEqual(['bytes=2048-3071', 'bytes=3072-4095', 'bytes=4096-4999']);
    expect(model.decoder).toEqual(decoder);
  });

  it('throws AbortError before any request when the signal is already aborted', async () => {
    const server = standardServer();
    const error = await loadModel(manifestOf(), { store: new MemoryModelStore(), fetch: server.fetch, signal: AbortSignal.abort() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as DOMException).name).toBe('AbortError');
    expect(server.requests).toEqual([]);
  });

  it('refuses to start when the storage estimate leaves too little room', async () => {
    const server = standardServer();
    const store = new MemoryModelStore();
    const MB = 1024 ** 2;
    const estimate = async (): Promise<StorageEstimate> => ({ quota: 100 * MB, usage: 90 * MB });
    const error = await appError(loadModel(manifestOf(), { store, fetch: server.fetch, estimate }));

    expect(error.code).toBe('storage-full');
    // What is still to download plus the default 64 MiB of headroom.
    const needed = encoder.length + weights.length + decoder.length + 64 * MB;
    expect(error.message).toBe(
      `The model needs ${formatBytes(needed)} of storage but only ${formatBytes(10 * MB)} is free; free up disk space or delete cached models in Settings → Storage, then press Generate to retry.`,
    );
    expect(server.requests).toEqual([]);

    // Enough room once the margin fits; nothing asked when everything is cached.
    const roomy = async (): Promise<StorageEstimate> => ({ quota: 200 * MB, usage: 90 * MB });
    await loadModel(manifestOf(), { store, fetch: server.fetch, estimate: roomy, pieceBytes: PIECE });
    let asked = 0;
    await loadModel(manifestOf(), { store, fetch: server.fetch, estimate: async () => (asked++, { quota: 0, usage: 0 }) });
    expect(asked).toBe(0);
  });

  it('turns a QuotaExceededError from the store into storage-full and keeps what was stored', async () => {
    const server = standardServer();
    const store = new MemoryModelStore({ quotaBytes: encoder.length + weights.length + 2000 });
    const error = await appError(loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE }));

    expect(error.code).toBe('storage-full');
    expect(error.message).toContain('while saving');
    expect(await store.get('v1/triposr/rev-a/encoder.onnx/complete')).toBeDefined();
    expect((await pieceKeys(store, 'extra.bin')).length + (await pieceKeys(store, 'decoder.onnx')).length).toBeGreaterThan(0);
  });

  it('rejects an encoder that is not ONNX', async () => {
    const junk = bytesOf(2000, 7);
    const server = standardServer().serve(`${BASE}encoder.onnx`, { bytes: junk });
    const store = new MemoryModelStore();
    const m = manifestOf({}, [
      { role: 'encoder', name: 'encoder.onnx', url: `${BASE}encoder.onnx` },
      { role: 'decoder', name: 'decoder.onnx', url: `${BASE}decoder.onnx` },
    ]);
    const error = await appError(loadModel(m, { store, fetch: server.fetch, pieceBytes: PIECE }));
    expect(error.code).toBe('model-corrupt');
    // Unverified bytes that do not parse are not kept.
    expect(await store.keys('v1/triposr/rev-a/encoder.onnx/')).toEqual([]);
  });

  it("fetches the decoder's external data next to it and hands it over by name", async () => {
    const decoderWithData = encoderOnnx(['decoder.bin']);
    const decoderData = bytesOf(900, 7);
    const server = standardServer()
      .serve(`${BASE}decoder.onnx`, { bytes: decoderWithData })
      .serve(`${BASE}decoder.bin`, { bytes: decoderData });
    const m = withDecoder(manifestOf(), { bytes: decoderWithData.length, sha256: sha256(decoderWithData) });
    const store = new MemoryModelStore();
    const model = await loadModel(m, { store, fetch: server.fetch, pieceBytes: PIECE });
    expect([...model.decoderExternalData.keys()]).toEqual(['decoder.bin']);
    expect(model.decoderExternalData.get('decoder.bin')).toEqual(decoderData);
    expect(model.externalData.map((d) => d.path)).toEqual(['weights.bin', 'extra.bin']);
    const again = await loadModel(m, { store, fetch: server.fetch, pieceBytes: PIECE });
    expect(again.fromCache).toBe(true);
    expect(again.decoderExternalData.get('decoder.bin')).toEqual(decoderData);
  });

  it('refuses external data outside the model folder', async () => {
    const evil = encoderOnnx(['../secrets.bin']);
    const server = standardServer().serve(`${BASE}encoder.onnx`, { bytes: evil });
    const m = manifestOf({}, [
      { role: 'encoder', name: 'encoder.onnx', url: `${BASE}encoder.onnx` },
      { role: 'decoder', name: 'decoder.onnx', url: `${BASE}decoder.onnx` },
    ]);
    const error = await appError(loadModel(m, { store: new MemoryModelStore(), fetch: server.fetch }));
    expect(error.code).toBe('model-incompatible');
    expect(server.requests.some((r) => r.url.includes('secrets'))).toBe(false);
  });
});

describe('model cache bookkeeping', () => {
  it('reports download size, cached bytes and deletes by model id', async () => {
    const server = standardServer();
    const store = new MemoryModelStore();
    const total = encoder.length + weights.length + decoder.length;
    expect(await modelDownloadSize(manifestOf(), store)).toEqual({ total, missing: total });
    const unsized = withDecoder(manifestOf(), { bytes: undefined });
    expect(await modelDownloadSize(unsized, store)).toEqual({ total: undefined, missing: undefined });

    await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE });
    expect(await modelDownloadSize(manifestOf(), store)).toEqual({ total, missing: 0 });
    // Once cached, a file's size is known even when the manifest does not give it.
    expect(await modelDownloadSize(unsized, store)).toEqual({ total, missing: 0 });
    const bytes = await cachedModelBytes(store);
    expect(bytes).toBeGreaterThanOrEqual(total + extra.length);
    expect(bytes).toBeLessThan(total + extra.length + 1000);

    await store.put('v1/other/rev/x.onnx/piece-0', new Uint8Array(10));
    await deleteCachedModels(store, 'triposr');
    expect(await store.keys()).toEqual(['v1/other/rev/x.onnx/piece-0']);
    await deleteCachedModels(store);
    expect(await cachedModelBytes(store)).toBe(0);
  });

  it('builds versioned, path-safe cache keys', () => {
    expect(cacheKey({ id: 'stabilityai/TripoSR', revision: 'main' })).toBe('v1/stabilityai%2FTripoSR/main');
    expect(cacheKey({ id: 'triposr', revision: 'rev-b' })).not.toBe(cacheKey({ id: 'triposr', revision: 'rev-a' }));
  });
});

describe('fetchManifest', () => {
  const url = 'https://app.example.com/models/manifest.json';
  const json = (value: unknown): Served => ({ bytes: new TextEncoder().encode(JSON.stringify(value)) });
  const raw = {
    ...manifestOf(),
    files: [
      { role: 'encoder', name: 'encoder.onnx', url: 'triposr/encoder.onnx', sha256: 'AB'.repeat(32) },
      { role: 'decoder', name: 'decoder.onnx', url: 'https://hf.example.co/resolve/main/decoder.onnx', bytes: 10 },
    ],
  };

  it('resolves relative file URLs against the manifest URL and normalises hashes', async () => {
    const server = new FakeServer().serve(url, json(raw));
    const m = await fetchManifest(url, { fetch: server.fetch });
    expect(m.files.map((f) => f.url)).toEqual([
      'https://app.example.com/models/triposr/encoder.onnx',
      'https://hf.example.co/resolve/main/decoder.onnx',
    ]);
    expect(m.files[0]!.sha256).toBe('ab'.repeat(32));
    expect(m.id).toBe('triposr');
  });

  it('resolves against where a redirect led', async () => {
    const server = new FakeServer().serve('https://mirror.example.org/m/manifest.json', json(raw));
    server.redirects.set(url, 'https://mirror.example.org/m/manifest.json');
    const m = await fetchManifest(url, { fetch: server.fetch });
    expect(m.files[0]!.url).toBe('https://mirror.example.org/m/triposr/encoder.onnx');
  });

  const invalid: [string, unknown, RegExp][] = [
    ['a list', [], /not a JSON object/],
    ['a future version', { ...raw, version: 2 }, /version must be 1/],
    ['no revision', { ...raw, revision: '' }, /revision must be a non-empty string/],
    ['no decoder', { ...raw, files: [raw.files[0]] }, /exactly one decoder file, not 0/],
    ['two encoders', { ...raw, files: [raw.files[0], { ...raw.files[0], name: 'b.onnx' }, raw.files[1]] }, /exactly one encoder/],
    ['a bad hash', { ...raw, files: [{ ...raw.files[0], sha256: 'xyz' }, raw.files[1]] }, /files\[0\]\.sha256 must be 64 hex digits/],
    ['a negative size', { ...raw, files: [raw.files[0], { ...raw.files[1], bytes: -1 }] }, /files\[1\]\.bytes/],
    ['a duplicate name', { ...raw, files: [raw.files[0], { ...raw.files[1], name: 'encoder.onnx' }] }, /listed twice/],
    ['a bad role', { ...raw, files: [{ ...raw.files[0], role: 'weights' }, raw.files[1]] }, /files\[0\]\.role/],
    ['a non-http URL', { ...raw, files: [raw.files[0], { ...raw.files[1], url: 'javascript:alert(1)' }] }, /files\[1\]\.url/],
    ['no contract', { ...raw, contract: undefined }, /contract/],
  ];
  for (const [what, value, pattern] of invalid) {
    it(`rejects a manifest with ${what}`, async () => {
      const server = new FakeServer().serve(url, json(value));
      const error = await appError(fetchManifest(url, { fetch: server.fetch }));
      expect(error.code).toBe('manifest-invalid');
      expect(error.message).toMatch(pattern);
      expect(error.message).toMatch(/^The model manifest is invalid \(.+\); reload the page/);
    });
  }

  it('rejects text that is not JSON', async () => {
    const server = new FakeServer().serve(url, { bytes: new TextEncoder().encode('<html>') });
    const error = await appError(fetchManifest(url, { fetch: server.fetch }));
    expect(error.code).toBe('manifest-invalid');
    expect(error.message).toContain('not valid JSON');
  });

  it('reports an HTTP error as a failed download', async () => {
    const server = new FakeServer();
    const error = await appError(fetchManifest(url, { fetch: server.fetch, store: new MemoryModelStore() }));
    expect(error.code).toBe('model-download-failed');
    expect(error.message).toContain('HTTP 404');
  });

  it('keeps a copy beside the models and uses it offline and while the host fails, never for an invalid one', async () => {
    const store = new MemoryModelStore();
    const server = new FakeServer().serve(url, json(raw));
    const online = await fetchManifest(url, { fetch: server.fetch, store });
    expect(await store.keys('manifest-copy/')).toHaveLength(1);

    const offline: typeof fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect(await fetchManifest(url, { fetch: offline, store })).toEqual(online);
    // The host answering with an error (here 404: the manifest gone) also falls back to the copy.
    expect(await fetchManifest(url, { fetch: new FakeServer().fetch, store })).toEqual(online);
    // Another URL has no copy: the network error stands.
    const other = await appError(fetchManifest('https://app.example.com/models/other.json', { fetch: offline, store }));
    expect(other.code).toBe('model-download-failed');
    expect(other.message).toContain('network error');
    // A manifest the host now serves broken is reported, not papered over with the copy.
    const broken = new FakeServer().serve(url, json({ ...raw, version: 2 }));
    expect((await appError(fetchManifest(url, { fetch: broken.fetch, store }))).code).toBe('manifest-invalid');
  });

  it('still works when the store refuses the copy (full or blocked)', async () => {
    const store = new MemoryModelStore({ quotaBytes: 10 });
    const server = new FakeServer().serve(url, json(raw));
    expect((await fetchManifest(url, { fetch: server.fetch, store })).id).toBe('triposr');
    expect(await store.keys()).toEqual([]);
  });
});

describe('segmenter manifests', () => {
  const fixtures = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
  const SEG_BASE = 'https://app.example.com/models/';
  const manifestUrl = `${SEG_BASE}segmenter-test.manifest.json`;
  const manifestText = readFileSync(`${fixtures}segmenter-test.manifest.json`, 'utf8');
  const fixture = JSON.parse(manifestText) as SegmenterManifest;
  const names = ['config.json', 'preprocessor_config.json', 'onnx/model.onnx'];
  const bytesFor = (name: string): Uint8Array => new Uint8Array(readFileSync(`${fixtures}segmenter-test/${name}`));
  const key = `v1/segmenter-test/${fixture.revision}`;
  const json = (value: unknown): Served => ({ bytes: new TextEncoder().encode(JSON.stringify(value)) });

  /** The committed fixture manifest and its folder, served next to each other as the app would. */
  function segmenterServer(manifest: unknown = fixture): FakeServer {
    const server = new FakeServer(100).serve(manifestUrl, json(manifest));
    for (const name of names) server.serve(`${SEG_BASE}segmenter-test/${name}`, { bytes: bytesFor(name) });
    return server;
  }

  function withFiles(change: (files: Record<string, unknown>[]) => unknown[]): unknown {
    return { ...fixture, files: change(fixture.files.map((f) => ({ ...f }))) };
  }

  it('parses the committed fixture and resolves its URLs against the manifest', async () => {
    const server = segmenterServer();
    const m = await fetchSegmenterManifest(manifestUrl, { fetch: server.fetch });
    expect(m.kind).toBe('segmenter');
    expect(m.contract).toEqual({ input: [1, 3, 64, 64], output: [1, 1, 64, 64] });
    expect(m.files.map((f) => [f.role, f.name, f.url])).toEqual(
      names.map((n) => ['segmenter', n, `${SEG_BASE}segmenter-test/${n}`]),
    );
    expect(parseManifest(JSON.parse(manifestText), manifestUrl, 'segmenter')).toEqual(m);
  });

  it('downloads, verifies and caches every file under its folder path, then loads with no request', async () => {
    const server = segmenterServer();
    const store = new MemoryModelStore();
    const manifest = await fetchSegmenterManifest(manifestUrl, { fetch: server.fetch });
    expect(await modelDownloadSize(manifest, store)).toEqual({ total: 31 + 388 + 659, missing: 31 + 388 + 659 });
    const events: ModelProgress[] = [];
    const loaded = await loadModelFiles(manifest, {
      store,
      fetch: server.fetch,
      pieceBytes: 256,
      onProgress: (p) => events.push(p),
    });

    expect(loaded.fromCache).toBe(false);
    expect(loaded.cacheKey).toBe(key);
    expect(loaded.manifest).toBe(manifest);
    expect([...loaded.files.keys()]).toEqual(names);
    for (const name of names) expect(loaded.files.get(name)).toEqual(bytesFor(name));
    // In Range pieces like any model file: 659 bytes in pieces of 256.
    expect(server.requestsFor('model.onnx').map((r) => r.range)).toEqual(['bytes=0-255', 'bytes=256-511', 'bytes=512-658']);
    // A '/' in a name stays inside one key segment.
    const complete = JSON.parse(new TextDecoder().decode(await store.get(`${key}/onnx%2Fmodel.onnx/complete`)));
    expect(complete).toEqual({ bytes: 659, sha256: fixture.files[2]!.sha256, pieces: 3, pieceBytes: 256 });
    expect(events.filter((e) => e.phase === 'cached').map((e) => e.file)).toEqual(names);
    expect(await modelDownloadSize(manifest, store)).toEqual({ total: 1078, missing: 0 });

    const before = server.requests.length;
    const again = await loadModelFiles(manifest, { store, fetch: server.fetch });
    expect(server.requests.length).toBe(before);
    expect(again.fromCache).toBe(true);
    expect(again.files).toEqual(loaded.files);
  });

  it('discards a file whose checksum does not match and keeps the others', async () => {
    const server = segmenterServer();
    const store = new MemoryModelStore();
    const manifest = await fetchSegmenterManifest(manifestUrl, { fetch: server.fetch });
    const bad: SegmenterManifest = {
      ...manifest,
      files: manifest.files.map((f) => (f.name === 'onnx/model.onnx' ? { ...f, sha256: sha256(bytesOf(659, 4)) } : f)),
    };
    const error = await appError(loadModelFiles(bad, { store, fetch: server.fetch }));

    expect(error.code).toBe('model-corrupt');
    expect(error.message).toBe(
      'The model file onnx/model.onnx is corrupt: its checksum does not match the manifest; press Generate to download it again.',
    );
    expect(await store.keys(`${key}/onnx%2Fmodel.onnx/`)).toEqual([]);
    expect(await store.get(`${key}/config.json/complete`)).toBeDefined();
  });

  it('deletes the old revision once a new one is complete, and only its own model', async () => {
    const server = segmenterServer();
    const store = new MemoryModelStore();
    const manifest = await fetchSegmenterManifest(manifestUrl, { fetch: server.fetch });
    await loadModelFiles(manifest, { store, fetch: server.fetch });
    await loadModel(manifestOf(), { store, fetch: standardServer().fetch, pieceBytes: PIECE });

    const next = await loadModelFiles({ ...manifest, revision: 'next' }, { store, fetch: server.fetch });
    expect(next.fromCache).toBe(false);
    expect(await store.keys(`${key}/`)).toEqual([]);
    expect((await store.keys('v1/segmenter-test/next/')).length).toBeGreaterThan(0);
    expect(await store.get('v1/triposr/rev-a/decoder.onnx/complete')).toBeDefined();

    await deleteCachedModels(store, 'segmenter-test');
    expect(await store.keys('v1/segmenter-test/')).toEqual([]);
    expect((await store.keys('v1/triposr/')).length).toBeGreaterThan(0);
  });

  it('refuses the free-space check like any model', async () => {
    const server = segmenterServer();
    const manifest = await fetchSegmenterManifest(manifestUrl, { fetch: server.fetch });
    const before = server.requests.length;
    const estimate = async (): Promise<StorageEstimate> => ({ quota: 1000, usage: 0 });
    const error = await appError(loadModelFiles(manifest, { store: new MemoryModelStore(), fetch: server.fetch, estimate }));
    expect(error.code).toBe('storage-full');
    expect(server.requests.length).toBe(before);
  });

  it('is refused by fetchManifest, which wants an image-to-3D model', async () => {
    const server = segmenterServer();
    const error = await appError(fetchManifest(manifestUrl, { fetch: server.fetch }));
    expect(error.code).toBe('manifest-invalid');
    expect(error.message).toBe(
      'The model manifest describes a background-removal (segmenter) model, not an image-to-3D model; choose the manifest of an image-to-3D model and retry.',
    );
  });

  it('refuses an image-to-3D manifest where a segmenter is wanted', async () => {
    const server = new FakeServer().serve(manifestUrl, json(manifestOf()));
    const error = await appError(fetchSegmenterManifest(manifestUrl, { fetch: server.fetch }));
    expect(error.code).toBe('manifest-invalid');
    expect(error.message).toMatch(/^The model manifest describes an image-to-3D model, not a background-removal/);
    // An explicit kind is the same as none.
    expect(parseManifest({ ...manifestOf(), kind: 'image-to-3d' }, BASE).kind).toBe('image-to-3d');
  });

  const invalid: [string, unknown, RegExp][] = [
    ['a name leaving the folder', withFiles((f) => [...f, { ...f[0], name: '../x', url: 'x' }]), /files\[3\]\.name must be a path inside the model folder/],
    ['a "." segment', withFiles((f) => [f[0], f[1], { ...f[2], name: 'onnx/./model.onnx' }]), /files\[2\]\.name/],
    ['an absolute name', withFiles((f) => [f[0], f[1], { ...f[2], name: '/onnx/model.onnx' }]), /files\[2\]\.name/],
    ['a backslash', withFiles((f) => [f[0], f[1], { ...f[2], name: 'onnx\\model.onnx' }]), /files\[2\]\.name/],
    ['no config.json', withFiles((f) => [f[1], f[2]]), /it must list config\.json/],
    ['no preprocessor_config.json', withFiles((f) => [f[0], f[2]]), /it must list preprocessor_config\.json/],
    ['no onnx graph', withFiles((f) => [f[0], f[1]]), /exactly one onnx\/\*\.onnx file, not 0/],
    ['two onnx graphs', withFiles((f) => [...f, { ...f[2], name: 'onnx/model_fp16.onnx' }]), /exactly one onnx\/\*\.onnx file, not 2/],
    ['an encoder role', withFiles((f) => [f[0], f[1], { ...f[2], role: 'encoder' }]), /files\[2\]\.role must be segmenter/],
    ['no contract', { ...fixture, contract: undefined }, /contract must give input and output shapes/],
    ['a contract of strings', { ...fixture, contract: { input: ['1'], output: [1] } }, /contract must give input and output/],
    ['bad requirements', { ...fixture, requirements: { maxBufferSize: -1 } }, /requirements must give/],
    ['an unknown kind', { ...fixture, kind: 'upscaler' }, /kind must be image-to-3d or segmenter, not "upscaler"/],
  ];
  for (const [what, value, pattern] of invalid) {
    it(`rejects a segmenter manifest with ${what}`, async () => {
      const server = new FakeServer().serve(manifestUrl, json(value));
      const error = await appError(fetchSegmenterManifest(manifestUrl, { fetch: server.fetch }));
      expect(error.code).toBe('manifest-invalid');
      expect(error.message).toMatch(pattern);
      expect(error.message).toMatch(/^The model manifest is invalid \(.+\); reload the page/);
    });
  }

  it('accepts optional requirements and extra files such as external data', () => {
    const value = withFiles((f) => [...f, { ...f[2], name: 'onnx/model.onnx_data', url: 'x' }]);
    const m = parseManifest({ ...(value as object), requirements: { maxBufferSize: 1, maxStorageBufferBindingSize: 1 } }, manifestUrl, 'segmenter');
    expect(m.files.map((f) => f.name)).toContain('onnx/model.onnx_data');
    expect(m.requirements).toEqual({ maxBufferSize: 1, maxStorageBufferBindingSize: 1 });
  });

  it('ships a valid manifest for the real model', () => {
    const real = JSON.parse(readFileSync(fileURLToPath(new URL('../../public/models/segmenter.json', import.meta.url)), 'utf8'));
    const m = parseManifest(real, 'https://app.example.com/models/segmenter.json', 'segmenter');
    expect(m).toMatchObject({ kind: 'segmenter', revision: 'main', downloadEstimate: 115000000, license: 'MIT (BiRefNet by ZhengPeng7)' });
    expect(m.contract).toEqual({ input: [1, 3, 1024, 1024], output: [1, 1, 1024, 1024] });
    expect(m.files.map((f) => f.url)).toEqual(
      ['config.json', 'preprocessor_config.json', 'onnx/model_fp16.onnx'].map(
        (n) => `https://huggingface.co/onnx-community/BiRefNet_lite-ONNX/resolve/main/${n}`,
      ),
    );
  });
});

describe('CacheStorageModelStore', () => {
  /** Just enough of CacheStorage: one cache, keyed by URL. */
  class FakeCaches {
    readonly opened: string[] = [];
    readonly entries = new Map<string, Response>();
    async open(name: string): Promise<Cache> {
      this.opened.push(name);
      const entries = this.entries;
      return {
        async match(url: string) {
          return entries.get(url)?.clone();
        },
        async put(url: string, response: Response) {
          new URL(url); // Cache Storage rejects keys that are not URLs.
          entries.set(url, response);
        },
        async delete(url: string) {
          return entries.delete(url);
        },
        async keys() {
          return [...entries.keys()].map((u) => new Request(u));
        },
      } as unknown as Cache;
    }
  }

  it('keeps entries at versioned URLs under the origin and accounts bytes from headers', async () => {
    const caches = new FakeCaches();
    const store = new CacheStorageModelStore({ origin: 'https://cadlift.example', caches: caches as unknown as CacheStorage });
    const data = bytesOf(1500, 8);
    await store.put('v1/triposr/rev-a/decoder.onnx/piece-0', data.subarray(0, 1000));
    await store.put('v1/triposr/rev-a/decoder.onnx/piece-1', data.subarray(1000));
    await store.put('v1/other/r/x/piece-0', new Uint8Array(3));

    expect(caches.opened).toEqual(['cadlift-models-v1']);
    expect([...caches.entries.keys()][0]).toBe('https://cadlift.example/__cadlift-model-cache__/v1/triposr/rev-a/decoder.onnx/piece-0');
    expect(await store.get('v1/triposr/rev-a/decoder.onnx/piece-1')).toEqual(data.subarray(1000));
    expect(await store.get('v1/triposr/rev-a/decoder.onnx/piece-9')).toBeUndefined();
    expect(await store.keys('v1/triposr/')).toEqual([
      'v1/triposr/rev-a/decoder.onnx/piece-0',
      'v1/triposr/rev-a/decoder.onnx/piece-1',
    ]);
    expect(await store.size('v1/triposr/')).toBe(1500);
    expect(await store.size()).toBe(1503);
    await store.delete('v1/other/r/x/piece-0');
    expect(await store.size()).toBe(1500);
  });

  it('serves loadModel end to end', async () => {
    const server = standardServer();
    const store = new CacheStorageModelStore({ origin: 'https://cadlift.example', caches: new FakeCaches() as unknown as CacheStorage });
    await loadModel(manifestOf(), { store, fetch: server.fetch, pieceBytes: PIECE });
    const before = server.requests.length;
    const model = await loadModel(manifestOf(), { store, fetch: server.fetch });
    expect(server.requests.length).toBe(before);
    expect(model.decoder).toEqual(decoder);
    expect(model.externalData[0]!.data).toEqual(weights);
  });
});
