import { AppError } from '../lib/errors';
import { buildEntry, findCachedResult, type CacheHit, type CacheQuery, type GenerationRecord } from '../history/record';
import type { StorageReport } from '../history/storage';
import type { HistoryStore } from '../history/store';
import type { HistorySummary, NewEntry, ProcessedInfo } from '../history/types';
import type { PostResult, QualityReport } from '../post/types';
import type { ResultMesh } from '../shared/mesh';
import type { GenerateResult } from '../shared/pipeline';
import { userMessage, type UserMessage } from './messages';

/** What the history asks of the page: show a stored result, save a file. */
export interface HistoryHost {
  /** Shows a stored result in the viewer, with its processed result when it has one. */
  show(result: GenerateResult, name: string, processed: PostResult | null): void;
  /** Offers bytes as a download. */
  download(bytes: Blob, fileName: string): void;
}

/**
 * The history panel's state: every generation kept in IndexedDB (src/history/), listed newest first,
 * and the result cache the photo and text paths consult before running. Where the browser keeps
 * nothing (private windows), `available` is false and the app generates as before.
 */
export class HistoryState {
  entries = $state.raw<HistorySummary[]>([]);
  skipped = $state.raw<{ id: string; reason: string }[]>([]);
  available = $state(true);
  storage = $state.raw<StorageReport | null>(null);
  /** The entry shown in the viewer, when it came from (or went to) the history. */
  currentId = $state<string | null>(null);
  busy = $state(false);
  /** The last save hit the storage quota: the panel offers to delete the oldest entries. */
  quotaMessage = $state<string | null>(null);
  /** The outcome of the last export, import or failed action, for the panel. */
  message = $state<UserMessage | null>(null);
  private store: Promise<HistoryStore | null> | null = null;
  /** A save refused for lack of space, retried once the visitor has freed some. */
  private pending: NewEntry | null = null;
  /** The entry of the result in the viewer, once its save has settled. */
  private shown: Promise<string | null> = Promise.resolve(null);

  constructor(private readonly host: HistoryHost) {}

  /** Opens the database (lazily: the IndexedDB code loads with the first use) and lists it. */
  start(): Promise<HistoryStore | null> {
    this.store ??= (async () => {
      try {
        const { HistoryStore } = await import('../history/store');
        const store = await HistoryStore.open();
        await this.refresh(store);
        return store;
      } catch (error) {
        console.warn('No history in this browser window:', error);
        this.available = false;
        return null;
      }
    })();
    return this.store;
  }

  private async refresh(store: HistoryStore): Promise<void> {
    const listing = await store.list();
    this.entries = listing.entries;
    this.skipped = listing.skipped;
    this.storage = await store.storageReport().catch(() => null);
  }

  /**
   * The result now in the viewer is `entry` (an id, or a save still running): processing it is
   * kept with that entry, and the panel marks it.
   */
  setShown(entry: Promise<string | null>): void {
    this.shown = entry;
    this.currentId = null;
    void entry.then((id) => {
      if (this.shown === entry) this.currentId = id;
    });
  }

  /**
   * The triplane kept with the entry now shown, and the threshold it was meshed at (a texture bake
   * needs both); null when nothing is shown, the history is unavailable or the entry has none.
   */
  async shownTriplane(): Promise<{ triplane: Float32Array; threshold: number } | null> {
    // Opening an entry shows it first and names it after, so wait until the entry shown settles.
    let shown: Promise<string | null>;
    let id: string | null;
    do {
      shown = this.shown;
      id = await shown;
    } while (shown !== this.shown);
    const store = id ? await this.start() : null;
    const entry = id && store ? await store.get(id) : undefined;
    if (!entry?.triplane) return null;
    return { triplane: new Float32Array(await entry.triplane.arrayBuffer()), threshold: entry.params.threshold };
  }

  /** The stored result for the same model input, settings and model, and the key to save under. */
  async lookup(query: CacheQuery): Promise<{ key: string; hit: CacheHit | null } | null> {
    const store = await this.start();
    if (!store) return null;
    try {
      return await findCachedResult(store, query);
    } catch (error) {
      console.warn('Result cache unavailable:', error);
      return null;
    }
  }

  /**
   * Keeps a finished generation. Never throws: a full disk keeps the entry pending and says so (the
   * panel offers to delete the oldest entries), anything else becomes the panel's message.
   */
  async save(record: GenerationRecord): Promise<string | null> {
    const store = await this.start();
    if (!store) return null;
    try {
      return await this.add(store, await buildEntry(record));
    } catch (error) {
      this.message = userMessage(error);
      return null;
    }
  }

  private async add(store: HistoryStore, entry: NewEntry): Promise<string | null> {
    try {
      const saved = await store.add(entry);
      this.pending = null;
      this.quotaMessage = null;
      await this.refresh(store);
      // Asked once the history is worth keeping (see shouldAskPersistence), not on the first visit.
      await store.requestPersistence().catch(() => null);
      return saved.id;
    } catch (error) {
      if (error instanceof AppError && error.code === 'storage-full') {
        this.pending = entry;
        this.quotaMessage = `${error.message} “${entry.name}” is waiting to be saved.`;
        return null;
      }
      throw error;
    }
  }

  /** Deletes the `count` oldest entries, then saves the entry that was waiting for space. */
  async deleteOldest(count: number): Promise<void> {
    await this.act(async (store) => {
      await store.deleteOldest(count);
      await this.refresh(store);
      if (this.pending) await this.add(store, this.pending);
    });
  }

  /** Shows an entry in the viewer. */
  async open(id: string): Promise<void> {
    await this.act(async (store) => {
      const entry = await store.get(id);
      if (!entry) throw new AppError('history-corrupt', 'That history entry is gone (deleted in another tab?).');
      const { readGlbMesh } = await import('../history/glb-mesh');
      const mesh = await readGlbMesh(new Uint8Array(await entry.mesh.arrayBuffer()));
      const processed = entry.processed && entry.processedMesh ? { ...entry.processed, steps: entry.processed.steps ?? [], mesh: await readGlbMesh(new Uint8Array(await entry.processedMesh.arrayBuffer())) } : null;
      this.host.show({ mesh, stats: entry.stats }, entry.name, processed);
      this.setShown(Promise.resolve(id));
    });
  }

  /** Renames an entry. */
  async rename(id: string, name: string): Promise<void> {
    await this.act(async (store) => {
      await store.rename(id, name);
      await this.refresh(store);
    });
  }

  /** Deletes an entry. */
  async remove(id: string): Promise<void> {
    await this.act(async (store) => {
      await store.delete(id);
      if (this.currentId === id) this.setShown(Promise.resolve(null));
      await this.refresh(store);
    });
  }

  /** Downloads an entry's mesh again (the processed one when there is one), as GLB. */
  async download(id: string): Promise<void> {
    await this.act(async (store) => {
      const entry = await store.get(id);
      if (!entry) return;
      this.host.download(entry.processedMesh ?? entry.mesh, `${entry.name}.glb`);
    });
  }

  /** The whole history as one zip. */
  async exportAll(): Promise<void> {
    await this.act(async (store) => {
      const { exportHistory } = await import('../history/archive');
      const { zip, entries } = await exportHistory(store);
      this.host.download(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), `cadlift-history-${new Date().toISOString().slice(0, 10)}.zip`);
      this.message = { code: 'history-exported', message: `Exported ${entries} ${entries === 1 ? 'entry' : 'entries'}.` };
    });
  }

  /** Adds the entries of a history zip (those not already here). */
  async importFile(file: File): Promise<void> {
    await this.act(async (store) => {
      const { importHistory } = await import('../history/archive');
      const { added, existing } = await importHistory(store, new Uint8Array(await file.arrayBuffer()));
      await this.refresh(store);
      const already = existing.length ? ` (${existing.length} already here)` : '';
      this.message = { code: 'history-imported', message: `Imported ${added.length} ${added.length === 1 ? 'entry' : 'entries'}${already}.` };
    });
  }

  /** Keeps the quality report of the generated mesh with the entry in the viewer (once, when it has none). */
  async keepQuality(report: QualityReport): Promise<void> {
    const id = await this.shown;
    if (!id || this.entries.find((e) => e.id === id)?.quality) return;
    const store = await this.start();
    if (!store) return;
    try {
      await store.setQuality(id, report);
      await this.refresh(store);
    } catch (error) {
      // The entry is kept without its report; nothing the visitor has to act on.
      console.warn('Quality report not kept:', error);
    }
  }

  /** Keeps the processing applied to the entry in the viewer (settings, report and mesh). */
  async keepProcessed(result: PostResult | null): Promise<void> {
    const id = await this.shown;
    if (!id) return;
    await this.act(async (store) => {
      let processed: (ProcessedInfo & { mesh: Blob }) | null = null;
      if (result) {
        const { meshToGlb } = await import('../lib/export-glb');
        const glb = await meshToGlb(result.mesh as ResultMesh, { name: 'processed' });
        processed = { settings: result.settings, report: result.report, steps: result.steps, mesh: new Blob([glb as Uint8Array<ArrayBuffer>], { type: 'model/gltf-binary' }) };
        // A texture bake after a reload maps the processed mesh back to the generated one with it.
        if (result.toSource) processed.toSource = result.toSource;
      }
      await store.setProcessed(id, processed);
      await this.refresh(store);
    });
  }

  private async act(action: (store: HistoryStore) => Promise<void>): Promise<void> {
    const store = await this.start();
    if (!store) return;
    this.busy = true;
    this.message = null;
    try {
      await action(store);
    } catch (error) {
      this.message = userMessage(error);
    } finally {
      this.busy = false;
    }
  }
}
