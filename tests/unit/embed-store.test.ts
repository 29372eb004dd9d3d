import { describe, expect, it } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { openRequestedStore, PageModelStore, servePageStore } from '../../src/embed/page-store';
import { readDisplayOptions } from '../../src/embed/display-options';
import { MemoryModelStore, probeModelStore } from '../../src/lib/model-store';

/** Storage as a cross-site frame in Chromium has it: the globals exist and every use throws. */
const blockedCaches = { open: () => Promise.reject(new DOMException('Access denied.', 'SecurityError')) } as unknown as CacheStorage;
const blockedIndexedDb = {
  open: () => {
    throw new DOMException('Access denied.', 'SecurityError');
  },
} as unknown as IDBFactory;

describe('probeModelStore', () => {
  it('falls back to memory when Cache Storage and IndexedDB exist but throw', async () => {
    expect((await probeModelStore({ caches: blockedCaches, indexedDB: blockedIndexedDb })).kind).toBe('memory');
    expect((await probeModelStore({ caches: undefined, indexedDB: undefined })).kind).toBe('memory');
  });

  it('takes IndexedDB when only Cache Storage is blocked', async () => {
    const store = await probeModelStore({ caches: blockedCaches, indexedDB: new IDBFactory() });
    expect(store.kind).toBe('indexeddb');
    await store.put('k', new Uint8Array([1, 2, 3]));
    expect(await store.get('k')).toEqual(new Uint8Array([1, 2, 3]));
  });
});

describe('a store the page serves to its worker', () => {
  it('answers get/put/keys/size/delete over a BroadcastChannel', async () => {
    const backing = new MemoryModelStore();
    const name = `test-${Math.random()}`;
    const stop = servePageStore(backing, name);
    const remote = new PageModelStore('cache-storage', name);
    try {
      await remote.put('v1/a/piece-0', new Uint8Array([1, 2, 3, 4]));
      await remote.put('v1/b/piece-0', new Uint8Array([5]));
      expect(backing.entries.get('v1/a/piece-0')).toEqual(new Uint8Array([1, 2, 3, 4]));
      expect(await remote.get('v1/a/piece-0')).toEqual(new Uint8Array([1, 2, 3, 4]));
      expect(await remote.get('missing')).toBeUndefined();
      expect((await remote.keys('v1/a/')).sort()).toEqual(['v1/a/piece-0']);
      expect(await remote.size()).toBe(5);
      await remote.delete('v1/a/piece-0');
      expect(await remote.keys()).toEqual(['v1/b/piece-0']);
    } finally {
      stop();
      remote.close();
    }
  });

  it('moves what the worker held in memory into the granted store', async () => {
    const backing = new MemoryModelStore();
    const name = `test-${Math.random()}`;
    const stop = servePageStore(backing, name);
    try {
      const memory = new MemoryModelStore();
      await memory.put('v1/model/piece-0', new Uint8Array([9, 9]));
      const next = await openRequestedStore({ kind: 'page', channel: name, storeKind: 'cache-storage' }, memory);
      expect(next.kind).toBe('cache-storage');
      expect(backing.entries.get('v1/model/piece-0')).toEqual(new Uint8Array([9, 9]));
      expect(await openRequestedStore({ kind: 'page', channel: name, storeKind: 'cache-storage' }, next)).toBe(next);
      expect(await openRequestedStore({ kind: 'memory' }, memory)).toBe(memory);
      (next as PageModelStore).close();
    } finally {
      stop();
    }
  });
});

describe('readDisplayOptions', () => {
  it('reads model-viewer style flags and keeps defaults for the rest', () => {
    expect(readDisplayOptions('?model=/m.json&controls=0&autorotate&background=%23fff&ui=minimal')).toEqual({
      manifestUrl: '/m.json',
      controls: false,
      autoRotate: true,
      background: '#fff',
      ui: 'minimal',
      forceCpu: false,
    });
    const defaults = readDisplayOptions('?controls=maybe&background=red;position:fixed&ui=huge');
    expect(defaults).toMatchObject({ controls: true, autoRotate: false, background: null, ui: 'full' });
  });
});
