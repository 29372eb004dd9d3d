/**
 * Pin on first use: a manifest whose files are Hugging Face `resolve/<branch>/` URLs (the default
 * `public/models/manifest.json`) is tied, the first time it is loaded, to the branch's commit. The
 * commit, each file's size and each LFS file's SHA-256 come from the Hub's JSON API
 * (`/api/models/<repo>/revision/<branch>` for the commit, `/api/models/<repo>/tree/<commit>/<dir>` for
 * the files), not from `resolve/` response headers: `X-Repo-Commit`, `X-Linked-Etag` and
 * `X-Linked-Size` sit on the 302 that `fetch` follows, so a page can never read them.
 *
 * The pinned manifest downloads from `resolve/<commit>/` URLs under a cache key made of the commit, so
 * a changed upstream never mixes with stored pieces. The pin is persisted in the model store: later and
 * offline loads make no Hub call. Moving to a newer commit is explicit ({@link checkForUpdate},
 * {@link updateModel}).
 */
import type { AnyModelManifest, ModelFile } from '../shared/manifest';
import { AppError, abortError, isAbortError, throwIfAborted } from './errors';
import { isCount, isObject } from './model-manifest';
import { defaultModelStore, type ModelStore } from './model-store';

/** A commit and what the Hub says about each listed file at that commit. */
export interface HubPin {
  /** The repository, `owner/name`. */
  repo: string;
  /** The branch (or tag) the manifest follows. */
  branch: string;
  /** The 40-hex commit the branch pointed at when pinned. */
  commit: string;
  /** By manifest file name: size, and SHA-256 for LFS files (the Hub gives git SHA-1s for the rest). */
  files: Record<string, { bytes: number; sha256?: string }>;
}

/** Options for {@link pinManifest}, {@link checkForUpdate} and {@link updateModel}. */
export interface HubPinOptions {
  signal?: AbortSignal;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
  /** Where the pin is kept; default the shared model store. */
  store?: ModelStore;
}

/** What {@link checkForUpdate} found. */
export interface ModelUpdate {
  /** The pinned commit, undefined when nothing is pinned yet. */
  current: string | undefined;
  /** The commit the branch points at now. */
  latest: string;
  /** True when `latest` differs from `current`. */
  changed: boolean;
}

const COMMIT = /^[0-9a-f]{40}$/;
const HUB_FILE = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/;

/** A Hugging Face `resolve/` URL's parts, or undefined for any other URL. */
export function hubFile(
  url: string,
): { origin: string; repo: string; revision: string; path: string } | undefined {
  const parsed = new URL(url);
  if (parsed.hostname !== 'huggingface.co') return undefined;
  const match = HUB_FILE.exec(parsed.pathname);
  if (!match) return undefined;
  return {
    origin: parsed.origin,
    repo: match[1]!,
    revision: decodeURIComponent(match[2]!),
    path: decodeURIComponent(match[3]!),
  };
}

/**
 * The repository and branch every file of `manifest` follows, or undefined when the manifest does not
 * follow a Hub branch (another host, several repositories, or already a commit). A pinned manifest
 * answers with the branch it was pinned from.
 */
export function hubSource(
  manifest: AnyModelManifest,
): { origin: string; repo: string; branch: string } | undefined {
  const files = manifest.files.map((f) => hubFile(f.url));
  const first = files[0];
  if (!first || files.some((f) => !f || f.repo !== first.repo || f.revision !== first.revision)) {
    return undefined;
  }
  const branch = manifest.upstream?.branch ?? first.revision;
  if (manifest.upstream === undefined && COMMIT.test(branch)) return undefined;
  return { origin: first.origin, repo: first.repo, branch };
}

/**
 * The manifest pinned to a commit: `resolve/<commit>/` URLs, `revision` set to the commit (so the cache
 * key changes with it), and each file's `bytes` and `sha256` from the pin where the manifest gives none.
 * A manifest that does not follow a Hub branch comes back unchanged.
 * @example
 * const manifest = await pinManifest(await fetchManifest('/models/manifest.json'), { store });
 */
export async function pinManifest<M extends AnyModelManifest>(
  manifest: M,
  options: HubPinOptions = {},
): Promise<M> {
  const source = hubSource(manifest);
  if (!source || manifest.upstream) return manifest;
  const store = options.store ?? defaultModelStore();
  const stored = await readPin(store, manifest, source.branch);
  throwIfAborted(options.signal);
  if (stored && manifest.files.every((f) => stored.files[f.name] !== undefined)) {
    return applyPin(manifest, stored);
  }
  const pin = await resolvePin(manifest, await latestCommit(source, options), options);
  await store.put(pinKey(manifest.id, source.branch), new TextEncoder().encode(JSON.stringify(pin)));
  return applyPin(manifest, pin);
}

/** The manifest with the pin already in `store` applied, or unchanged: never asks the Hub. */
export async function withStoredPin<M extends AnyModelManifest>(manifest: M, store: ModelStore): Promise<M> {
  const source = hubSource(manifest);
  if (!source || manifest.upstream) return manifest;
  const stored = await readPin(store, manifest, source.branch);
  return stored && manifest.files.every((f) => stored.files[f.name] !== undefined) ? applyPin(manifest, stored) : manifest;
}

/** Asks the Hub which commit the manifest's branch points at now, against the pinned one. */
export async function checkForUpdate(
  manifest: AnyModelManifest,
  options: HubPinOptions = {},
): Promise<ModelUpdate | undefined> {
  const source = hubSource(manifest);
  if (!source) return undefined;
  const store = options.store ?? defaultModelStore();
  const current = (await readPin(store, manifest, source.branch))?.commit;
  const latest = await latestCommit(source, options);
  return { current, latest, changed: current !== latest };
}

/**
 * Pins the manifest to the branch's newest commit and returns it; the next load downloads that
 * version under its own cache key, and the older version is deleted once the new one is complete.
 */
export async function updateModel<M extends AnyModelManifest>(
  manifest: M,
  options: HubPinOptions = {},
): Promise<M> {
  const source = hubSource(manifest);
  if (!source) return manifest;
  const store = options.store ?? defaultModelStore();
  const pin = await resolvePin(manifest, await latestCommit(source, options), options);
  await store.put(pinKey(manifest.id, source.branch), new TextEncoder().encode(JSON.stringify(pin)));
  return applyPin(manifest, pin);
}

/** The store key of a pin; outside `v1/<id>/`, so deleting old revisions never deletes the pin. */
export function pinKey(id: string, branch: string): string {
  return `pins-v1/${encodeURIComponent(id)}/${encodeURIComponent(branch)}`;
}

/** Prefix of every pin of model `id`. */
export function pinPrefix(id?: string): string {
  return id === undefined ? 'pins-v1/' : `pins-v1/${encodeURIComponent(id)}/`;
}

function applyPin<M extends AnyModelManifest>(manifest: M, pin: HubPin): M {
  return {
    ...manifest,
    revision: pin.commit,
    upstream: { repo: pin.repo, branch: pin.branch, commit: pin.commit },
    files: manifest.files.map((file): ModelFile => {
      const hub = hubFile(file.url)!;
      const known = pin.files[file.name]!;
      const path = hub.path.split('/').map(encodeURIComponent).join('/');
      // A pinned manifest's own values came from the previous pin: the new pin replaces them.
      const sha256 = manifest.upstream ? known.sha256 : (file.sha256 ?? known.sha256);
      return {
        ...file,
        url: `${hub.origin}/${hub.repo}/resolve/${pin.commit}/${path}`,
        bytes: manifest.upstream ? known.bytes : (file.bytes ?? known.bytes),
        ...(sha256 === undefined ? {} : { sha256 }),
      };
    }),
  };
}

async function readPin(
  store: ModelStore,
  manifest: AnyModelManifest,
  branch: string,
): Promise<HubPin | undefined> {
  const bytes = await store.get(pinKey(manifest.id, branch));
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return isPin(value) && value.branch === branch ? value : undefined;
  } catch {
    return undefined;
  }
}

function isPin(value: unknown): value is HubPin {
  if (!isObject(value) || typeof value.repo !== 'string' || typeof value.branch !== 'string') return false;
  if (typeof value.commit !== 'string' || !COMMIT.test(value.commit) || !isObject(value.files)) return false;
  return Object.values(value.files).every(
    (f) => isObject(f) && isCount(f.bytes) && (f.sha256 === undefined || typeof f.sha256 === 'string'),
  );
}

async function latestCommit(
  source: { origin: string; repo: string; branch: string },
  options: HubPinOptions,
): Promise<string> {
  const url = `${source.origin}/api/models/${source.repo}/revision/${encodeURIComponent(source.branch)}`;
  const info = await getJson(url, options);
  const sha = isObject(info) ? info.sha : undefined;
  if (typeof sha !== 'string' || !COMMIT.test(sha)) throw hubFailure('it did not name a commit');
  return sha;
}

/** Reads sizes and LFS hashes at `commit`, one tree listing per folder the manifest uses. */
async function resolvePin(
  manifest: AnyModelManifest,
  commit: string,
  options: HubPinOptions,
): Promise<HubPin> {
  const source = hubSource(manifest)!;
  const paths = new Map(manifest.files.map((f) => [f.name, hubFile(f.url)!.path]));
  const folders = new Set([...paths.values()].map((p) => p.split('/').slice(0, -1).join('/')));
  const entries = new Map<string, { bytes: number; sha256?: string }>();
  for (const folder of folders) {
    const suffix = folder === '' ? '' : `/${folder.split('/').map(encodeURIComponent).join('/')}`;
    const url = `${source.origin}/api/models/${source.repo}/tree/${commit}${suffix}`;
    const listing = await getJson(url, options);
    if (!Array.isArray(listing)) throw hubFailure('its file list was not a list');
    for (const entry of listing) {
      if (!isObject(entry) || entry.type !== 'file' || typeof entry.path !== 'string') continue;
      const lfs = isObject(entry.lfs) ? entry.lfs : undefined;
      const bytes = lfs && isCount(lfs.size) ? lfs.size : entry.size;
      if (!isCount(bytes)) continue;
      const oid = lfs?.oid;
      // An LFS oid is the file's SHA-256; a plain git oid is a SHA-1 of the blob, not usable here.
      const sha256 = typeof oid === 'string' && /^[0-9a-f]{64}$/i.test(oid) ? oid.toLowerCase() : undefined;
      entries.set(entry.path, sha256 === undefined ? { bytes } : { bytes, sha256 });
    }
  }
  const files: HubPin['files'] = {};
  const encoder = manifest.files.find((f) => f.role === 'encoder');
  for (const [name, path] of paths) {
    const found = entries.get(path);
    if (!found) {
      const role = manifest.files.find((f) => f.name === name)?.role;
      const need = role === 'encoder-data' && encoder ? `, which ${encoder.name} needs` : '';
      throw new AppError(
        'model-incompatible',
        `The model repository ${source.repo} has no ${path} at commit ${commit.slice(0, 7)}${need}; the published model is incomplete, so choose another model or try again later.`,
      );
    }
    files[name] = found;
  }
  return { repo: source.repo, branch: source.branch, commit, files };
}

async function getJson(url: string, options: HubPinOptions): Promise<unknown> {
  const { signal } = options;
  throwIfAborted(signal);
  // Called unbound: the global fetch throws "Illegal invocation" as a method of another object.
  const fetchFn = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    // No-cache: a browser's heuristic cache could otherwise answer "latest" with an old commit.
    response = await fetchFn(url, { signal, cache: 'no-cache' });
  } catch (error) {
    if (signal?.aborted || isAbortError(error)) throw abortError();
    throw hubFailure('network error', error);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw hubFailure(`HTTP ${response.status}`);
  }
  try {
    return await response.json();
  } catch (error) {
    if (signal?.aborted || isAbortError(error)) throw abortError();
    throw hubFailure('its answer was not JSON', error);
  }
}

function hubFailure(problem: string, cause?: unknown): AppError {
  return new AppError(
    'model-download-failed',
    `Could not look up the model's current version on Hugging Face (${problem}); check your connection and press Generate to retry.`,
    { cause },
  );
}

/** The state of "Check for a newer version" in Model and storage. */
export type UpdateCheck =
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'done'; update: ModelUpdate }
  | { state: 'updating' }
  | { state: 'failed'; message: string };
