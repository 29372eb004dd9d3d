import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { readGlb } from './glb';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';

test('history: kept across a reload, the same photo and settings load at once and say so, rename, search, delete, export and import into another browser', async ({ page, browser, network }) => {
  await openApp(page);
  const photo = await makePhoto(page, { colour: '#30a060' });
  await addPhoto(page, photo, 'green-pebble.png');
  await setSlider(page, 'resolution', 32);
  await generate(page);
  const first = await waitForResult(page);
  const entries = page.getByTestId('history-entry');
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText('green-pebble');
  // The quality report (Prepare's score) is kept with the entry once it is computed.
  await expect(entries.first()).toContainText(/quality \d+\.\d/);
  await expect(page.getByTestId('history-usage')).toContainText(/History: \d/);

  await page.reload();
  await expect(entries).toHaveCount(1);
  // The same photo and settings: the kept mesh comes back at once, no pipeline run, and the app says so.
  await addPhoto(page, photo, 'green-pebble.png');
  await setSlider(page, 'resolution', 32);
  const runs = network.modelRequests.length;
  await generate(page, { accept: false });
  await expect(page.getByTestId('notice')).toContainText('Loaded from your history');
  const again = await waitForResult(page);
  expect(again).toEqual(first);
  expect(network.modelRequests.length).toBe(runs);
  await expect(entries).toHaveCount(1);
  // Another resolution is another result: generated, and kept as a second entry.
  await setSlider(page, 'resolution', 40);
  await generate(page, { accept: false });
  const finer = await waitForResult(page);
  await expect(page.getByTestId('notice')).toHaveCount(0);
  expect(finer.triangles).toBeGreaterThan(first.triangles);
  await expect(entries).toHaveCount(2);

  // Rename the older one, find it by its new name, open it in the viewer.
  await page.getByRole('button', { name: 'Rename green-pebble' }).last().click();
  await page.getByRole('textbox', { name: 'New name for green-pebble' }).fill('coarse pebble');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('history-search').fill('coarse');
  await expect(entries).toHaveCount(1);
  await entries.first().getByTestId('history-open').click();
  await expect(page.getByTestId('stat-triangles')).toHaveText(first.triangles.toLocaleString('en-US'));
  await page.getByTestId('history-search').fill('');

  // Export everything as one zip; a fresh browser profile imports it.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('history-export').click()]);
  const zip = readFileSync(await download.path());
  const files = unzipSync(new Uint8Array(zip));
  // Each entry keeps its photo, thumbnail, mesh and the 2 MB triplane ([1, 3, 40, 64, 64] floats).
  const triplanes = Object.entries(files).filter(([path]) => path.endsWith('/triplane.bin'));
  expect(triplanes).toHaveLength(2);
  for (const [, bytes] of triplanes) expect(bytes.length).toBe(3 * 40 * 64 * 64 * 4);
  expect(Object.keys(files).filter((path) => path.endsWith('/mesh.glb'))).toHaveLength(2);
  const other = await browser.newContext({ serviceWorkers: 'block' });
  await network.route(other);
  const otherPage = await other.newPage();
  await otherPage.goto(page.url());
  await expect(otherPage.getByTestId('history-panel')).toBeVisible();
  await otherPage.getByTestId('history-import').setInputFiles({ name: 'history.zip', mimeType: 'application/zip', buffer: zip });
  await expect(otherPage.getByTestId('history-message')).toContainText('Imported 2 entries');
  await expect(otherPage.getByTestId('history-entry')).toHaveCount(2);
  await expect(otherPage.getByTestId('history-entry').filter({ hasText: 'coarse pebble' })).toHaveCount(1);
  await other.close();

  // Delete asks first, then the entry is gone for good (also after a reload).
  await entries.filter({ hasText: 'coarse pebble' }).getByTestId('history-delete').click();
  await page.getByTestId('history-confirm-delete').click();
  await expect(entries).toHaveCount(1);
  await page.reload();
  await expect(entries).toHaveCount(1);
});

test('batch: three photos, one unreadable, queue up; the bad one fails alone, Download all zips the meshes in the chosen format, and they land in the history', async ({ page }) => {
  await openApp(page);
  await setSlider(page, 'resolution', 32);
  const files = [
    { name: 'red.png', mimeType: 'image/png', buffer: await makePhoto(page, { colour: '#c03030' }) },
    { name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('this is not a PNG') },
    { name: 'blue.png', mimeType: 'image/png', buffer: await makePhoto(page, { colour: '#3050c0', width: 200, height: 300 }) },
  ];
  await page.getByTestId('file-input').setInputFiles(files);
  await page.getByTestId('consent-accept').click();
  const jobs = page.getByTestId('batch-job');
  await expect(jobs).toHaveCount(3);
  await expect(jobs.filter({ hasText: 'broken' })).toHaveAttribute('data-state', 'failed', { timeout: 200_000 });
  await expect(jobs.filter({ hasText: 'red' })).toHaveAttribute('data-state', 'done', { timeout: 200_000 });
  await expect(jobs.filter({ hasText: 'blue' })).toHaveAttribute('data-state', 'done', { timeout: 200_000 });
  await expect(jobs.filter({ hasText: 'broken' }).locator('[data-code]')).toHaveAttribute('data-code', /image-/);
  await expect(page.getByTestId('batch-summary')).toHaveText('2 of 3 done');
  await expect(page.getByTestId('history-entry')).toHaveCount(2);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('batch-download-all').click()]);
  const zip = unzipSync(new Uint8Array(readFileSync(await download.path())));
  expect(Object.keys(zip).sort()).toEqual(['blue.stl', 'red.stl']);
  // Binary STL: 80-byte header, triangle count, 50 bytes per triangle.
  for (const bytes of Object.values(zip)) expect(bytes.length).toBe(84 + 50 * new DataView(bytes.buffer, bytes.byteOffset).getUint32(80, true));

  // A job's View shows it; one history entry downloads again as a valid GLB.
  await page.getByRole('button', { name: 'View blue' }).click();
  await expect(page.getByTestId('viewer')).not.toHaveAttribute('data-vertices', '0');
  const [glb] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download red' }).click()]);
  expect((await readGlb(glb)).errors).toBe(0);
});

test('a full disk: the save says so and waits; deleting the oldest entry makes room and saves it, losing nothing else', async ({ page }) => {
  // The history's writes fail with the browser's quota error while __quotaFull is set.
  await page.addInitScript(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if ((globalThis as { __quotaFull?: boolean }).__quotaFull && this.transaction.db.name === 'cadlift-history') {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
      return put.apply(this, args);
    };
  });
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#c08020' }), 'first.png');
  await setSlider(page, 'resolution', 32);
  await generate(page);
  await waitForResult(page);
  const entries = page.getByTestId('history-entry');
  await expect(entries).toHaveCount(1);

  await page.evaluate(() => ((globalThis as { __quotaFull?: boolean }).__quotaFull = true));
  await addPhoto(page, await makePhoto(page, { colour: '#2080c0' }), 'second.png');
  await setSlider(page, 'resolution', 32);
  await generate(page, { accept: false });
  await waitForResult(page);
  await expect(page.getByTestId('history-quota')).toContainText('“second” is waiting to be saved');
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText('first');

  await page.evaluate(() => ((globalThis as { __quotaFull?: boolean }).__quotaFull = false));
  await page.getByTestId('history-quota').getByRole('spinbutton').fill('1');
  await page.getByTestId('history-delete-oldest').click();
  await expect(page.getByTestId('history-quota')).toHaveCount(0);
  await expect(entries).toHaveCount(1);
  await expect(entries.first()).toContainText('second');
  await page.reload();
  await expect(entries.first()).toContainText('second');
});

test('a browser window that cannot keep a history (no IndexedDB) still generates, and says nothing is kept', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(globalThis, 'indexedDB', { get: () => undefined, configurable: true });
  });
  await openApp(page);
  await expect(page.getByTestId('history-unavailable')).toBeVisible();
  await addPhoto(page, await makePhoto(page, { colour: '#a040a0' }));
  await setSlider(page, 'resolution', 32);
  await generate(page);
  expect((await waitForResult(page)).triangles).toBeGreaterThan(100);
  await expect(page.getByTestId('error')).toHaveCount(0);
});
