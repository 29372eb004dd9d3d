/**
 * The embed widget's postMessage API, version 1: the message shapes and the checks every incoming
 * message passes. Pure data in, data out: no DOM, so the checks run in unit tests as they do in the
 * widget. The reference is docs/embed.md.
 */

/** Every message either way carries `source: 'cadlift'` and this version. */
export const API_VERSION = 1;
export const API_SOURCE = 'cadlift';

/** Background removal before framing: 'auto' cuts out photos without transparency when the model is already here. */
export type RemoveBackground = 'auto' | 'on' | 'off';

/** Generation options a host may set; every field is optional. */
export interface GenerateOptions {
  resolution: number;
  threshold: number;
  foregroundRatio: number;
  removeBackground: RemoveBackground;
}

/** A photo as a host sends it: bytes, or an image address the widget fetches (CORS applies). */
export type ImageInput = Blob | ArrayBuffer | string;

/** Host → widget. */
export type HostMessage =
  | { type: 'generate'; id: string; image: ImageInput; options: Partial<GenerateOptions> }
  | { type: 'cancel'; id: string };

/** What the widget knows about the model download (it repeats on every visit without storage). */
export interface ReadyModel {
  name: string;
  license: string;
  /** Bytes a generate downloads when the model is not stored here; undefined when unknown. */
  downloadBytes: number | undefined;
  /** True when the model is in this browser's storage for the widget's origin. */
  cached: boolean;
}

/** Widget → host, without the envelope. */
export type WidgetMessage =
  | { type: 'ready'; capabilities: { webgpu: boolean; storage: boolean }; model: ReadyModel | null }
  | { type: 'progress'; id: string; stage: ProgressStage; fraction: number }
  | { type: 'result'; id: string; glb: ArrayBuffer; stats: { vertices: number; triangles: number; ms: number } }
  | { type: 'error'; id: string | null; code: EmbedErrorCode | string; message: string }
  | { type: 'resize'; height: number };

/** The pipeline's stages as `progress` names them; 'download' is the model download (consent shows it). */
export type ProgressStage = 'prepare' | 'download' | 'encoder' | 'decode' | 'mesh';

/** Codes of errors the API itself raises; pipeline failures keep the app's AppError codes. */
export type EmbedErrorCode =
  | 'invalid-message'
  | 'unsupported-version'
  | 'duplicate-id'
  | 'unknown-job'
  | 'cancelled'
  | 'image-too-large'
  | 'image-unreadable'
  | 'image-url-refused'
  | 'background-removal-unavailable'
  | 'internal';

/** A message with the envelope. */
export type Enveloped<T> = T & { source: typeof API_SOURCE; version: typeof API_VERSION };

/** Limits the checks apply. */
export interface ProtocolLimits {
  /** Largest image accepted, in bytes (Blob, ArrayBuffer or fetched from a URL). */
  maxImageBytes: number;
  /** Longest image address accepted (a data: URL counts). */
  maxUrlLength: number;
  /** Longest job id. */
  maxIdLength: number;
}

/** Defaults for {@link ProtocolLimits}: 20 MB images, the size a phone photo stays well under. */
export const PROTOCOL_LIMITS: ProtocolLimits = {
  maxImageBytes: 20 * 1024 * 1024,
  maxUrlLength: 28 * 1024 * 1024,
  maxIdLength: 200,
};

/** The ranges the app's controls allow (src/state/settings.ts), repeated for a host's options. */
export const OPTION_RANGES = {
  resolution: { min: 32, max: 320 },
  threshold: { min: 1, max: 100 },
  foregroundRatio: { min: 0.5, max: 1 },
} as const;

/** The outcome of checking one incoming message. */
export type Checked =
  /** Not ours (no envelope): ignored without an answer. */
  | { kind: 'ignore' }
  | { kind: 'ok'; message: HostMessage }
  /** Ours but wrong: answered with an `error` carrying `code`. */
  | { kind: 'reject'; id: string | null; code: EmbedErrorCode; message: string };

/** Adds the envelope to a widget message. */
export function envelope<T extends WidgetMessage>(message: T): Enveloped<T> {
  return { source: API_SOURCE, version: API_VERSION, ...message };
}

const ENVELOPE_KEYS = ['source', 'version', 'type'];
const FIELDS: Record<HostMessage['type'], readonly string[]> = {
  generate: ['id', 'image', 'options'],
  cancel: ['id'],
};
const OPTION_KEYS = ['resolution', 'threshold', 'foregroundRatio', 'removeBackground'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks one message a host sent. Anything without `source: 'cadlift'` is ignored (pages post all
 * sorts of messages); everything else is either a well-formed v1 message or a rejection with a code.
 * @example
 * const checked = checkHostMessage(event.data);
 * if (checked.kind === 'reject') reply({ type: 'error', id: checked.id, code: checked.code, message: checked.message });
 */
export function checkHostMessage(data: unknown, limits: ProtocolLimits = PROTOCOL_LIMITS): Checked {
  if (!isRecord(data) || data['source'] !== API_SOURCE) return { kind: 'ignore' };
  const rawId = data['id'];
  const id = typeof rawId === 'string' && rawId.length > 0 && rawId.length <= limits.maxIdLength ? rawId : null;
  const reject = (code: EmbedErrorCode, message: string): Checked => ({ kind: 'reject', id, code, message });
  if (data['version'] !== API_VERSION) {
    return reject('unsupported-version', `This widget speaks API version ${API_VERSION}; send version: ${API_VERSION}.`);
  }
  const type = data['type'];
  if (type !== 'generate' && type !== 'cancel') {
    return reject('invalid-message', `Unknown message type ${JSON.stringify(type)}; send 'generate' or 'cancel'.`);
  }
  const unknown = Object.keys(data).find((k) => !ENVELOPE_KEYS.includes(k) && !FIELDS[type].includes(k));
  if (unknown !== undefined) return reject('invalid-message', `Unknown field "${unknown}" in a ${type} message; remove it.`);
  if (id === null) {
    return reject('invalid-message', `A ${type} message needs an id: a non-empty string of at most ${limits.maxIdLength} characters.`);
  }
  if (type === 'cancel') return { kind: 'ok', message: { type, id } };

  const image = data['image'];
  const imageProblem = checkImage(image, limits);
  if (imageProblem) return reject(imageProblem.code, imageProblem.message);
  const options = checkOptions(data['options']);
  if (typeof options === 'string') return reject('invalid-message', options);
  return { kind: 'ok', message: { type, id, image: image as ImageInput, options } };
}

function checkImage(image: unknown, limits: ProtocolLimits): { code: EmbedErrorCode; message: string } | null {
  const tooLarge = (bytes: number) => ({
    code: 'image-too-large' as const,
    message: `The image is ${bytes} bytes; the widget accepts at most ${limits.maxImageBytes}. Send a smaller photo.`,
  });
  if (image instanceof Blob) return image.size > limits.maxImageBytes ? tooLarge(image.size) : null;
  if (image instanceof ArrayBuffer) return image.byteLength > limits.maxImageBytes ? tooLarge(image.byteLength) : null;
  if (typeof image === 'string') {
    if (image.length > limits.maxUrlLength) return tooLarge(image.length);
    let url: URL;
    try {
      url = new URL(image);
    } catch {
      return { code: 'invalid-message', message: 'image is a string but not an absolute URL; send an https:// address, a Blob or an ArrayBuffer.' };
    }
    if (!['https:', 'http:', 'data:'].includes(url.protocol)) {
      return { code: 'image-url-refused', message: `The widget cannot load ${url.protocol} addresses; send an https:// address, a Blob or an ArrayBuffer.` };
    }
    return null;
  }
  return { code: 'invalid-message', message: 'image must be a Blob, an ArrayBuffer or an image URL.' };
}

function checkOptions(options: unknown): Partial<GenerateOptions> | string {
  if (options === undefined) return {};
  if (!isRecord(options)) return 'options must be an object.';
  const unknown = Object.keys(options).find((k) => !OPTION_KEYS.includes(k));
  if (unknown !== undefined) return `Unknown option "${unknown}"; the options are ${OPTION_KEYS.join(', ')}.`;
  const out: Partial<GenerateOptions> = {};
  for (const key of ['resolution', 'threshold', 'foregroundRatio'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    const { min, max } = OPTION_RANGES[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      return `options.${key} must be a number from ${min} to ${max}.`;
    }
    if (key === 'resolution' && !Number.isInteger(value)) return 'options.resolution must be a whole number.';
    out[key] = value;
  }
  const remove = options['removeBackground'];
  if (remove !== undefined) {
    if (remove !== 'auto' && remove !== 'on' && remove !== 'off') return "options.removeBackground must be 'auto', 'on' or 'off'.";
    out.removeBackground = remove;
  }
  return out;
}
