/**
 * Downloads, verifies and caches the model files a manifest lists: the image-to-3D model's encoder,
 * external data and decoder ({@link loadModel}), or a segmenter's model folder ({@link loadModelFiles}).
 * Runs in workers (fetch, Cache Storage and `navigator.storage.estimate()` exist there; `persist()`
 * does not, the page asks for it) and in Node for tests, with `fetch` and the store injected.
 *
 * Files are fetched piece by piece and verified by `piece-downloader.ts`; manifests are checked by
 * `model-manifest.ts`; Hugging Face manifests that follow a branch are pinned by `hf-pin.ts`.
 *
 * Store layout, under `cacheKey(manifest)` = `v1/<id>/<revision>` (each segment percent-encoded):
 * one folder per file (see `piece-downloader.ts`).
 */
import type {
  AnyModelManifest,
  ModelFile,
  ModelManifest,
  ModelManifestBase,
  ModelManifestKinds,
  ModelKind,
  SegmenterManifest,
} from '../shared/manifest';
import { AppError, formatBytes, throwIfAborted } from './errors';
import { pinManifest, pinPrefix, withStoredPin } from './hf-pin';
import { downloadManifest, isName, parseManifest, roleFile, type DownloadManifestOptions } from './model-manifest';
import { defaultModelStore, type ModelStore } from './model-store';
import { readOnnxGraph, type OnnxTensor } from './onnx-graph';
import {
  completeMatches,
  discardWith,
  filePrefix,
  isCompleteEntry,
  loadFile,
  readEntry,
  type Context,
  type FileResult,
  type ModelProgress,
} from './piece-downloader';

export {
  CacheStorageModelStore,
  IndexedDbModelStore,
  MemoryModelStore,
  createModelStore,
  type ModelStore,
  type ModelStoreKind,
} from './model-store';
export { parseManifest } from './model-manifest';
export { checkForUpdate, pinManifest, updateModel, type ModelUpdate } from './hf-pin';
export type { ModelProgress } from './piece-downloader';

/** Version of the store layout: part of every cache key, bumped when keys or entries change shape. */
export const MODEL_CACHE_FORMAT = 1;

/** Options for {@link loadModel} and {@link loadModelFiles}. */
export interface LoadModelOptions {
  /** Cancels the load; pieces already stored are kept for the next call. */
  signal?: AbortSignal;
  /** Progress per file, at most one event per `progressIntervalMs` or per stored piece, plus a final one. */
  onProgress?: (progress: ModelProgress) => void;
  /** Where pieces live; default a {@link CacheStorageModelStore}. */
  store?: ModelStore;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
  /** Bytes per Range request and per stored piece. A resumed download keeps the size it began with. */
  pieceBytes?: number;
  /** Free-space check before downloading; default `navigator.storage.estimate` where it exists. */
  estimate?: () => Promise<StorageEstimate>;
  /** Headroom required on top of the bytes still to download (Cache Storage adds per-entry overhead). */
  storageMarginBytes?: number;
  /** Least time between two progress events that are not piece boundaries. */
  progressIntervalMs?: number;
}

/** Defaults for {@link LoadModelOptions}. */
export const LOAD_MODEL_DEFAULTS = {
  pieceBytes: 16 * 1024 ** 2,
  storageMarginBytes: 64 * 1024 ** 2,
  progressIntervalMs: 100,
} satisfies LoadModelOptions;


/** A model's bytes, ready for `InferenceSession.create` (externalData goes to its `externalData` option). */
export interface LoadedModel {
  manifest: ModelManifest;
  encoder: Uint8Array;
  /** The encoder's external-data files, `path` exactly as the encoder names them. */
  externalData: { path: string; data: Uint8Array }[];
  decoder: Uint8Array;
  /** The decoder's external-data files (usually none), by the name the decoder gives them. */
  decoderExternalData: Map<string, Uint8Array>;
  /** True when every file came from the cache, with no download. */
  fromCache: boolean;
  cacheKey: string;
}

/** A segmenter's files by their path inside the model folder, ready for `createSegmenter`. */
export interface LoadedModelFiles {
  manifest: SegmenterManifest;
  /** Keyed by each file's manifest `name` ('config.json', 'onnx/model.onnx', ...). */
  files: Map<string, Uint8Array>;
  /** True when every file came from the cache, with no download. */
  fromCache: boolean;
  cacheKey: string;
}

/** What is left to download, for the consent prompt; undefined where a listed file has no `bytes`. */
export interface ModelDownloadSize {
  /** All listed files together. */
  total: number | undefined;
  /** Bytes not yet in the cache (partial downloads count what they have stored). */
  missing: number | undefined;
}

/** Options for {@link fetchManifest} and {@link fetchSegmenterManifest}. */
export interface FetchManifestOptions extends DownloadManifestOptions {
  /** Where the last good copy of each manifest is kept for offline starts; default the model store. */
  store?: ModelStore;
}

/**
 * Downloads and validates an image-to-3D manifest; file URLs come back absolute. A manifest of another
 * kind is refused with 'manifest-invalid'. It is not pinned here: that asks the Hub, which waits for
 * the visitor's consent to download ({@link loadModel} pins). Offline (or with the host down), the
 * copy kept beside the model files from the last successful download is used instead.
 */
export async function fetchManifest(
  url: string,
  options: FetchManifestOptions = {},
): Promise<ModelManifest> {
  return withOfflineCopy(url, 'image-to-3d', options);
}

/** Downloads and validates a segmenter manifest, as {@link fetchManifest} does an image-to-3D one. */
export async function fetchSegmenterManifest(
  url: string,
  options: FetchManifestOptions = {},
): Promise<SegmenterManifest> {
  return withOfflineCopy(url, 'segmenter', options);
}

/** Store key of a manifest's last good copy, by the absolute URL it was asked for. */
export function manifestCopyKey(url: string): string {
  return `manifest-copy/${encodeURIComponent(new URL(url, globalThis.location?.href).href)}`;
}

/**
 * The manifest from the network, keeping a copy in the store; when the download fails (no network,
 * or the host answers with an error) and a copy exists, the copy. An invalid manifest is never
 * replaced by the copy: that is a publishing mistake the visitor should hear about.
 */
async function withOfflineCopy<K extends ModelKind>(url: string, kind: K, options: FetchManifestOptions): Promise<ModelManifestKinds[K]> {
  const store = options.store ?? defaultStore();
  const key = manifestCopyKey(url);
  try {
    const manifest = await downloadManifest(url, kind, options);
    // Resolved (absolute URLs), so the copy needs no base; a full store only costs the offline copy.
    await store.put(key, new TextEncoder().encode(JSON.stringify(manifest))).catch(() => undefined);
    return manifest;
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'model-download-failed') throw error;
    const copy = await store.get(key).catch(() => undefined);
    if (!copy) throw error;
    return parseManifest(JSON.parse(new TextDecoder().decode(copy)), new URL(url, globalThis.location?.href).href, kind);
  }
}

/** A model's cache key: layout version, id and revision, so a new revision never reuses bytes. */
export function cacheKey(manifest: Pick<ModelManifestBase, 'id' | 'revision'>): string {
  return `${modelPrefix(manifest.id)}${encodeURIComponent(manifest.revision)}`;
}


/**
 * Loads a model's files from the cache, downloading (or resuming) whatever is missing.
 * External-data file names are read from the encoder graph itself; a file the manifest also lists is
 * fetched from its manifest URL and checked against its `bytes`/`sha256`, any other is fetched relative
 * to the encoder's URL. Once everything is complete, other revisions of the same model id are deleted.
 * @example
 * const model = await loadModel(await fetchManifest('/models/manifest.json'), { signal, onProgress });
 * await ort.InferenceSession.create(model.encoder, { externalData: model.externalData });
 */
export async function loadModel(
  unpinned: ModelManifest,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  // A manifest that follows a Hub branch is tied to a commit first (once; later from the store).
  const manifest = await pinManifest(unpinned, { ...options, store: options.store ?? defaultStore() });
  const encoderFile = roleFile(manifest, 'encoder');
  const decoderFile = roleFile(manifest, 'decoder');
  // Only listed sizes are known before the encoder names its external data; those are checked here.
  const { ctx, key } = await beginLoad(manifest, options);

  const encoder = await loadFile(ctx, key, encoderFile);
  const external = await loadExternalData(ctx, key, manifest, encoderFile, encoder, 'encoder-data');
  const decoder = await loadFile(ctx, key, decoderFile);
  const decoderData = await loadExternalData(ctx, key, manifest, decoderFile, decoder, 'decoder-data');
  const fromCache = encoder.fromCache && external.fromCache && decoder.fromCache && decoderData.fromCache;

  await deleteOtherRevisions(ctx, manifest, key);
  return {
    manifest,
    encoder: encoder.data,
    externalData: external.files,
    decoder: decoder.data,
    decoderExternalData: new Map(decoderData.files.map((f) => [f.path, f.data])),
    fromCache,
    cacheKey: key,
  };
}

/**
 * Loads every file a segmenter manifest lists from the cache, downloading (or resuming) whatever is
 * missing, each checked against its `bytes`/`sha256`. Once all are complete, other revisions of the
 * same model id are deleted.
 * @example
 * const manifest = await fetchSegmenterManifest('/models/segmenter.json', { signal });
 * const { files } = await loadModelFiles(manifest, { signal, onProgress });
 * const segmenter = await createSegmenter(files, { ...SEGMENTER_DEFAULTS, signal });
 */
export async function loadModelFiles(
  unpinned: SegmenterManifest,
  options: LoadModelOptions = {},
): Promise<LoadedModelFiles> {
  const manifest = await pinManifest(unpinned, { ...options, store: options.store ?? defaultStore() });
  const { ctx, key } = await beginLoad(manifest, options);
  const files = new Map<string, Uint8Array>();
  let fromCache = true;
  for (const file of manifest.files) {
    const loaded = await loadFile(ctx, key, file);
    files.set(file.name, loaded.data);
    fromCache &&= loaded.fromCache;
  }
  await deleteOtherRevisions(ctx, manifest, key);
  return { manifest, files, fromCache, cacheKey: key };
}

/**
 * Bytes of the files the manifest lists, and how many are not cached yet, for the consent prompt.
 * External-data files an image-to-3D manifest does not list are unknown until the encoder is downloaded.
 */
export async function modelDownloadSize(
  manifest: AnyModelManifest,
  store: ModelStore = defaultStore(),
): Promise<ModelDownloadSize> {
  // Only a pin already stored counts: asking the Hub waits for the visitor's consent.
  const pinned = await withStoredPin(manifest, store);
  const { total, missing } = await downloadSize(store, pinned, cacheKey(pinned), undefined);
  return { total, missing };
}

/** Bytes all cached models take in the store, partial downloads included. */
export async function cachedModelBytes(store: ModelStore = defaultStore()): Promise<number> {
  return store.size();
}

/** Deletes every cached revision of model `id`, or everything in the store when no id is given. */
export async function deleteCachedModels(
  store: ModelStore = defaultStore(),
  id?: string,
): Promise<void> {
  const keys = id === undefined ? await store.keys() : [...(await store.keys(modelPrefix(id))), ...(await store.keys(pinPrefix(id)))];
  for (const key of keys) await store.delete(key);
}


/** The context of one load, with the free space checked for the bytes the manifest lists. */
async function beginLoad(
  manifest: AnyModelManifest,
  options: LoadModelOptions,
): Promise<{ ctx: Context; key: string }> {
  const ctx: Context = {
    store: options.store ?? defaultStore(),
    fetch: options.fetch ?? globalThis.fetch,
    signal: options.signal,
    onProgress: options.onProgress,
    pieceBytes: Math.max(1, Math.floor(options.pieceBytes ?? LOAD_MODEL_DEFAULTS.pieceBytes)),
    progressIntervalMs: options.progressIntervalMs ?? LOAD_MODEL_DEFAULTS.progressIntervalMs,
  };
  const key = cacheKey(manifest);
  throwIfAborted(ctx.signal);
  const size = await downloadSize(ctx.store, manifest, key, ctx.signal);
  if (size.knownMissing > 0) {
    await checkFreeSpace(
      size.knownMissing,
      options.estimate ?? defaultEstimate(),
      options.storageMarginBytes ?? LOAD_MODEL_DEFAULTS.storageMarginBytes,
      ctx.signal,
    );
  }
  return { ctx, key };
}

/** Only once a load is complete: until then, the old revision is what the user can still run. */
async function deleteOtherRevisions(
  ctx: Context,
  manifest: AnyModelManifest,
  key: string,
): Promise<void> {
  for (const k of await ctx.store.keys(modelPrefix(manifest.id))) {
    if (!k.startsWith(`${key}/`)) await ctx.store.delete(k);
  }
}

function defaultStore(): ModelStore {
  return defaultModelStore();
}

function defaultEstimate(): (() => Promise<StorageEstimate>) | undefined {
  const storage = globalThis.navigator?.storage;
  return storage?.estimate ? () => storage.estimate() : undefined;
}

function modelPrefix(id: string): string {
  return `v${MODEL_CACHE_FORMAT}/${encodeURIComponent(id)}/`;
}

async function downloadSize(
  store: ModelStore,
  manifest: AnyModelManifest,
  key: string,
  signal: AbortSignal | undefined,
): Promise<ModelDownloadSize & { knownMissing: number }> {
  let total: number | undefined = 0;
  let missing: number | undefined = 0;
  let knownMissing = 0;
  for (const file of manifest.files) {
    const prefix = filePrefix(key, file.name);
    const complete = await readEntry(store, `${prefix}complete`, isCompleteEntry, signal);
    const size = file.bytes ?? (completeMatches(complete, file) ? complete.bytes : undefined);
    total = total === undefined || size === undefined ? undefined : total + size;
    if (completeMatches(complete, file)) continue;
    if (size === undefined) {
      missing = undefined;
      continue;
    }
    const stored = await store.size(`${prefix}piece-`);
    throwIfAborted(signal);
    const left = Math.max(0, size - stored);
    knownMissing += left;
    if (missing !== undefined) missing += left;
  }
  return { total, missing, knownMissing };
}

async function checkFreeSpace(
  needed: number,
  estimate: (() => Promise<StorageEstimate>) | undefined,
  margin: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!estimate) return;
  let quota: number | undefined;
  let usage: number | undefined;
  try {
    ({ quota, usage } = await estimate());
  } catch {
    // An estimate is advice; a real shortage still surfaces as a QuotaExceededError from the store.
    return;
  }
  throwIfAborted(signal);
  if (quota === undefined) return;
  const free = Math.max(0, quota - (usage ?? 0));
  if (free < needed + margin) {
    throw new AppError(
      'storage-full',
      `The model needs ${formatBytes(needed + margin)} of storage but only ${formatBytes(free)} is free; free up disk space or delete cached models in Settings → Storage, then press Generate to retry.`,
    );
  }
}


/** Unique external-data locations the encoder graph refers to, in first-use order. */
/**
 * Loads the external-data files an ONNX file names (fetched next to it unless the manifest lists
 * them with `role`), and refuses a listed one the graph never uses.
 */
async function loadExternalData(
  ctx: Context,
  key: string,
  manifest: ModelManifest,
  owner: ModelFile,
  result: FileResult,
  role: 'encoder-data' | 'decoder-data',
): Promise<{ files: { path: string; data: Uint8Array }[]; fromCache: boolean }> {
  const files: { path: string; data: Uint8Array }[] = [];
  let fromCache = true;
  // The decoder's bytes are judged by the decoder reader, which says what it cannot read; here an
  // unreadable decoder simply names no external data.
  const names = role === 'decoder-data' && !isOnnx(result.data) ? [] : await externalDataNames(ctx, key, owner, result);
  for (const name of names) {
    const listed = manifest.files.find((f) => f.role === role && f.name === name);
    const file = listed ?? { role, name, url: new URL(name, owner.url).href };
    const loaded = await loadFile(ctx, key, file);
    files.push({ path: name, data: loaded.data });
    fromCache &&= loaded.fromCache;
  }
  // A listed data file the graph never names would be counted as missing forever, and is a sign that
  // the manifest and the graph are from different versions.
  const unused = manifest.files.find((f) => f.role === role && !files.some((d) => d.path === f.name));
  if (unused) {
    throw new AppError(
      'model-incompatible',
      `The model manifest lists ${unused.name} as external data of ${owner.name}, which does not use it; the manifest needs fixing, so choose another model.`,
    );
  }
  return { files, fromCache };
}

function isOnnx(bytes: Uint8Array): boolean {
  try {
    readOnnxGraph(bytes);
    return true;
  } catch {
    return false;
  }
}

async function externalDataNames(
  ctx: Context,
  key: string,
  file: ModelFile,
  encoder: FileResult,
): Promise<string[]> {
  let tensors: (OnnxTensor | undefined)[];
  try {
    const graph = readOnnxGraph(encoder.data);
    const attributes = graph.nodes.flatMap((n) => [...n.attributes.values()]);
    tensors = [...graph.initializers.values(), ...attributes.map((a) => a.t)];
  } catch (error) {
    // Bytes that matched the manifest's checksum are what the publisher meant: not a download fault.
    if (encoder.verified) {
      throw new AppError('model-incompatible', `The model file ${file.name} is not an ONNX model this app can read; choose another model.`, {
        cause: error,
      });
    }
    throw await discardWith(
      ctx,
      filePrefix(key, file.name),
      new AppError('model-corrupt', `The model file ${file.name} is corrupt; press Generate to download it again.`, { cause: error }),
    );
  }
  const names = new Set<string>();
  for (const tensor of tensors) {
    const location = tensor?.external?.location;
    if (location === undefined) continue;
    // Fetched relative to the encoder: an absolute path or '..' would leave the model's folder.
    if (!isName(location) || /^[\\/]|:|(^|[\\/])\.\.([\\/]|$)/.test(location)) {
      throw new AppError(
        'model-incompatible',
        `The model file ${file.name} keeps weights at "${location}", outside its own folder; choose another model.`,
      );
    }
    names.add(location);
  }
  return [...names];
}
