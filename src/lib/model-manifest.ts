/**
 * Model manifests: their schema checks ({@link parseManifest}) and their download
 * ({@link downloadManifest}; `model-cache.ts` adds pinning on top). File URLs come back absolute.
 */
import type {
  AnyModelManifest,
  ModelFile,
  ModelKind,
  ModelManifest,
  ModelManifestKinds,
} from '../shared/manifest';
import { AppError, abortError, isAbortError, throwIfAborted } from './errors';

/** Options for {@link downloadManifest}. */
export interface DownloadManifestOptions {
  signal?: AbortSignal;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
}

/**
 * Downloads and validates a manifest of `kind`; file URLs come back absolute, resolved against its URL.
 * A manifest of another kind is refused with 'manifest-invalid'.
 */
export async function downloadManifest<K extends ModelKind>(
  url: string,
  kind: K,
  options: DownloadManifestOptions = {},
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
    if (signal?.aborted || isAbortError(error)) throw abortError();
    throw new AppError('model-download-failed', 'Could not download the model manifest (network error); check your connection and reload the page.', { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
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

/** The one file of `role` an image-to-3D manifest lists. */
export function roleFile(manifest: ModelManifest, role: 'encoder' | 'decoder'): ModelFile {
  const file = manifest.files.find((f) => f.role === role);
  if (!file) throw invalidManifest(`it lists no ${role} file`);
  return file;
}

/** The error for a manifest that fails its checks. */
export function invalidManifest(problem: string, cause?: unknown): AppError {
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
  'image-to-3d': ['encoder', 'encoder-data', 'decoder', 'decoder-data'],
  segmenter: ['segmenter'],
};

/** The segmenter's graph: transformers.js picks it from onnx/ by dtype, so there must be exactly one. */
const SEGMENTER_GRAPH = /^onnx\/[^/]+\.onnx$/;

/** A plain JSON object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A whole, non-negative, safe number. */
export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Names become URL path segments in Cache Storage, where '.' and '..' would be normalised away. */
export function isName(value: unknown): value is string {
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