/**
 * A model store the page serves to its pipeline worker. After the Storage Access API grants an
 * embedded widget its storage, only the page's handle can use it (`handle.caches`): the worker's own
 * `caches` stays blocked. The page exposes a store over a BroadcastChannel (the worker is reached
 * only through comlink's own channel, which the pipeline client keeps to itself), and the worker
 * uses it like any other store.
 */
import { expose, wrap, type Remote } from 'comlink';
import { MemoryModelStore, probeModelStore, type ModelStore, type ModelStoreKind } from '../lib/model-store';

/**
 * How a pipeline worker picks its model store (an optional `store` field next to `PipelineInit`):
 * 'probe' opens each kind and falls back past one that throws; 'page' uses the store the page
 * serves on the named channel (see {@link servePageStore}). Without the field the worker keeps
 * today's choice ({@link createModelStore}).
 */
export type ModelStoreRequest = { kind: 'probe' } | { kind: 'memory' } | { kind: 'page'; channel: string; storeKind: ModelStoreKind };

/** The field the embed widget adds to the pipeline's init message. */
export interface StoreInit {
  store?: ModelStoreRequest;
}

/** Serves `store` to a worker on a BroadcastChannel named `name`; returns a function that stops it. */
export function servePageStore(store: ModelStore, name: string): () => void {
  const channel = new BroadcastChannel(name);
  const api = {
    get: (key: string) => store.get(key),
    put: (key: string, data: Uint8Array) => store.put(key, data),
    delete: (key: string) => store.delete(key),
    keys: (prefix?: string) => store.keys(prefix),
    size: (prefix?: string) => store.size(prefix),
  };
  expose(api, channel);
  return () => channel.close();
}

/** The worker's end of {@link servePageStore}. */
export class PageModelStore implements ModelStore {
  private readonly remote: Remote<Omit<ModelStore, 'kind'>>;
  private readonly channel: BroadcastChannel;

  constructor(
    readonly kind: ModelStoreKind,
    readonly channelName: string,
  ) {
    this.channel = new BroadcastChannel(channelName);
    this.remote = wrap<Omit<ModelStore, 'kind'>>(this.channel);
  }

  /** Closes the channel; the store is unusable afterwards. */
  close(): void {
    this.channel.close();
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.remote.get(key);
  }
  put(key: string, data: Uint8Array): Promise<void> {
    return this.remote.put(key, data);
  }
  delete(key: string): Promise<void> {
    return this.remote.delete(key);
  }
  keys(prefix?: string): Promise<string[]> {
    return this.remote.keys(prefix);
  }
  size(prefix?: string): Promise<number> {
    return this.remote.size(prefix);
  }
}

/**
 * The store a worker switches to on `request`. Pieces already held in memory move to a page store,
 * so a model downloaded before the visitor allowed caching is kept rather than fetched again.
 */
export async function openRequestedStore(request: ModelStoreRequest, current: ModelStore): Promise<ModelStore> {
  if (request.kind === 'memory') return current.kind === 'memory' ? current : new MemoryModelStore();
  if (request.kind === 'probe') return probeModelStore();
  if (current instanceof PageModelStore && current.channelName === request.channel) return current;
  const next = new PageModelStore(request.storeKind, request.channel);
  if (current instanceof MemoryModelStore) {
    for (const [key, bytes] of current.entries) await next.put(key, bytes);
  }
  return next;
}
