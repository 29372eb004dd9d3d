// The history and batch components mounted in real Chromium, with axe-core. Needs a vitest project
// with the Svelte plugin in browser mode (the 'gpu' project has none): see the wiring notes of
// wip/history; until then run it with a config like the one there.
import { describe, expect, it } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import axe from 'axe-core';
import '../../src/app.css';
import HistoryPanel from '../../src/components/HistoryPanel.svelte';
import BatchQueue from '../../src/components/BatchQueue.svelte';
import type { HistorySummary } from '../../src/history/types';
import type { Job } from '../../src/batch/queue';

async function thumb(colour: string): Promise<Blob> {
  const c = new OffscreenCanvas(32, 32); const g = c.getContext('2d')!; g.fillStyle = colour; g.fillRect(0, 0, 32, 32);
  return c.convertToBlob();
}

describe('components', () => {
  it('HistoryPanel renders, filters, renames, deletes, and has no serious axe violations', async () => {
    const calls: string[] = [];
    const entries: HistorySummary[] = await Promise.all(['Mug', 'Teapot', 'Chair'].map(async (name, i) => ({
      id: `e${i}`, name, createdAt: Date.UTC(2026, 0, i + 1), kind: i === 1 ? 'text' : 'photo', prompt: i === 1 ? 'a teapot' : undefined,
      params: { resolution: 128, threshold: 25, meshing: 'coarse-to-fine', foregroundRatio: 0.85, removeBackground: 'auto' },
      model: { id: 'm', revision: 'r' }, stats: { triangles: 12345 } as never, thumbnail: await thumb(['red', 'green', 'blue'][i]!), sizes: {},
    }) as HistorySummary));
    const target = document.createElement('div'); document.body.append(target);
    const c = mount(HistoryPanel, { target, props: {
      entries, skipped: [{ id: 'x', reason: 'no sizes' }], storage: { history: 5_000_000, usage: 9e7, quota: 2e9, persisted: false }, currentId: 'e0',
      quotaMessage: "The browser's storage is full, so this model was not saved.",
      onopen: (id: string) => calls.push(`open ${id}`), onrename: (id: string, n: string) => calls.push(`rename ${id} ${n}`), ondelete: (id: string) => calls.push(`delete ${id}`),
      ondownload: (id: string) => calls.push(`download ${id}`), onexport: () => calls.push('export'), onimport: (f: File) => calls.push(`import ${f.name}`), ondeleteoldest: (n: number) => calls.push(`oldest ${n}`),
    } });
    flushSync();
    expect(target.querySelectorAll('[data-testid=history-entry]').length).toBe(3);
    expect(target.querySelector('[data-testid=history-usage]')?.textContent).toContain('History: 5.0 MB');
    expect(target.querySelector('[data-testid=history-skipped]')?.textContent).toContain('One history entry');
    const search = target.querySelector('[data-testid=history-search]') as HTMLInputElement;
    search.value = 'tea'; search.dispatchEvent(new Event('input')); flushSync();
    expect(target.querySelectorAll('[data-testid=history-entry]').length).toBe(1);
    (target.querySelector('[aria-label="Rename Teapot"]') as HTMLButtonElement).click(); flushSync();
    const input = target.querySelector('input[aria-label="New name for Teapot"]') as HTMLInputElement;
    input.value = 'Kettle'; input.dispatchEvent(new Event('input')); flushSync();
    (input.form!.querySelector('button[type=submit]') as HTMLButtonElement).click(); flushSync();
    (target.querySelector('[data-testid=history-delete]') as HTMLButtonElement).click(); flushSync();
    (target.querySelector('[data-testid=history-confirm-delete]') as HTMLButtonElement).click(); flushSync();
    (target.querySelector('[data-testid=history-delete-oldest]') as HTMLButtonElement).click();
    (target.querySelector('[data-testid=history-open]') as HTMLButtonElement).click();
    expect(calls).toEqual(['rename e1 Kettle', 'delete e1', 'oldest 3', 'open e1']);
    const imgs = [...target.querySelectorAll('img')];
    expect(imgs.every((i) => i.src.startsWith('blob:'))).toBe(true);
    search.value = ''; search.dispatchEvent(new Event('input')); flushSync();
    const result = await axe.run(target);
    const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
    expect(serious).toEqual([]);
    console.log('history minor:', result.violations.map((v) => `${v.id}(${v.impact})`));
    unmount(c);
  });

  it('BatchQueue renders jobs and buttons', async () => {
    const calls: string[] = [];
    const job = (id: number, state: Job<unknown, unknown>['state'], extra = {}): Job<unknown, unknown> => ({ id, lane: 'photo', name: `photo-${id}.jpg`, input: null, state, progress: 0.4, label: state === 'running' ? 'Decoding' : null, error: state === 'failed' ? { code: 'image-unreadable', message: 'Cannot read.' } : null, result: state === 'done' ? 1 : null, attempts: 1, ...extra });
    const target = document.createElement('div'); document.body.append(target);
    const c = mount(BatchQueue, { target, props: { jobs: [job(1, 'done'), job(2, 'running'), job(3, 'failed'), job(4, 'queued')], format: 'STL',
      oncancel: (id: number) => calls.push(`cancel ${id}`), onretry: (id: number) => calls.push(`retry ${id}`), onopen: (id: number) => calls.push(`open ${id}`),
      oncancelall: () => calls.push('cancelall'), onclear: () => calls.push('clear'), ondownloadall: () => calls.push('all') } });
    flushSync();
    expect(target.querySelector('[data-testid=batch-summary]')?.textContent).toBe('1 of 4 done, 2 to go');
    expect(target.querySelector('[data-testid=batch-download-all]')?.textContent?.trim()).toBe('Download all (1 × STL)');
    (target.querySelector('[aria-label="Cancel photo-2.jpg"]') as HTMLButtonElement).click();
    (target.querySelector('[data-testid=batch-retry]') as HTMLButtonElement).click();
    (target.querySelector('[data-testid=batch-download-all]') as HTMLButtonElement).click();
    expect(calls).toEqual(['cancel 2', 'retry 3', 'all']);
    const result = await axe.run(target);
    expect(result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.html + ' ' + n.failureSummary).join(' | ')}`)).toEqual([]);
    console.log('batch minor:', result.violations.map((v) => `${v.id}(${v.impact})`));
    unmount(c);
  });
});
