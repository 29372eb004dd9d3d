/**
 * Downloads, verifies and caches the model files a manifest lists: the image-to-3D model's encoder,
 * external data and decoder ({@link loadModel}), or a segmenter's model folder ({@link loadModelFiles}).
 * Runs in workers (fetch, Cache Storage and `navigator.storage.estimate()` exist there; `persist()`
 * does not, the page asks for it) and in Node for tests, with `fetch` and the store injected.
 *
 * A file is fetched in `pieceBytes` HTTP Range requests; each piece is stored the moment it is complete,
 * so a download cut off by a network error, a cancel or a page reload resumes from its last whole piece.
 * A file counts as cached only once its `complete` entry exists, written after its size and SHA-256 were
 * checked; a later load reads it back with no network request at all.
 *
 * Store layout, under `cacheKey(manifest)` = `v1/<id>/<revision>` (each segment percent-encoded):
 * `<file>/piece-<n>` (bytes), `<file>/partial` ({ pieceBytes, total }, while downloading) and
 * `<file>/complete` ({ bytes, sha256, pieces, pieceBytes }).
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import type {
  AnyModelManifest,
  ModelFile,
  ModelKind,
  ModelManifest,
  ModelManifestBase,
  ModelManifestKinds,
  SegmenterManifest,
} from '../shared/manifest';
import { AppError, abortError, formatBytes, isAbortError, throwIfAborted } from './errors';
import { CacheStorageModelStore, type ModelStore } from './model-store';
import { readOnnxGraph, type OnnxTensor } from './onnx-graph';

export { CacheStorageModelStore, MemoryModelStore, type ModelStore } from './model-store';

/** Version of the store layout: part of every cache key, bumped when keys or entries change shape. */
export const MODEL_CACHE_FORMAT = 1;

/** Where one file stands; phases run checking → (downloading → verifying) → cached. */
export interface ModelProgress {
  /** The file's name, as the manifest or the encoder names it. */
  file: string;
  /** Bytes of this file received or read back so far; never decreases within one load. */
  loaded: number;
  /** The file's size, when the manifest or the server says it. */
  total: number | undefined;
  /** True when the file was already complete in the cache: say "loading from cache". */
  fromCache: boolean;
  /** 'cached' means the file is complete in the cache: being read back (fromCache) or just stored. */
  phase: 'checking' | 'downloading' | 'verifying' | 'cached';
}

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

/** Options for {@link fetchManifest} and {@link fetchSegmenterManifest}. */
export interface FetchManifestOptions {
  signal?: AbortSignal;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
}

/** A model's bytes, ready for `InferenceSession.create` (externalData goes to its `externalData` option). */
export interface LoadedModel {
  manifest: ModelManifest;
  encoder: Uint8Array;
  /** The encoder's external-data files, `path` exactly as the encoder names them. */
  externalData: { path: string; data: Uint8Array }[];
  decoder: Uint8Array;
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

/** A model's cache key: layout version, id and revision, so a new revision never reuses bytes. */
export function cacheKey(manifest: Pick<ModelManifestBase, 'id' | 'revision'>): string {
  return `${modelPrefix(manifest.id)}${encodeURIComponent(manifest.revision)}`;
}

/**
 * Downloads and validates an image-to-3D manifest; file URLs come back absolute, resolved against its
 * URL. A manifest of another kind is refused with 'manifest-invalid'.
 */
export async function fetchManifest(
  url: string,
  options: FetchManifestOptions = {},
): Promise<ModelManifest> {
  return fetchManifestOf(url, 'image-to-3d', options);
}

/**
 * Downloads and validates a segmenter manifest (`kind: 'segmenter'`), as {@link fetchManifest} does an
 * image-to-3D one; a manifest of another kind is refused with 'manifest-invalid'.
 */
export async function fetchSegmenterManifest(
  url: string,
  options: FetchManifestOptions = {},
): Promise<SegmenterManifest> {
  return fetchManifestOf(url, 'segmenter', options);
}

async function fetchManifestOf<K extends ModelKind>(
  url: string,
  kind: K,
  options: FetchManifestOptions,
): Promise<ModelManifestKinds[K]> {
  const { signal } = options;
  const fetchFn = options.fetch ?? globalThis.fetch;
  throwIfAborted(signal);
  const absolute = new URL(url, globalThis.location?.href).href;
  let response: Response;
  try {
    // Revalidate, so a manifest that moved to a new revision is seen on the next visit.
    response = await fetchFn(absolute, { signal, cache: 'no-cache' });
  } catch (error) {
    throw downloadFailure(error, signal, 'the model manifest', 'reload the page');
  }
  if (!response.ok) {
    await discardBody(response);
    throw new AppError(
      'model-download-failed',
      `Could not download the model manifest (HTTP ${response.status}); check your connection and reload the page.`,
    );
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch (error) {
    if (signal?.aborted || isAbortError(error)) throw abortError();
    throw invalidManifest('it is not valid JSON', error);
  }
  throwIfAborted(signal);
  // After redirects the files are relative to where the manifest really is.
  return parseManifest(json, response.url || absolute, kind);
}

/**
 * Checks a parsed manifest's shape and resolves its file URLs against `baseUrl`; throws
 * 'manifest-invalid', also for a manifest of another kind than `kind` (default 'image-to-3d').
 * @example
 * const segmenter = parseManifest(json, 'https://app.example/models/segmenter.json', 'segmenter');
 */
export function parseManifest<K extends ModelKind = 'image-to-3d'>(
  json: unknown,
  baseUrl: string,
  kind?: K,
): ModelManifestKinds[K] {
  const expected: ModelKind = kind ?? 'image-to-3d';
  const actual = manifestKind(json);
  // Before the shape: a manifest of the wrong kind is the problem worth reporting, broken or not.
  if (actual !== undefined && actual !== expected) throw wrongKind(actual, expected);
  const problem = manifestProblem(json, baseUrl);
  if (problem) throw invalidManifest(problem);
  const manifest = json as AnyModelManifest;
  const parsed: AnyModelManifest = {
    ...manifest,
    files: manifest.files.map((file) => ({
      ...file,
      url: new URL(file.url, baseUrl).href,
      ...(file.sha256 === undefined ? {} : { sha256: file.sha256.toLowerCase() }),
    })),
  };
  return parsed as ModelManifestKinds[K];
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
  manifest: ModelManifest,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  const encoderFile = roleFile(manifest, 'encoder');
  const decoderFile = roleFile(manifest, 'decoder');
  // Only listed sizes are known before the encoder names its external data; those are checked here.
  const { ctx, key } = await beginLoad(manifest, options);

  const encoder = await loadFile(ctx, key, encoderFile);
  const externalData: LoadedModel['externalData'] = [];
  let fromCache = encoder.fromCache;
  for (const name of await externalDataNames(ctx, key, encoderFile, encoder)) {
    const listed = manifest.files.find((f) => f.role === 'encoder-data' && f.name === name);
    const file = listed ?? { role: 'encoder-data', name, url: new URL(name, encoderFile.url).href };
    const loaded = await loadFile(ctx, key, file);
    externalData.push({ path: name, data: loaded.data });
    fromCache &&= loaded.fromCache;
  }
  const decoder = await loadFile(ctx, key, decoderFile);
  fromCache &&= decoder.fromCache;

  await deleteOtherRevisions(ctx, manifest, key);
  return {
    manifest,
    encoder: encoder.data,
    externalData,
    decoder: decoder.data,
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
  manifest: SegmenterManifest,
  options: LoadModelOptions = {},
): Promise<LoadedModelFiles> {
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
  const { total, missing } = await downloadSize(store, manifest, cacheKey(manifest), undefined);
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
  const keys = await store.keys(id === undefined ? '' : modelPrefix(id));
  for (const key of keys) await store.delete(key);
}

// ------------------------------------------------------------------------------------------------

interface Context {
  store: ModelStore;
  fetch: typeof fetch;
  signal: AbortSignal | undefined;
  onProgress: ((progress: ModelProgress) => void) | undefined;
  pieceBytes: number;
  progressIntervalMs: number;
}

interface CompleteEntry {
  bytes: number;
  sha256: string;
  pieces: number;
  pieceBytes: number;
}

interface PartialEntry {
  pieceBytes: number;
  /** null when the server did not say; such a download cannot resume. */
  total: number | null;
}

interface FileResult {
  data: Uint8Array;
  fromCache: boolean;
  /** The bytes matched a SHA-256 from the manifest. */
  verified: boolean;
}

let sharedStore: ModelStore | undefined;

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
  return (sharedStore ??= new CacheStorageModelStore());
}

function defaultEstimate(): (() => Promise<StorageEstimate>) | undefined {
  const storage = globalThis.navigator?.storage;
  return storage?.estimate ? () => storage.estimate() : undefined;
}

function modelPrefix(id: string): string {
  return `v${MODEL_CACHE_FORMAT}/${encodeURIComponent(id)}/`;
}

function filePrefix(key: string, name: string): string {
  return `${key}/${encodeURIComponent(name)}/`;
}

function roleFile(manifest: ModelManifest, role: 'encoder' | 'decoder'): ModelFile {
  const file = manifest.files.find((f) => f.role === role);
  if (!file) throw invalidManifest(`it lists no ${role} file`);
  return file;
}

function invalidManifest(problem: string, cause?: unknown): AppError {
  return new AppError(
    'manifest-invalid',
    `The model manifest is invalid (${problem}); reload the page, and if this persists the manifest needs fixing.`,
    { cause },
  );
}

const KIND_LABELS: Record<ModelKind, string> = {
  'image-to-3d': 'an image-to-3D model',
  segmenter: 'a background-removal (segmenter) model',
};

function wrongKind(actual: ModelKind, expected: ModelKind): AppError {
  return new AppError(
    'manifest-invalid',
    `The model manifest describes ${KIND_LABELS[actual]}, not ${KIND_LABELS[expected]}; choose the manifest of ${KIND_LABELS[expected]} and retry.`,
  );
}

/** The kind a manifest declares (none: 'image-to-3d'); undefined when it is not a manifest or no known kind. */
function manifestKind(json: unknown): ModelKind | undefined {
  if (!isObject(json)) return undefined;
  const kind = json.kind === undefined ? 'image-to-3d' : json.kind;
  return kind === 'image-to-3d' || kind === 'segmenter' ? kind : undefined;
}

/** The roles each kind's files may have. */
const KIND_ROLES: Record<ModelKind, readonly ModelFile['role'][]> = {
  'image-to-3d': ['encoder', 'encoder-data', 'decoder'],
  segmenter: ['segmenter'],
};

/** The segmenter's graph: transformers.js picks it from onnx/ by dtype, so there must be exactly one. */
const SEGMENTER_GRAPH = /^onnx\/[^/]+\.onnx$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Names become URL path segments in Cache Storage, where '.' and '..' would be normalised away. */
function isName(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value !== '.' && value !== '..';
}

/** A path inside a model folder ('onnx/model.onnx'): '/'-separated names, never leaving the folder. */
function isRelativePath(value: unknown): value is string {
  return typeof value === 'string' && !value.includes('\\') && value.split('/').every(isName);
}

function isNumberList(value: unknown): boolean {
  return Array.isArray(value) && value.every((v) => typeof v === 'number');
}

function orList(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function manifestProblem(json: unknown, baseUrl: string): string | undefined {
  if (!isObject(json)) return 'it is not a JSON object';
  if (json.version !== 1) return `version must be 1, not ${JSON.stringify(json.version)}`;
  const kind = manifestKind(json);
  if (kind === undefined) {
    return `kind must be ${orList(Object.keys(KIND_LABELS))}, not ${JSON.stringify(json.kind)}`;
  }
  for (const field of ['id', 'revision'] as const) {
    if (!isName(json[field])) return `${field} must be a non-empty string`;
  }
  for (const field of ['name', 'license'] as const) {
    if (typeof json[field] !== 'string') return `${field} must be a string`;
  }
  if (json.licenseUrl !== undefined && typeof json.licenseUrl !== 'string') {
    return 'licenseUrl must be a string';
  }
  if (json.downloadEstimate !== undefined && !isCount(json.downloadEstimate)) {
    return 'downloadEstimate must be a whole number of bytes';
  }
  if (!Array.isArray(json.files)) return 'files must be a list';
  const roles = KIND_ROLES[kind];
  const names = new Set<string>();
  for (const [i, file] of json.files.entries()) {
    const at = `files[${i}]`;
    if (!isObject(file)) return `${at} must be an object`;
    if (!roles.includes(file.role as ModelFile['role'])) return `${at}.role must be ${orList(roles)}`;
    if (kind === 'segmenter') {
      if (!isRelativePath(file.name)) return `${at}.name must be a path inside the model folder`;
    } else if (!isName(file.name)) return `${at}.name must be a file name`;
    if (names.has(file.name)) return `${at}.name "${file.name}" is listed twice`;
    names.add(file.name);
    if (typeof file.url !== 'string' || !isUrl(file.url, baseUrl)) return `${at}.url must be a URL`;
    if (file.bytes !== undefined && !isCount(file.bytes)) return `${at}.bytes must be a whole number`;
    const hex = typeof file.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(file.sha256);
    if (file.sha256 !== undefined && !hex) {
      return `${at}.sha256 must be 64 hex digits`;
    }
  }
  return kind === 'segmenter' ? segmenterProblem(json, names) : imageTo3dProblem(json);
}

/** What only an image-to-3D manifest needs, once its files passed the common checks. */
function imageTo3dProblem(json: Record<string, unknown>): string | undefined {
  const files = json.files as Record<string, unknown>[];
  for (const role of ['encoder', 'decoder']) {
    const count = files.filter((f) => f.role === role).length;
    if (count !== 1) return `it must list exactly one ${role} file, not ${count}`;
  }
  const { contract } = json;
  if (!isObject(contract) || !isNumberList(contract.image) || !isNumberList(contract.triplane)) {
    return 'contract must give image and triplane shapes';
  }
  if (typeof contract.features !== 'number') return 'contract.features must be a number';
  return requirementsProblem(json.requirements);
}

/** What only a segmenter manifest needs, once its files passed the common checks. */
function segmenterProblem(json: Record<string, unknown>, names: Set<string>): string | undefined {
  for (const required of ['config.json', 'preprocessor_config.json']) {
    if (!names.has(required)) return `it must list ${required}`;
  }
  const graphs = [...names].filter((name) => SEGMENTER_GRAPH.test(name)).length;
  if (graphs !== 1) return `it must list exactly one onnx/*.onnx file, not ${graphs}`;
  const { contract } = json;
  if (!isObject(contract) || !isNumberList(contract.input) || !isNumberList(contract.output)) {
    return 'contract must give input and output shapes';
  }
  return json.requirements === undefined ? undefined : requirementsProblem(json.requirements);
}

function requirementsProblem(requirements: unknown): string | undefined {
  if (
    !isObject(requirements) ||
    !isCount(requirements.maxBufferSize) ||
    !isCount(requirements.maxStorageBufferBindingSize)
  ) {
    return 'requirements must give maxBufferSize and maxStorageBufferBindingSize';
  }
  return undefined;
}

function isUrl(url: string, base: string): boolean {
  try {
    const { protocol } = new URL(url, base);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

function isCompleteEntry(value: unknown): value is CompleteEntry {
  return (
    isObject(value) &&
    isCount(value.bytes) &&
    isCount(value.pieces) &&
    isCount(value.pieceBytes) &&
    value.pieceBytes > 0 &&
    typeof value.sha256 === 'string'
  );
}

function isPartialEntry(value: unknown): value is PartialEntry {
  return (
    isObject(value) &&
    isCount(value.pieceBytes) &&
    value.pieceBytes > 0 &&
    (value.total === null || isCount(value.total))
  );
}

async function readEntry<T>(
  store: ModelStore,
  key: string,
  check: (value: unknown) => value is T,
  signal: AbortSignal | undefined,
): Promise<T | undefined> {
  const bytes = await store.get(key);
  throwIfAborted(signal);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function entryBytes(value: CompleteEntry | PartialEntry): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** A complete entry serves a file only if it agrees with what the manifest now says about it. */
function completeMatches(
  entry: CompleteEntry | undefined,
  file: ModelFile,
): entry is CompleteEntry {
  return (
    entry !== undefined &&
    (file.bytes === undefined || file.bytes === entry.bytes) &&
    (file.sha256 === undefined || file.sha256 === entry.sha256)
  );
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

/** Emits progress for one file, at most once per interval unless forced (pieces, phase ends). */
class Progress {
  private last = -Infinity;

  constructor(
    private readonly ctx: Context,
    private readonly file: string,
  ) {}

  emit(
    phase: ModelProgress['phase'],
    loaded: number,
    total: number | undefined,
    fromCache: boolean,
    force = false,
  ): void {
    if (!this.ctx.onProgress) return;
    const now = performance.now();
    if (!force && now - this.last < this.ctx.progressIntervalMs) return;
    this.last = now;
    this.ctx.onProgress({ file: this.file, loaded, total, fromCache, phase });
  }
}

async function loadFile(ctx: Context, key: string, file: ModelFile): Promise<FileResult> {
  const prefix = filePrefix(key, file.name);
  const progress = new Progress(ctx, file.name);
  progress.emit('checking', 0, file.bytes, false, true);
  const complete = await readEntry(ctx.store, `${prefix}complete`, isCompleteEntry, ctx.signal);
  if (completeMatches(complete, file)) {
    const data = new Uint8Array(complete.bytes);
    const report = (loaded: number): void => progress.emit('cached', loaded, complete.bytes, true);
    const pieces = await readStoredPieces(ctx, prefix, complete.pieceBytes, data, undefined, report);
    if (pieces === Math.ceil(complete.bytes / complete.pieceBytes)) {
      progress.emit('cached', complete.bytes, complete.bytes, true, true);
      return { data, fromCache: true, verified: file.sha256 !== undefined };
    }
  }
  // A complete entry the manifest disagrees with, or whose pieces went missing: start this file over.
  if (complete) await discardFile(ctx.store, prefix);
  return downloadFile(ctx, prefix, file, progress);
}

/**
 * Copies stored pieces 0, 1, … into `out` until one is missing or the wrong size, feeding each to
 * `hasher`; returns how many it copied. Reading them back is needed anyway to return the file, so a
 * resumed download re-hashes them rather than persisting hash-wasm's internal state.
 */
async function readStoredPieces(
  ctx: Context,
  prefix: string,
  pieceBytes: number,
  out: Uint8Array,
  hasher: IHasher | undefined,
  report: (loaded: number) => void,
): Promise<number> {
  let n = 0;
  for (; n * pieceBytes < out.length; n++) {
    const start = n * pieceBytes;
    const end = Math.min(start + pieceBytes, out.length);
    const piece = await ctx.store.get(`${prefix}piece-${n}`);
    throwIfAborted(ctx.signal);
    if (piece?.byteLength !== end - start) break;
    out.set(piece, start);
    hasher?.update(piece);
    report(end);
  }
  return n;
}

async function discardFile(store: ModelStore, prefix: string): Promise<void> {
  for (const key of await store.keys(prefix)) await store.delete(key);
}

async function storeEntry(
  ctx: Context,
  key: string,
  data: Uint8Array,
  file: string,
): Promise<void> {
  try {
    await ctx.store.put(key, data);
  } catch (error) {
    if ((error as { name?: unknown } | null)?.name === 'QuotaExceededError') {
      throw new AppError(
        'storage-full',
        `The browser ran out of storage while saving ${file}; free up disk space or delete cached models in Settings → Storage, then press Generate to continue.`,
        { cause: error },
      );
    }
    throw error;
  }
  throwIfAborted(ctx.signal);
}

/** Cuts incoming bytes into pieces, storing and hashing each one as soon as it is full. */
class PieceWriter {
  /** Pieces stored so far. */
  pieces = 0;
  /** Bytes received from the start of the file, stored or not. */
  loaded = 0;
  /** The file's size, once known. */
  total: number | undefined;
  /** The whole file when its size was known up front: pieces are views into it, never copied twice. */
  private out: Uint8Array | undefined;
  /** Stored pieces of a file of unknown size, joined once at the end. */
  private readonly parts: Uint8Array[] = [];
  private piece: Uint8Array | undefined;
  private filled = 0;
  private wrotePartial = false;

  constructor(
    private readonly ctx: Context,
    private readonly prefix: string,
    private readonly file: ModelFile,
    readonly pieceBytes: number,
    private readonly hasher: IHasher,
    private readonly progress: Progress,
    total: number | undefined,
  ) {
    hasher.init();
    if (total !== undefined) this.setTotal(total);
  }

  /** Continues a download whose pieces an earlier call stored; undefined when there is none. */
  static async resume(
    ctx: Context,
    prefix: string,
    file: ModelFile,
    hasher: IHasher,
    progress: Progress,
  ): Promise<PieceWriter | undefined> {
    const partial = await readEntry(ctx.store, `${prefix}partial`, isPartialEntry, ctx.signal);
    if (!partial || partial.total === null) return undefined;
    if (file.bytes !== undefined && partial.total !== file.bytes) return undefined;
    const { pieceBytes, total } = partial;
    const writer = new PieceWriter(ctx, prefix, file, pieceBytes, hasher, progress, total);
    const out = writer.out!;
    writer.pieces = await readStoredPieces(ctx, prefix, partial.pieceBytes, out, hasher, (loaded) =>
      progress.emit('checking', loaded, out.length, false),
    );
    writer.loaded = Math.min(writer.pieces * partial.pieceBytes, out.length);
    writer.wrotePartial = true;
    return writer;
  }

  setTotal(total: number): void {
    this.total = total;
    if (this.loaded > 0 || this.out?.length === total) return;
    this.out = new Uint8Array(total);
    // A resumed download with no piece yet may learn a new size: record it with the first piece.
    this.wrotePartial = false;
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (let pos = 0; pos < chunk.length; ) {
      if (!this.piece) {
        const start = this.pieces * this.pieceBytes;
        if (!this.out) this.piece = new Uint8Array(this.pieceBytes);
        else if (start < this.out.length) {
          this.piece = this.out.subarray(start, Math.min(start + this.pieceBytes, this.out.length));
        } else {
          const tooMany = sizeError(this.file, this.out.length, this.loaded + chunk.length - pos);
          throw await discardWith(this.ctx, this.prefix, tooMany);
        }
      }
      const n = Math.min(chunk.length - pos, this.piece.length - this.filled);
      this.piece.set(chunk.subarray(pos, pos + n), this.filled);
      this.filled += n;
      this.loaded += n;
      pos += n;
      if (this.filled === this.piece.length) await this.flush();
      else this.progress.emit('downloading', this.loaded, this.total, false);
    }
  }

  /** Stores the piece being filled, whole or (at the end of the file) short. */
  async flush(): Promise<void> {
    if (!this.piece || this.filled === 0) return;
    const data = this.piece.subarray(0, this.filled);
    if (!this.wrotePartial) {
      const partial: PartialEntry = { pieceBytes: this.pieceBytes, total: this.total ?? null };
      await storeEntry(this.ctx, `${this.prefix}partial`, entryBytes(partial), this.file.name);
      this.wrotePartial = true;
    }
    await storeEntry(this.ctx, `${this.prefix}piece-${this.pieces}`, data, this.file.name);
    // Hashed only once stored, so a resume that re-hashes the stored pieces sees the same bytes.
    this.hasher.update(data);
    if (!this.out) this.parts.push(data);
    this.pieces++;
    this.piece = undefined;
    this.filled = 0;
    this.progress.emit('downloading', this.loaded, this.total, false, true);
  }

  /** The whole file, after the last flush. */
  result(): Uint8Array {
    if (this.out) return this.out;
    const out = new Uint8Array(this.loaded);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

async function downloadFile(
  ctx: Context,
  prefix: string,
  file: ModelFile,
  progress: Progress,
): Promise<FileResult> {
  const hasher = await createSHA256();
  throwIfAborted(ctx.signal);
  const fresh = async (): Promise<PieceWriter> => {
    // Old pieces could otherwise pass as a contiguous prefix of the new download on a later resume.
    await discardFile(ctx.store, prefix);
    throwIfAborted(ctx.signal);
    return new PieceWriter(ctx, prefix, file, ctx.pieceBytes, hasher, progress, file.bytes);
  };
  let writer = (await PieceWriter.resume(ctx, prefix, file, hasher, progress)) ?? (await fresh());
  let restarted = false;
  progress.emit('downloading', writer.loaded, writer.total, false, true);

  while (writer.total === undefined || writer.loaded < writer.total) {
    const start = writer.loaded;
    const pieceEnd = start + writer.pieceBytes;
    const end = (writer.total === undefined ? pieceEnd : Math.min(pieceEnd, writer.total)) - 1;
    const response = await request(ctx, file, start, end);

    if (response.status === 206) {
      const header = response.headers.get('content-range');
      const range = parseContentRange(header);
      if (range === 'invalid' || (range && (range.start !== start || range.end > end))) {
        await discardBody(response);
        throw new AppError(
          'model-download-failed',
          `The server sent the wrong part of ${file.name} (asked for bytes ${start}-${end}, got "${header}"); press Generate to retry later.`,
        );
      }
      if (range?.total !== undefined && range.total !== writer.total) {
        if (writer.total === undefined) writer.setTotal(range.total);
        else {
          await discardBody(response);
          if (file.bytes !== undefined) {
            throw await discardWith(ctx, prefix, sizeError(file, file.bytes, range.total));
          }
          // The file changed on the server since this download began: start over, once.
          if (restarted) throw changedFailure(file);
          restarted = true;
          writer = await fresh();
          continue;
        }
      }
      // Content-Range may be hidden from us (a cross-origin CDN that does not expose it): then the
      // response is the range we asked for, as long as Content-Length agrees.
      const asked = end - start + 1;
      const announced = range ? range.end - range.start + 1 : contentLength(response);
      const received = await pipe(ctx, response, writer, file, asked);
      if (announced !== undefined && received !== announced) {
        const expected = writer.total ?? start + announced;
        throw await discardWith(ctx, prefix, sizeError(file, expected, writer.loaded));
      }
      if (writer.total === undefined) {
        // Size unknown to everyone: a short range is the end of the file.
        if (received < asked) {
          await writer.flush();
          writer.setTotal(writer.loaded);
        }
      } else if (received === 0) {
        throw await discardWith(ctx, prefix, sizeError(file, writer.total, writer.loaded));
      }
      // A range shorter than asked is allowed: the next request goes on from where it ended.
      continue;
    }

    if (response.status === 200) {
      // The server ignores Range and sends the whole file: take it from byte 0, still piece by piece.
      if (writer.loaded > 0) writer = await fresh();
      const length = contentLength(response);
      if (length !== undefined) {
        if (file.bytes !== undefined && length !== file.bytes) {
          await discardBody(response);
          throw await discardWith(ctx, prefix, sizeError(file, file.bytes, length));
        }
        writer.setTotal(length);
      }
      const received = await pipe(ctx, response, writer, file, Infinity);
      await writer.flush();
      if (length !== undefined && received !== length) {
        throw await discardWith(ctx, prefix, sizeError(file, length, received));
      }
      if (writer.total === undefined) writer.setTotal(writer.loaded);
      break;
    }

    await discardBody(response);
    if (response.status === 416 && writer.total === undefined && start > 0) {
      // Size unknown and the file ended exactly on a piece boundary.
      writer.setTotal(start);
      break;
    }
    if (response.status === 416) await discardFile(ctx.store, prefix);
    throw new AppError(
      'model-download-failed',
      `Could not download ${file.name} (HTTP ${response.status}); check your connection and press Generate to retry.`,
    );
  }

  progress.emit('verifying', writer.loaded, writer.total, false, true);
  const expected = file.bytes ?? writer.total;
  if (expected !== undefined && writer.loaded !== expected) {
    throw await discardWith(ctx, prefix, sizeError(file, expected, writer.loaded));
  }
  const data = writer.result();
  const sha256 = hasher.digest('hex');
  if (file.sha256 !== undefined && sha256 !== file.sha256) {
    throw await discardWith(
      ctx,
      prefix,
      new AppError(
        'model-corrupt',
        `The model file ${file.name} is corrupt: its checksum does not match the manifest; press Generate to download it again.`,
      ),
    );
  }
  const complete: CompleteEntry = {
    bytes: data.length,
    sha256,
    pieces: writer.pieces,
    pieceBytes: writer.pieceBytes,
  };
  await storeEntry(ctx, `${prefix}complete`, entryBytes(complete), file.name);
  await ctx.store.delete(`${prefix}partial`);
  progress.emit('cached', data.length, data.length, false, true);
  return { data, fromCache: false, verified: file.sha256 !== undefined };
}

async function request(
  ctx: Context,
  file: ModelFile,
  start: number,
  end: number,
): Promise<Response> {
  let response: Response;
  try {
    // A single byte range is a CORS-safelisted header in the Fetch standard; If-Range is not and
    // would add a preflight, so a file that changed under us shows up in the total or the checksum.
    // Called unbound: the global fetch throws "Illegal invocation" when called as ctx.fetch(...).
    const fetchFn = ctx.fetch;
    response = await fetchFn(file.url, {
      headers: { Range: `bytes=${start}-${end}` },
      signal: ctx.signal,
    });
  } catch (error) {
    throw downloadFailure(error, ctx.signal, file.name, 'press Generate to resume');
  }
  if (ctx.signal?.aborted) {
    await discardBody(response);
    throw abortError();
  }
  return response;
}

/** Feeds a response body to the writer; returns the bytes received. More than `limit` is an error. */
async function pipe(
  ctx: Context,
  response: Response,
  writer: PieceWriter,
  file: ModelFile,
  limit: number,
): Promise<number> {
  if (!response.body) return 0;
  const reader = response.body.getReader();
  let received = 0;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw downloadFailure(error, ctx.signal, file.name, 'press Generate to resume');
      }
      throwIfAborted(ctx.signal);
      if (chunk.done) return received;
      received += chunk.value.length;
      if (received > limit) {
        throw new AppError(
          'model-download-failed',
          `The server sent more of ${file.name} than was asked for; press Generate to retry later.`,
        );
      }
      await writer.write(chunk.value);
    }
  } catch (error) {
    reader.cancel().catch(() => undefined);
    throw error;
  }
}

interface ContentRange {
  start: number;
  end: number;
  total?: number;
}

function parseContentRange(header: string | null): ContentRange | 'invalid' | undefined {
  if (header === null) return undefined;
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim());
  if (!match) return 'invalid';
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return 'invalid';
  return total === undefined ? { start, end } : { start, end, total };
}

/** The body length the headers announce; unknown for a content-encoded body (that is the encoded one). */
function contentLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') return undefined;
  const value = response.headers.get('content-length');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function downloadFailure(
  error: unknown,
  signal: AbortSignal | undefined,
  what: string,
  next: string,
): Error {
  if (signal?.aborted || isAbortError(error)) return abortError();
  if (error instanceof AppError) return error;
  return new AppError('model-download-failed', `Could not download ${what} (network error); check your connection and ${next}.`, {
    cause: error,
  });
}

function changedFailure(file: ModelFile): AppError {
  return new AppError(
    'model-download-failed',
    `The server keeps changing the size of ${file.name} while it downloads; press Generate to retry later.`,
  );
}

function sizeError(file: ModelFile, expected: number, got: number): AppError {
  return got < expected
    ? new AppError(
        'model-truncated',
        `The model file ${file.name} is truncated: expected ${formatBytes(expected)}, got ${formatBytes(got)}. Check your connection and press Generate to retry.`,
      )
    : new AppError(
        'model-corrupt',
        `The model file ${file.name} is larger than expected: expected ${formatBytes(expected)}, got ${formatBytes(got)}; press Generate to download it again.`,
      );
}

/** Deletes a file's stored pieces (they cannot be trusted) and returns the error to throw. */
async function discardWith(ctx: Context, prefix: string, error: AppError): Promise<AppError> {
  await discardFile(ctx.store, prefix);
  return error;
}

/** Unique external-data locations the encoder graph refers to, in first-use order. */
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
