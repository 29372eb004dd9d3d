import 'fake-indexeddb/auto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory } from 'fake-indexeddb';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { exportHistory, importHistory, type ArchiveManifest } from '../../../src/history/archive';
import { HistoryStore } from '../../../src/history/store';
import { blobBytes, bytes, entry } from './fixtures';

const open = (): Promise<HistoryStore> => HistoryStore.open({ indexedDB: new IDBFactory() });

async function filled(): Promise<HistoryStore> {
  const store = await open();
  await store.add(entry(0));
  await store.add(entry(1, { kind: 'text', prompt: 'a teapot', triplane: new Blob([bytes(77, 2048) as BlobPart]) }));
  const processed = { settings: { printable: true } as never, report: { score: 8.2 } as never, mesh: new Blob([bytes(88, 256) as BlobPart], { type: 'model/gltf-binary' }) };
  await store.add(entry(2, { processed }));
  return store;
}

async function snapshot(store: HistoryStore): Promise<unknown[]> {
  const { entries } = await store.readAll();
  return Promise.all(
    entries.map(async (e) => ({
      ...e,
      thumbnail: await blobBytes(e.thumbnail),
      image: await blobBytes(e.image),
      mesh: await blobBytes(e.mesh),
      triplane: e.triplane && (await blobBytes(e.triplane)),
      processedMesh: e.processedMesh && (await blobBytes(e.processedMesh)),
    })),
  );
}

function rezip(zip: Uint8Array, edit: (files: Record<string, Uint8Array>) => void): Uint8Array {
  const files = unzipSync(zip);
  edit(files);
  return zipSync(files);
}

describe('history export and import', () => {
  it('round-trips every entry, payload and setting into another browser', async () => {
    const source = await filled();
    const { zip, entries, skipped } = await exportHistory(source);
    expect(entries).toBe(3);
    expect(skipped).toEqual([]);
    const target = await open();
    expect(await importHistory(target, zip)).toEqual({ added: ['entry-0', 'entry-1', 'entry-2'], existing: [] });
    expect(await snapshot(target)).toEqual(await snapshot(source));
    expect((await target.get('entry-1'))?.mesh.type).toBe('model/gltf-binary');
    expect(await target.usage()).toBe(await source.usage());
  });

  it('writes a zip that an independent reader accepts, with readable names', async () => {
    const { zip } = await exportHistory(await filled());
    const dir = mkdtempSync(join(tmpdir(), 'history-'));
    writeFileSync(join(dir, 'h.zip'), zip);
    // Python's zipfile checks every CRC; fflate's reader does not.
    const out = execFileSync('/usr/bin/python3', ['-c', 'import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);print(z.testzip());print("\\n".join(sorted(z.namelist())))', join(dir, 'h.zip')]).toString().trim().split('\n');
    expect(out[0]).toBe('None');
    expect(out).toContain('manifest.json');
    expect(out).toContain('entries/0002/triplane.bin');
    expect(out).toContain('entries/0003/processed.glb');
    expect(out).toContain('entries/0001/image.png');
  });

  it('merges: entries already present stay as they are', async () => {
    const { zip } = await exportHistory(await filled());
    const target = await open();
    await target.add(entry(1, { name: 'Mine' }));
    await target.add(entry(9));
    expect(await importHistory(target, zip)).toEqual({ added: ['entry-0', 'entry-2'], existing: ['entry-1'] });
    expect((await target.list()).entries.map((e) => `${e.id}:${e.name}`)).toEqual(['entry-9:Mug 9', 'entry-2:Mug 2', 'entry-1:Mine', 'entry-0:Mug 0']);
    expect(await importHistory(target, zip)).toEqual({ added: [], existing: ['entry-0', 'entry-1', 'entry-2'] });
  });

  it('writes only the fields an entry has', async () => {
    const { zip } = await exportHistory(await filled());
    const edited = rezip(zip, (f) => {
      const m = JSON.parse(strFromU8(f['manifest.json']!)) as ArchiveManifest;
      Object.assign(m.entries[0]!, { extra: 'x'.repeat(1000) });
      f['manifest.json'] = strToU8(JSON.stringify(m));
    });
    const target = await open();
    await importHistory(target, edited);
    const got = await target.get('entry-0');
    expect(got).toBeDefined();
    expect(Object.keys(got!)).not.toContain('extra');
    expect(got?.cacheKey).toBe('key-0');
  });

  it('refuses a cut-short, damaged or incomplete file and writes nothing', async () => {
    const { zip } = await exportHistory(await filled());
    const manifest = (files: Record<string, Uint8Array>): ArchiveManifest => JSON.parse(strFromU8(files['manifest.json']!)) as ArchiveManifest;
    const bad: [string, Uint8Array][] = [
      ['cut short', zip.subarray(0, Math.floor(zip.length * 0.6))],
      ['not a zip', strToU8('hello')],
      ['a flipped byte in the last mesh', rezip(zip, (f) => {
        const mesh = f['entries/0003/mesh.glb']!;
        mesh[10] = mesh[10]! ^ 1;
      })],
      ['a file missing', rezip(zip, (f) => delete f['entries/0003/image.png'])],
      ['no manifest', rezip(zip, (f) => delete f['manifest.json'])],
      ['a broken record', rezip(zip, (f) => {
        const m = manifest(f);
        (m.entries[2] as { params?: unknown }).params = undefined;
        f['manifest.json'] = strToU8(JSON.stringify(m));
      })],
      ['a newer format', rezip(zip, (f) => {
        const m = manifest(f);
        m.version = 99;
        f['manifest.json'] = strToU8(JSON.stringify(m));
      })],
    ];
    for (const [what, file] of bad) {
      const target = await open();
      await target.add(entry(7));
      const error = await importHistory(target, file).catch((e: unknown) => e);
      expect(error, what).toMatchObject({ code: 'history-import-invalid' });
      expect((error as Error).message, what).toMatch(/Nothing was imported\.$/);
      expect((await target.list()).entries.map((e) => e.id), what).toEqual(['entry-7']);
      expect(await blobBytes((await target.get('entry-7'))?.mesh), what).toEqual(bytes(73, 507));
    }
  });
});
