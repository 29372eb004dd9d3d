/** "Download all": the finished jobs' files in one zip. */
import { zipSync, type Zippable } from 'fflate';
import type { Job } from './queue';

/** One file for the zip. */
export interface NamedFile {
  /** File name with extension, e.g. `mug.stl`; made safe and unique in the zip. */
  name: string;
  bytes: Uint8Array;
}

/** A name without folders or characters file systems refuse; never empty. */
export function safeFileName(name: string): string {
  const segments = name.split(/[/\\]+/).filter((s) => s !== '' && s !== '.' && s !== '..');
  // eslint-disable-next-line no-control-regex
  const cleaned = segments.join('-').replace(/[\u0000-\u001f<>:"|?*]+/g, '-').replace(/^[\s.]+|[\s.]+$/g, '');
  return cleaned || 'model';
}

/** `mug.glb`, `mug (2).glb`, … for repeated names (compared without case, as Windows and macOS do). */
export function uniqueNames(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((raw) => {
    const name = safeFileName(raw);
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
    used.add(candidate.toLowerCase());
    return candidate;
  });
}

/** Zips `files` flat, names made safe and unique. */
export function zipFiles(files: NamedFile[]): Uint8Array {
  const names = uniqueNames(files.map((f) => f.name));
  const zippable: Zippable = {};
  files.forEach((file, i) => (zippable[names[i]!] = file.bytes));
  return zipSync(zippable, { level: 6 });
}

/**
 * The zip of every finished job's file, in queue order; `toFile` writes one job's file in the chosen
 * format. Jobs that failed, were cancelled or are still running are left out.
 */
export async function zipFinished<I, R>(jobs: readonly Job<I, R>[], toFile: (job: Job<I, R> & { result: R }) => Promise<NamedFile> | NamedFile): Promise<{ zip: Uint8Array; count: number }> {
  const files: NamedFile[] = [];
  for (const job of jobs) {
    if (job.state === 'done' && job.result !== null) files.push(await toFile(job as Job<I, R> & { result: R }));
  }
  return { zip: zipFiles(files), count: files.length };
}
