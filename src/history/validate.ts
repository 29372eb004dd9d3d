/** Checks for records read back from IndexedDB or an imported file: data from outside is never trusted. */
import { MESHING_MODES } from '../shared/pipeline';
import type { NewEntry } from './types';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/** What is wrong with the small part of an entry (stored or imported), or null when nothing is. */
export function checkSmallRecord(record: unknown): string | null {
  if (!isObject(record)) return 'not a record';
  if (typeof record.id !== 'string' || !record.id) return 'no id';
  if (typeof record.name !== 'string') return 'no name';
  if (typeof record.createdAt !== 'number' || !Number.isFinite(record.createdAt)) return 'no date';
  if (record.kind !== 'photo' && record.kind !== 'text') return 'unknown kind';
  const params = record.params;
  if (!isObject(params) || typeof params.resolution !== 'number' || typeof params.threshold !== 'number') return 'no parameters';
  if (!(MESHING_MODES as readonly unknown[]).includes(params.meshing)) return 'unknown meshing mode';
  if (!isObject(record.model) || typeof record.model.id !== 'string' || typeof record.model.revision !== 'string') return 'no model';
  if (!isObject(record.stats)) return 'no stats';
  if (record.cacheKey !== undefined && typeof record.cacheKey !== 'string') return 'bad cache key';
  if (record.prompt !== undefined && typeof record.prompt !== 'string') return 'bad prompt';
  if (record.quality !== undefined && !isObject(record.quality)) return 'bad quality report';
  const processed = record.processed;
  if (processed !== undefined && (!isObject(processed) || !isObject(processed.settings) || !isObject(processed.report))) return 'bad processing record';
  if (isObject(processed) && processed.toSource !== undefined && !isToSource(processed.toSource)) return 'bad processing frame';
  return null;
}

/** What is wrong with a stored entry record, or null when nothing is. */
export function validateSummary(record: unknown): string | null {
  const problem = checkSmallRecord(record);
  if (problem) return problem;
  const r = record as Record<string, unknown>;
  if (!isBlob(r.thumbnail)) return 'no thumbnail';
  if (!isObject(r.sizes)) return 'no sizes';
  return null;
}

/** Throws a TypeError (a bug in the caller) for an entry that lacks what every entry needs. */
export function validateNewEntry(entry: NewEntry): void {
  const problem = checkSmallRecord({ ...entry, id: entry.id ?? 'new', createdAt: entry.createdAt ?? 0 });
  if (problem) throw new TypeError(`HistoryStore.add: ${problem}.`);
  for (const part of ['image', 'thumbnail', 'mesh'] as const) {
    if (!isBlob(entry[part])) throw new TypeError(`HistoryStore.add: ${part} is not a Blob.`);
  }
}

/** A processed mesh's map back to the generated one: a finite scale and a three-number offset. */
function isToSource(value: unknown): boolean {
  if (!isObject(value) || typeof value.scale !== 'number' || !Number.isFinite(value.scale)) return false;
  const offset = value.offset;
  return Array.isArray(offset) && offset.length === 3 && offset.every((v) => typeof v === 'number' && Number.isFinite(v));
}
