/**
 * A FROZEN copy of the version-1 history writer, kept to make version-1 databases for the upgrade
 * test. Do not change it when the schema moves on: it must keep writing what version 1 wrote (one
 * `entries` store, keyPath `id`, image, thumbnail and mesh inline in each record).
 */
export interface V1Entry {
  id: string;
  name: string;
  createdAt: number;
  kind: 'photo' | 'text';
  prompt?: string;
  params: Record<string, unknown>;
  model: { id: string; revision: string };
  stats: Record<string, unknown>;
  cacheKey?: string;
  image: Blob;
  thumbnail: Blob;
  mesh: Blob;
}

/** Creates `name` at version 1 and writes `entries` (any records, damaged ones included). */
export function writeV1(factory: IDBFactory, name: string, entries: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore('entries', { keyPath: 'id' });
    };
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const db = request.result;
      const tx = db.transaction('entries', 'readwrite');
      for (const e of entries) tx.objectStore('entries').put(e);
      tx.oncomplete = () => {
        db.close();
        resolve();
      };
      tx.onerror = () => reject(tx.error);
    };
  });
}
