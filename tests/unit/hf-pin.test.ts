import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/errors';
import { checkForUpdate, pinKey, pinManifest, updateModel } from '../../src/lib/hf-pin';
import { cacheKey, fetchManifest, loadModel, modelDownloadSize, type ModelProgress } from '../../src/lib/model-cache';
import { CacheStorageModelStore, createModelStore, IndexedDbModelStore, MemoryModelStore } from '../../src/lib/model-store';
import type { ModelManifest } from '../../src/shared/manifest';
import { bytesOf } from '../helpers/seeded-bytes';

const { onnx } = onnxProto;
const PIECE = 1024;
const REPO = 'cgb/triposr-onnx-webgpu';
const RESOLVE = `https://huggingface.co/${REPO}/resolve/`;
const API = `https://huggingface.co/api/models/${REPO}/`;
const APP = 'https://app.example.com/models/manifest.json';
const C1 = 'a'.repeat(40);
const C2 = 'b'.repeat(40);

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** An encoder graph that keeps one tensor in `triplane_q8.onnx.data`. */
function encoderOnnx(): Uint8Array {
  const external = onnx.TensorProto.create({
    name: 'w',
    dims: [4],
    dataType: onnx.TensorProto.DataType.FLOAT,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [{ key: 'location', value: 'triplane_q8.onnx.data' }, { key: 'offset', value: '0' }, { key: 'length', value: '16' }],
  });
  const filler = onnx.TensorProto.create({ name: 'inline', dims: [500], dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytesOf(2000, 9) });
  const graph = onnx.GraphProto.create({ name: 'encoder', node: [], initializer: [external, filler] });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph });
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

const encoder = encoderOnnx();
const data = bytesOf(5000, 1);
const decoder = bytesOf(3000, 2);

/** The committed default manifest's shape: `resolve/main/` URLs, no bytes, no sha256. */
const rawManifest = {
  version: 1,
  id: 'triposr-int8-webgpu',
  name: 'TripoSR',
  license: 'MIT',
  revision: 'main',
  files: [
    { role: 'encoder', name: 'triplane_q8.onnx', url: `${RESOLVE}main/triplane_q8.onnx` },
    { role: 'encoder-data', name: 'triplane_q8.onnx.data', url: `${RESOLVE}main/triplane_q8.onnx.data` },
    { role: 'decoder', name: 'decoder.onnx', url: `${RESOLVE}main/decoder.onnx` },
  ],
  contract: { image: [1, 3, 512, 512], triplane: [1, 3, 40, 64, 64], features: 120 },
  requirements: { maxBufferSize: 1, maxStorageBufferBindingSize: 1 },
};

/**
 * A stand-in Hub: `main` points at a commit; each commit has its files. `resolve/` answers the
 * redirect's target directly (the 302's headers are invisible to fetch, so nothing here sends them).
 */
class FakeHub {
  commit = C1;
  readonly commits = new Map<string, Map<string, Uint8Array>>([
    [C1, new Map([['triplane_q8.onnx', encoder], ['triplane_q8.onnx.data', data], ['decoder.onnx', decoder]])],
  ]);
  readonly requests: { url: string; range: string | null }[] = [];
  hideContentRange = false;
  /** Bytes the CDN serves instead, whatever the commit (a misbehaving cache). */
  readonly tampered = new Map<string, Uint8Array>();
  /** Break the body after this many bytes of a file, once. */
  failAfter: { name: string; bytes: number } | undefined;
  offline = false;

  publish(commit: string, change: Record<string, Uint8Array | null>): void {
    const files = new Map(this.commits.get(this.commit));
    for (const [name, bytes] of Object.entries(change)) {
      if (bytes) files.set(name, bytes);
      else files.delete(name);
    }
    this.commits.set(commit, files);
    this.commit = commit;
  }

  api(): string[] {
    return this.requests.filter((r) => r.url.startsWith(API)).map((r) => r.url.slice(API.length));
  }

  files(): { url: string; range: string | null }[] {
    return this.requests.filter((r) => r.url.startsWith(RESOLVE));
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const range = new Headers(init?.headers).get('range');
    this.requests.push({ url, range });
    if (this.offline) throw new TypeError('Failed to fetch');
    if (url === APP) return new Response(JSON.stringify(rawManifest), { status: 200 });
    if (url === `${API}revision/main`) return Response.json({ id: REPO, sha: this.commit });
    const tree = /tree\/([0-9a-f]{40})$/.exec(url);
    if (url.startsWith(API) && tree) {
      const files = this.commits.get(tree[1]!);
      if (!files) return new Response('{}', { status: 404 });
      return Response.json(
        [...files].map(([path, bytes]) => ({
          type: 'file',
          oid: createHash('sha1').update(bytes).digest('hex'),
          size: bytes.length,
          path,
          lfs: { oid: sha256(bytes), size: bytes.length, pointerSize: 134 },
        })),
      );
    }
    const file = /resolve\/([^/]+)\/(.+)$/.exec(url);
    if (!file) return new Response('', { status: 404 });
    const commit = file[1] === 'main' ? this.commit : file[1]!;
    const name = file[2]!;
    const bytes = this.tampered.get(name) ?? this.commits.get(commit)?.get(name);
    if (!bytes) return new Response('Entry not found', { status: 404 });
    const match = range ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    const start = match ? Number(match[1]) : 0;
    const end = match ? Math.min(Number(match[2]), bytes.length - 1) : bytes.length - 1;
    const headers = new Headers({ 'content-length': String(end - start + 1) });
    if (match && !this.hideContentRange) headers.set('content-range', `bytes ${start}-${end}/${bytes.length}`);
    let body = bytes.slice(start, end + 1);
    const fail = this.failAfter;
    if (fail?.name === name && end >= fail.bytes) {
      this.failAfter = undefined;
      const head = body.slice(0, Math.max(0, fail.bytes - start));
      const stream = new ReadableStream<Uint8Array>({
        pull: (c) => {
          if (head.length) c.enqueue(head);
          c.error(new TypeError('network error'));
        },
      });
      return new Response(stream, { status: match ? 206 : 200, headers });
    }
    return new Response(body as Uint8Array<ArrayBuffer>, { status: match ? 206 : 200, headers });
  };
}

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** The app's manifest, pinned as loadModel pins it. */
async function pinned(hub: FakeHub, store: MemoryModelStore): Promise<ModelManifest> {
  return pinManifest(await fetchManifest(APP, { fetch: hub.fetch }), { fetch: hub.fetch, store });
}

/** What the worker does: the app's manifest, unpinned, to loadModel. */
async function load(hub: FakeHub, store: MemoryModelStore, onProgress?: (p: ModelProgress) => void) {
  const manifest = await fetchManifest(APP, { fetch: hub.fetch });
  return loadModel(manifest, { fetch: hub.fetch, store, pieceBytes: PIECE, onProgress });
}

describe('pinning a Hugging Face manifest on first use', () => {
  it('resolves the commit once, downloads from resolve/<commit>/ with sizes and hashes from the tree, and loads again with no request', async () => {
    const hub = new FakeHub();
    const store = new MemoryModelStore();
    const manifest = await pinned(hub, store);

    expect(hub.api()).toEqual(['revision/main', `tree/${C1}`]);
    expect(manifest.revision).toBe(C1);
    expect(manifest.upstream).toEqual({ repo: REPO, branch: 'main', commit: C1 });
    expect(manifest.files.map((f) => [f.url, f.bytes, f.sha256])).toEqual([
      [`${RESOLVE}${C1}/triplane_q8.onnx`, encoder.length, sha256(encoder)],
      [`${RESOLVE}${C1}/triplane_q8.onnx.data`, 5000, sha256(data)],
      [`${RESOLVE}${C1}/decoder.onnx`, 3000, sha256(decoder)],
    ]);
    // Once pinned, the consent prompt knows the exact size before any file is fetched; before, it asks nobody.
    expect(await modelDownloadSize(manifest, store)).toEqual({ total: encoder.length + 8000, missing: encoder.length + 8000 });
    const unpinned = await fetchManifest(APP, { fetch: hub.fetch });
    hub.requests.length = 0;
    expect(await modelDownloadSize(unpinned, store)).toEqual({ total: encoder.length + 8000, missing: encoder.length + 8000 });
    expect(await modelDownloadSize(unpinned, new MemoryModelStore())).toEqual({ total: undefined, missing: undefined });
    expect(hub.requests).toEqual([]);

    const model = await loadModel(manifest, { fetch: hub.fetch, store, pieceBytes: PIECE });
    expect(model.cacheKey).toBe(cacheKey({ id: 'triposr-int8-webgpu', revision: C1 }));
    expect(model.externalData[0]!.data).toEqual(data);
    expect(hub.files().every((r) => r.url.startsWith(`${RESOLVE}${C1}/`))).toBe(true);
    const complete = JSON.parse(new TextDecoder().decode(await store.get(`${model.cacheKey}/triplane_q8.onnx.data/complete`)));
    expect(complete).toMatchObject({ bytes: 5000, sha256: sha256(data) });

    // Later and offline: the stored pin answers, nothing goes to the Hub or the CDN but the app's manifest.
    hub.requests.length = 0;
    hub.commit = C2;
    const again = await load(hub, store);
    expect(again.fromCache).toBe(true);
    expect(hub.requests.map((r) => r.url)).toEqual([APP]);
    const offline = new MemoryModelStore();
    for (const k of await store.keys()) offline.entries.set(k, (await store.get(k))!);
    const offlineLoad = await loadModel(await fetchManifest(APP, { fetch: hub.fetch }), { store: offline, fetch: () => Promise.reject(new TypeError('offline')) });
    expect(offlineLoad.manifest.revision).toBe(C1);
    expect(offlineLoad.fromCache).toBe(true);
  });

  it('keeps downloading the pinned commit when main moves mid-download, and never mixes the two', async () => {
    const hub = new FakeHub();
    const store = new MemoryModelStore();
    hub.failAfter = { name: 'triplane_q8.onnx.data', bytes: 2500 };
    const cut = await appError(load(hub, store));
    expect(cut.code).toBe('model-download-failed');

    const newData = bytesOf(5000, 7);
    hub.publish(C2, { 'triplane_q8.onnx.data': newData });
    hub.requests.length = 0;
    const model = await load(hub, store).catch((e) => { console.log(hub.requests.map(r=>[r.url.slice(-30), r.range])); throw e; });
    expect(model.externalData[0]!.data).toEqual(data);
    expect(hub.api()).toEqual([]);
    // Resumed from the stored pieces, still at the old commit.
    expect(hub.files().map((r) => [r.url.slice(RESOLVE.length, RESOLVE.length + 40), r.range]).slice(0, 1)).toEqual([[C1, 'bytes=2048-3071']]);

    // Updating is explicit: the check sees the new commit, the update downloads it under its own key.
    expect(await checkForUpdate(model.manifest, { fetch: hub.fetch, store })).toEqual({ current: C1, latest: C2, changed: true });
    const next = await updateModel(model.manifest, { fetch: hub.fetch, store });
    expect(next.revision).toBe(C2);
    const updated = await loadModel(next, { fetch: hub.fetch, store, pieceBytes: PIECE });
    expect(updated.externalData[0]!.data).toEqual(newData);
    expect(updated.fromCache).toBe(false);
    expect(await store.keys(`${cacheKey({ id: 'triposr-int8-webgpu', revision: C1 })}/`)).toEqual([]);
    expect(await checkForUpdate(next, { fetch: hub.fetch, store })).toEqual({ current: C2, latest: C2, changed: false });
  });

  it('tells a file replaced upstream with the same size apart by its hash', async () => {
    const hub = new FakeHub();
    const store = new MemoryModelStore();
    const first = await load(hub, store);
    const same = bytesOf(3000, 11);
    hub.publish(C2, { 'decoder.onnx': same });

    // A CDN that serves the new bytes under the old commit's URL is caught by the pinned SHA-256.
    await store.delete(`${first.cacheKey}/decoder.onnx/complete`);
    hub.tampered.set('decoder.onnx', same);
    const error = await appError(loadModel(first.manifest, { fetch: hub.fetch, store, pieceBytes: PIECE }));
    expect(error.code).toBe('model-corrupt');
    hub.tampered.clear();

    const next = await updateModel(first.manifest, { fetch: hub.fetch, store });
    expect(next.files.find((f) => f.name === 'decoder.onnx')).toMatchObject({ bytes: 3000, sha256: sha256(same) });
    expect((await loadModel(next, { fetch: hub.fetch, store, pieceBytes: PIECE })).decoder).toEqual(same);
  });

  it('allocates each file once from the known size when the CDN hides Content-Range', async () => {
    const hub = new FakeHub();
    hub.hideContentRange = true;
    const events: ModelProgress[] = [];
    const model = await load(hub, new MemoryModelStore(), (p) => events.push(p));
    expect(model.externalData[0]!.data).toEqual(data);
    expect(model.externalData[0]!.data.buffer.byteLength).toBe(5000);
    // The size is known before the first byte arrives: the file is written into one buffer of that size.
    for (const file of ['triplane_q8.onnx', 'triplane_q8.onnx.data', 'decoder.onnx']) {
      const downloading = events.filter((e) => e.file === file && e.phase === 'downloading');
      expect(downloading.length).toBeGreaterThan(0);
      expect(downloading.every((e) => e.total !== undefined)).toBe(true);
    }
  });

  it('refuses a commit that lacks the encoder external data, before downloading anything', async () => {
    const hub = new FakeHub();
    hub.commits.get(C1)!.delete('triplane_q8.onnx.data');
    const error = await appError(pinned(hub, new MemoryModelStore()));
    expect(error.code).toBe('model-incompatible');
    expect(error.message).toBe(
      `The model repository ${REPO} has no triplane_q8.onnx.data at commit aaaaaaa, which triplane_q8.onnx needs; the published model is incomplete, so choose another model or try again later.`,
    );
    expect(hub.files()).toEqual([]);
  });

  it('says clearly when the Hub cannot be asked, and leaves other manifests alone', async () => {
    const hub = new FakeHub();
    const store = new MemoryModelStore();
    const m = (await import('../../src/lib/model-manifest')).parseManifest(rawManifest, APP);
    const error = await appError(pinManifest(m, { store, fetch: () => Promise.reject(new TypeError('blocked by CORS')) }));
    expect(error.code).toBe('model-download-failed');
    expect(error.message).toMatch(/^Could not look up the model's current version on Hugging Face \(network error\)/);
    expect(await store.get(pinKey(m.id, 'main'))).toBeUndefined();

    const selfHosted: ModelManifest = { ...m, files: m.files.map((f) => ({ ...f, url: f.url.replace('https://huggingface.co/', 'https://cdn.example.org/') })) };
    expect(await pinManifest(selfHosted, { store, fetch: hub.fetch })).toBe(selfHosted);
    expect(hub.requests).toEqual([]);
  });

  it('re-hashes every cached read and downloads again a piece that changed in the store', async () => {
    const hub = new FakeHub();
    const store = new MemoryModelStore();
    const first = await load(hub, store);
    const key = `${first.cacheKey}/decoder.onnx/piece-1`;
    const piece = (await store.get(key))!.slice();
    piece[0]! ^= 0xff;
    await store.put(key, piece);
    hub.requests.length = 0;
    const again = await load(hub, store);
    expect(again.decoder).toEqual(decoder);
    expect(again.fromCache).toBe(false);
    expect(hub.files().every((r) => r.url.endsWith('decoder.onnx'))).toBe(true);
  });

  it('refuses a listed external-data file the encoder does not use', async () => {
    const hub = new FakeHub();
    const store = new MemoryModelStore();
    const manifest = await pinned(hub, store);
    const wrong = { ...manifest, files: manifest.files.map((f) => (f.role === 'encoder-data' ? { ...f, name: 'other.data' } : f)) };
    const error = await appError(loadModel(wrong, { fetch: hub.fetch, store, pieceBytes: PIECE }));
    expect(error.code).toBe('model-incompatible');
    expect(error.message).toContain('other.data');
  });
});

describe('createModelStore', () => {
  it('picks Cache Storage, else IndexedDB (insecure pages), else memory, and says which', () => {
    const caches = {} as CacheStorage;
    const idb = {} as IDBFactory;
    expect(createModelStore({ caches, indexedDB: idb })).toBeInstanceOf(CacheStorageModelStore);
    const insecure = createModelStore({ caches: undefined, indexedDB: idb });
    expect(insecure).toBeInstanceOf(IndexedDbModelStore);
    expect(insecure.kind).toBe('indexeddb');
    expect(createModelStore({ caches: undefined, indexedDB: undefined }).kind).toBe('memory');
    expect(createModelStore({ caches, indexedDB: undefined }).kind).toBe('cache-storage');
  });
});
