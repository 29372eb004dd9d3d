/**
 * The piece downloader: fetches one model file in `pieceBytes` HTTP Range requests, storing each piece
 * the moment it is complete, so a download cut off by a network error, a cancel or a page reload
 * resumes from its last whole piece. A file counts as cached only once its `complete` entry exists,
 * written after its size and SHA-256 were checked; a later read re-hashes it against that entry.
 *
 * Per file, under `<cache key>/<file>/`: `piece-<n>` (bytes), `partial` ({ pieceBytes, total }, while
 * downloading) and `complete` ({ bytes, sha256, pieces, pieceBytes }).
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import type { ModelFile } from '../shared/manifest';
import { AppError, abortError, formatBytes, isAbortError, throwIfAborted } from './errors';
import { isCount, isObject } from './model-manifest';
import type { ModelStore } from './model-store';

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


/** What one file load needs: where pieces go, how to fetch, and whom to tell. */
export interface Context {
  store: ModelStore;
  fetch: typeof fetch;
  signal: AbortSignal | undefined;
  onProgress: ((progress: ModelProgress) => void) | undefined;
  pieceBytes: number;
  progressIntervalMs: number;
}

/** A verified file: its size, hash and how it was cut. */
export interface CompleteEntry {
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

/** A file's bytes and where they came from. */
export interface FileResult {
  data: Uint8Array;
  fromCache: boolean;
  /** The bytes matched a SHA-256 from the manifest. */
  verified: boolean;
}

/** Where one file's entries live under a cache key. */
export function filePrefix(key: string, name: string): string {
  return `${key}/${encodeURIComponent(name)}/`;
}

/** The shape of a `complete` entry. */
export function isCompleteEntry(value: unknown): value is CompleteEntry {
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

/** Reads a JSON entry, undefined when it is missing or not of the expected shape. */
export async function readEntry<T>(
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
export function completeMatches(
  entry: CompleteEntry | undefined,
  file: ModelFile,
): entry is CompleteEntry {
  return (
    entry !== undefined &&
    (file.bytes === undefined || file.bytes === entry.bytes) &&
    (file.sha256 === undefined || file.sha256 === entry.sha256)
  );
}


/** Emits progress for one file, at most once per interval unless forced (pieces, phase ends). */
export class Progress {
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

/** One file from the cache (re-hashed against its entry) or, when missing or stale, from the network. */
export async function loadFile(ctx: Context, key: string, file: ModelFile): Promise<FileResult> {
  const prefix = filePrefix(key, file.name);
  const progress = new Progress(ctx, file.name);
  progress.emit('checking', 0, file.bytes, false, true);
  const complete = await readEntry(ctx.store, `${prefix}complete`, isCompleteEntry, ctx.signal);
  if (completeMatches(complete, file)) {
    const data = new Uint8Array(complete.bytes);
    const report = (loaded: number): void => progress.emit('cached', loaded, complete.bytes, true);
    // Every read is checked against the size and hash recorded when the file was verified, so a piece
    // the store lost or garbled, or one from another version, is never handed to the session.
    const hasher = await createSHA256();
    const pieces = await readStoredPieces(ctx, prefix, complete.pieceBytes, data, hasher, report);
    const whole = pieces === Math.ceil(complete.bytes / complete.pieceBytes);
    if (whole && hasher.digest('hex') === complete.sha256) {
      progress.emit('cached', complete.bytes, complete.bytes, true, true);
      return { data, fromCache: true, verified: file.sha256 !== undefined };
    }
  }
  // A complete entry the manifest disagrees with, or whose pieces went missing or changed: start over.
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

/** Deletes every entry of one file. */
export async function discardFile(store: ModelStore, prefix: string): Promise<void> {
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
    if (response.status === 404) {
      throw new AppError(
        'model-download-failed',
        `The server has no ${file.name} (HTTP 404): the published model is incomplete; choose another model or press Generate to retry later.`,
      );
    }
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

/** Drops a response body nobody will read. */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** A failed fetch as the error to show: AbortError when cancelled. */
export function downloadFailure(
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
export async function discardWith(ctx: Context, prefix: string, error: AppError): Promise<AppError> {
  await discardFile(ctx.store, prefix);
  return error;
}
