import { strFromU8, strToU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { safeFileName, uniqueNames, zipFinished } from '../../../src/batch/download-all';
import type { Job } from '../../../src/batch/queue';

function job(id: number, name: string, state: Job<string, string>['state'], result: string | null): Job<string, string> {
  return { id, lane: 'photo', name, input: name, state, progress: state === 'done' ? 1 : 0, label: null, error: null, result, attempts: 1 };
}

describe('download all', () => {
  it('zips only the finished jobs, one file each, under unique safe names', async () => {
    const jobs = [
      job(1, 'mug', 'done', 'mesh-1'),
      job(2, 'broken', 'failed', null),
      job(3, 'Mug', 'done', 'mesh-3'),
      job(4, 'cup', 'cancelled', null),
      job(5, '../../etc/passwd', 'done', 'mesh-5'),
      job(6, 'later', 'running', null),
    ];
    const { zip, count } = await zipFinished(jobs, (j) => ({ name: `${j.name}.stl`, bytes: strToU8(j.result) }));
    expect(count).toBe(3);
    const files = unzipSync(zip);
    expect(Object.keys(files)).toEqual(['mug.stl', 'Mug (2).stl', 'etc-passwd.stl']);
    expect(Object.values(files).map((b) => strFromU8(b))).toEqual(['mesh-1', 'mesh-3', 'mesh-5']);
  });

  it('makes names safe and unique', () => {
    expect(safeFileName('  a<b>:c?.glb ')).toBe('a-b-c-.glb');
    expect(safeFileName('...')).toBe('model');
    expect(uniqueNames(['a.glb', 'A.glb', 'a.glb', 'a (2).glb', 'b'])).toEqual(['a.glb', 'A (2).glb', 'a (3).glb', 'a (2) (2).glb', 'b']);
  });
});
