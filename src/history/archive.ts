/**
 * The whole history as one zip, to move it to another browser: `manifest.json` (every entry's small
 * record and, for each file, its path, size, type and SHA-256) and the files. fflate does not check
 * a zip's CRCs on reading, so the manifest's hashes are what catches a damaged file.
 */
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { sha256 } from 'hash-wasm';
import { AppError } from '../lib/errors';
import type { BlobRecord } from './schema';
import type { HistoryStore } from './store';
import { PAYLOAD_PARTS, type PayloadPart, type HistorySummary } from './types';
import { checkSmallRecord } from './validate';

/** `manifest.json`'s `format`. */
export const ARCHIVE_FORMAT = 'cadlift-history';
/** The archive layout this code writes and reads. */
export const ARCHIVE_VERSION = 1;

type FilePart = PayloadPart | 'thumbnail';
const FILE_PARTS: readonly FilePart[] = ['thumbnail', ...PAYLOAD_PARTS];
const REQUIRED: readonly FilePart[] = ['thumbnail', 'image', 'mesh'];

/** One file in the archive. */
export interface ArchiveFile {
  path: string;
  size: number;
  type: string;
  sha256: string;
}

/** One entry in the manifest: the small record (no thumbnail) and its files. */
export type ArchiveEntry = Omit<HistorySummary, 'thumbnail' | 'sizes'> & { files: Partial<Record<FilePart, ArchiveFile>> };

/** `manifest.json`. */
export interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT;
  version: number;
  exportedAt: number;
  entries: ArchiveEntry[];
}

/** What an export wrote. */
export interface ExportResult {
  zip: Uint8Array;
  entries: number;
  /** Damaged entries left out, with the reason. */
  skipped: { id: string; reason: string }[];
}

/** What an import did. */
export interface ImportResult {
  /** Ids of the entries added. */
  added: string[];
  /** Ids already in this history, left as they were. */
  existing: string[];
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif', 'model/gltf-binary': 'glb',
};


/** Writes every intact entry of `store` into one zip. */
export async function exportHistory(store: HistoryStore): Promise<ExportResult> {
  const { entries, skipped } = await store.readAll();
  const files: Zippable = {};
  const manifest: ArchiveManifest = { format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, exportedAt: Date.now(), entries: [] };
  for (const [n, entry] of entries.entries()) {
    const { thumbnail, image, mesh, triplane, processedMesh, sizes: _sizes, ...small } = entry;
    const blobs: Partial<Record<FilePart, Blob>> = { thumbnail, image, mesh, triplane, processed: processedMesh };
    const out: ArchiveEntry = { ...small, files: {} };
    for (const part of FILE_PARTS) {
      const blob = blobs[part];
      if (!blob) continue;
      const bytes = new Uint8Array(await blob.arrayBuffer());
      const path = `entries/${String(n + 1).padStart(4, '0')}/${part}.${EXTENSIONS[blob.type] ?? 'bin'}`;
      // Stored, not deflated: images are compressed already, and float meshes and triplanes shrink
      // little for a long main-thread stall (20 entries, 84 MB: 11 s at level 6, 1.6 s stored, hashing included).
      files[path] = [bytes, { level: 0 }];
      out.files[part] = { path, size: bytes.length, type: blob.type, sha256: await sha256(bytes) };
    }
    manifest.entries.push(out);
  }
  files['manifest.json'] = strToU8(JSON.stringify(manifest, null, 1));
  return { zip: zipSync(files), entries: entries.length, skipped };
}

function invalid(detail: string, cause?: unknown): AppError {
  return new AppError('history-import-invalid', `This file is not a complete CADLift history export (${detail}); export the history again and import the new file. Nothing was imported.`, { cause });
}

/**
 * Reads an exported zip and adds the entries this history lacks (ids already present stay as they
 * are). Everything is checked before anything is written, and the writes are one transaction: a
 * damaged or cut-short file imports nothing and throws AppError 'history-import-invalid'.
 */
export async function importHistory(store: HistoryStore, zip: Uint8Array): Promise<ImportResult> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (error) {
    throw invalid('it is damaged or cut short', error);
  }
  const manifestBytes = files['manifest.json'];
  if (!manifestBytes) throw invalid('manifest.json is missing');
  let manifest: ArchiveManifest;
  try {
    manifest = JSON.parse(strFromU8(manifestBytes)) as ArchiveManifest;
  } catch (error) {
    throw invalid('manifest.json is not JSON', error);
  }
  if (manifest?.format !== ARCHIVE_FORMAT || !Array.isArray(manifest.entries)) throw invalid('it has no CADLift history manifest');
  if (manifest.version > ARCHIVE_VERSION) throw invalid(`it was written by a newer CADLift (archive version ${manifest.version})`);

  const items: { summary: HistorySummary; blobs: BlobRecord[] }[] = [];
  const ids = new Set<string>();
  for (const entry of manifest.entries) {
    const problem = checkSmallRecord({ ...entry });
    if (problem) throw invalid(`an entry has ${problem}`);
    if (ids.has(entry.id)) throw invalid(`entry ${entry.id} appears twice`);
    ids.add(entry.id);
    const blobs: Partial<Record<FilePart, Blob>> = {};
    for (const part of FILE_PARTS) {
      const file = entry.files?.[part];
      if (!file) {
        if (REQUIRED.includes(part)) throw invalid(`“${entry.name}” has no ${part}`);
        continue;
      }
      const bytes = files[file.path];
      if (!bytes || bytes.length !== file.size || (await sha256(bytes)) !== file.sha256) throw invalid(`the ${part} of “${entry.name}” is missing or damaged`);
      blobs[part] = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: typeof file.type === 'string' ? file.type : '' });
    }
    const sizes: HistorySummary['sizes'] = {};
    for (const [part, blob] of Object.entries(blobs)) sizes[part as FilePart] = blob.size;
    // Only the fields an entry has: nothing else from a file is written into the database.
    const { id, name, createdAt, kind, prompt, params, model, stats, quality, cacheKey, processed } = entry;
    const summary: HistorySummary = { id, name, createdAt, kind, params, model, stats, thumbnail: blobs.thumbnail!, sizes };
    Object.assign(summary, Object.fromEntries(Object.entries({ prompt, quality, cacheKey, processed }).filter(([, v]) => v !== undefined)));
    const records: BlobRecord[] = PAYLOAD_PARTS.filter((p) => blobs[p]).map((part) => ({ entryId: entry.id, part, data: blobs[part]! }));
    items.push({ summary, blobs: records });
  }
  const added = await store.write(items, 'skip-existing', 'the imported history');
  const addedSet = new Set(added);
  return { added, existing: [...ids].filter((id) => !addedSet.has(id)) };
}
