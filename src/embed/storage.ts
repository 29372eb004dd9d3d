/**
 * Storage in a cross-site frame. Browsers block or partition it there: headless Chromium throws a
 * SecurityError for IndexedDB, Cache Storage, OPFS and localStorage. The widget then keeps the model
 * in memory for the visit, and offers the Storage Access API where the browser has it.
 */
import { CacheStorageModelStore, IndexedDbModelStore, type ModelStore } from '../lib/model-store';

/** True when this page can keep the model: Cache Storage opens (the store the pipeline prefers). */
export async function pageStorageWorks(): Promise<boolean> {
  try {
    const store = new CacheStorageModelStore({ caches: globalThis.caches });
    await store.keys();
    return true;
  } catch {
    return false;
  }
}

/** The handle `requestStorageAccess` returns when asked for storage types (Chromium). */
interface StorageAccessHandle {
  caches?: CacheStorage;
  indexedDB?: IDBFactory;
}

/** True when the browser can ask for unpartitioned storage (Chromium's handle form of the API). */
export function canRequestStorage(): boolean {
  return typeof document !== 'undefined' && typeof document.requestStorageAccess === 'function';
}

/**
 * Asks for the widget's own storage; call it from a click. Resolves with a model store over the
 * granted handle's Cache Storage, or null when the browser said no or only grants cookies.
 */
export async function requestModelStorage(): Promise<ModelStore | null> {
  if (!canRequestStorage()) return null;
  try {
    const request = document.requestStorageAccess as unknown as (types: { caches: boolean; indexedDB: boolean }) => Promise<StorageAccessHandle | undefined>;
    const handle = await request.call(document, { caches: true, indexedDB: true });
    const stores = [
      handle?.caches && new CacheStorageModelStore({ caches: handle.caches }),
      handle?.indexedDB && new IndexedDbModelStore({ indexedDB: handle.indexedDB }),
    ];
    for (const store of stores) {
      // A handle can come back with stores that still refuse (headless Chromium's do): try each.
      if (store && (await store.keys().then(() => true, () => false))) return store;
    }
    return null;
  } catch {
    return null;
  }
}

/** True when the visitor already allowed storage for this widget on this site (no click needed then). */
export async function storageAccessGranted(): Promise<boolean> {
  try {
    const status = await navigator.permissions.query({ name: 'storage-access' as PermissionName });
    return status.state === 'granted';
  } catch {
    return false;
  }
}
