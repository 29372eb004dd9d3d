import { readFileSync } from 'node:fs';
import { E2E_PORT } from '../../scripts/chromium.ts';
import { gltfValidator } from '../helpers/gltf-validator';
import { NodeIO } from '@gltf-transform/core';
import { EMBED_HOST_ORIGIN, SAME_SITE_HOST_ORIGIN, received, recordMessages, startHostServer, type HostServer, type Received } from './embed-host';
import { expect, makePhoto, test as base } from './harness';
import { seriousViolations } from './axe';

/** Two loopback page servers: the allowed host (EMBED_HOST_ORIGIN) and one on an origin the build does not allow. */
const test = base.extend<{ hosts: { allowed: HostServer; other: HostServer } }>({
  hosts: async ({ page }, use) => {
    const allowed = await startHostServer(Number(new URL(EMBED_HOST_ORIGIN).port));
    const other = await startHostServer();
    await recordMessages(page, allowed.origin);
    await recordMessages(page, other.origin);
    await use({ allowed, other });
    await Promise.all([allowed.close(), other.close()]);
  },
});

/** The widget on the app's origin; the host pages are on another site (localhost). */
const WIDGET_ORIGIN = `http://127.0.0.1:${E2E_PORT}`;
const WIDGET = `${WIDGET_ORIGIN}/embed.html`;
/** The example host page on `origin`, showing the widget with its API alone, asking for 32³ meshes. */
const hostPage = (origin: string): string => `${origin}/embed-host.html?widget=${encodeURIComponent(`${WIDGET}?ui=minimal`)}&resolution=32`;
/** The example loads <model-viewer> from a CDN; tests have no internet, so a stand-in element keeps its src. */
const MODEL_VIEWER = 'https://ajax.googleapis.com/ajax/libs/model-viewer/**';
const MODEL_VIEWER_STAND_IN = "customElements.define('model-viewer', class extends HTMLElement {});";

/** Makes every storage API throw, as Chromium does in a cross-site frame, whatever the browser's own policy. */
function blockStorage(): void {
  const denied = (): never => {
    throw new DOMException('Storage is blocked here (test).', 'SecurityError');
  };
  const rejectDenied = (): Promise<never> => Promise.reject(new DOMException('Storage is blocked here (test).', 'SecurityError'));
  Object.defineProperty(window, 'localStorage', { get: denied, configurable: true });
  Object.defineProperty(window, 'sessionStorage', { get: denied, configurable: true });
  if (globalThis.caches) for (const name of ['open', 'has', 'keys', 'match', 'delete'] as const) Object.defineProperty(caches, name, { value: rejectDenied });
  if (globalThis.indexedDB) Object.defineProperty(indexedDB, 'open', { value: denied });
  if (navigator.storage) Object.defineProperty(navigator.storage, 'getDirectory', { value: rejectDenied });
}

/** Posts a raw API message from the host page to the widget frame. */
async function post(page: import('@playwright/test').Page, message: Record<string, unknown>, image?: number[] | { bytes: number }): Promise<void> {
  await page.evaluate(
    ({ message, image, widget }) => {
      const frame = document.getElementById('cadlift') as HTMLIFrameElement;
      const bytes = Array.isArray(image) ? new Uint8Array(image).buffer : image ? new ArrayBuffer(image.bytes) : undefined;
      frame.contentWindow!.postMessage({ source: 'cadlift', version: 1, ...message, ...(bytes && { image: bytes }) }, widget);
    },
    { message, image, widget: WIDGET_ORIGIN },
  );
}

const ofJob = (messages: Received[], id: string) => messages.filter((m) => m.data.id === id);

test('a host on another site sends a photo and gets progress and a valid GLB; cancel stops a running job; storage that throws is no obstacle', async ({ page, context, network, hosts }) => {
  await context.addInitScript(blockStorage);
  await page.route(MODEL_VIEWER, (route) => route.fulfill({ contentType: 'text/javascript', body: MODEL_VIEWER_STAND_IN }));
  await page.goto(hostPage(hosts.allowed.origin));
  const widget = page.frameLocator('#cadlift');

  // ready: to the host at once (ancestorOrigins names it), with the download size and no storage.
  await expect.poll(async () => (await received(page)).find((m) => m.data.type === 'ready')?.data, { timeout: 60_000 }).toMatchObject({
    source: 'cadlift',
    version: 1,
    capabilities: { webgpu: true, storage: false },
  });
  const ready = (await received(page)).find((m) => m.data.type === 'ready')!;
  expect(ready.origin).toBe(WIDGET_ORIGIN);
  expect((ready.data['model'] as { downloadBytes: number }).downloadBytes).toBeGreaterThan(0);
  await expect(widget.getByTestId('embed-memory-note')).toContainText('downloads again');
  await expect(widget.getByTestId('embed-open-app')).toHaveAttribute('href', `${WIDGET_ORIGIN}/`);
  const frame = page.frame({ url: /embed\.html/ })!;
  expect(await frame.evaluate(() => caches.open('x').then(() => 'opened', (e: Error) => e.name))).toBe('SecurityError');
  // The host learns the widget's height.
  await expect.poll(async () => (await received(page)).some((m) => m.data.type === 'resize' && Number(m.data['height']) > 0)).toBe(true);

  const photo = await makePhoto(page, { colour: '#e8d070' });
  // Job A, slowed in its download, is cancelled there; job B (the example's own button) waits behind it.
  network.delayMs = 400;
  await post(page, { type: 'generate', id: 'A', options: { resolution: 32 } }, [...photo]);
  await page.locator('#photo').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer: photo });
  await page.locator('#generate').click();
  await expect.poll(async () => ofJob(await received(page), 'A').some((m) => m.data.type === 'progress' && m.data.stage === 'download'), { timeout: 60_000 }).toBe(true);
  await post(page, { type: 'cancel', id: 'A' });
  await expect.poll(async () => ofJob(await received(page), 'A').find((m) => m.data.type === 'error')?.data.code).toBe('cancelled');
  network.delayMs = 0;

  await expect.poll(async () => ofJob(await received(page), 'job-1').find((m) => m.data.type === 'result' || m.data.type === 'error')?.data.type, { timeout: 220_000 }).toBe('result');
  const messages = await received(page);
  const a = ofJob(messages, 'A');
  expect(a.filter((m) => m.data.type === 'result')).toEqual([]);
  // Nothing of A after its cancellation.
  expect(a.at(-1)!.data.type).toBe('error');
  const b = ofJob(messages, 'job-1');
  const stages = b.filter((m) => m.data.type === 'progress').map((m) => m.data.stage);
  expect(new Set(stages)).toEqual(new Set(['prepare', 'download', 'encoder', 'decode', 'mesh']));
  // B started only after A ended: its first message comes after A's error.
  expect(messages.indexOf(b[0]!)).toBeGreaterThan(messages.indexOf(a.at(-1)!));
  for (const m of b.filter((m) => m.data.type === 'progress')) {
    expect(m.data.fraction).toBeGreaterThanOrEqual(0);
    expect(m.data.fraction).toBeLessThanOrEqual(1);
  }
  const stats = b.at(-1)!.data['stats'] as { vertices: number; triangles: number; ms: number };
  expect(stats.triangles).toBeGreaterThan(10);
  expect(stats.ms).toBeGreaterThan(0);

  // The example put the GLB into its viewer; it passes the Khronos validator and matches the stats.
  const base64 = await page.evaluate(async () => {
    const bytes = new Uint8Array(await (await fetch((document.getElementById('viewer') as HTMLElement & { src: string }).src)).arrayBuffer());
    let s = '';
    for (const byte of bytes) s += String.fromCharCode(byte);
    return btoa(s);
  });
  const glb = new Uint8Array(Buffer.from(base64, 'base64'));
  const report = await gltfValidator.validateBytes(glb);
  expect(report.issues.numErrors).toBe(0);
  const doc = await new NodeIO().readBinary(glb);
  const primitive = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
  expect(primitive.getAttribute('POSITION')!.getCount()).toBe(stats.vertices);
  expect(primitive.getIndices()!.getCount() / 3).toBe(stats.triangles);
  // The widget shows the same result, with its own download.
  await expect(widget.getByTestId('embed-viewer')).toHaveAttribute('data-vertices', String(stats.vertices));
  await expect(widget.getByTestId('embed-download')).toBeVisible();
});

test('bad messages get an error with a stable code; a page on another origin gets no answer and cannot frame the widget', async ({ page, hosts }) => {
  await page.route(MODEL_VIEWER, (route) => route.fulfill({ contentType: 'text/javascript', body: MODEL_VIEWER_STAND_IN }));
  // A page on a non-allowed origin, framed by the host page next to the widget, posts to the widget.
  const intruder = `<!doctype html><script>
    const widget = parent.frames[0];
    widget.postMessage({ source: 'cadlift', version: 1, type: 'cancel', id: 'ghost' }, '*');
    widget.postMessage({ source: 'cadlift', version: 1, type: 'generate', id: 'intruder', image: new ArrayBuffer(8) }, '*');
    widget.postMessage({ source: 'cadlift', version: 1, type: 'generate', id: 'intruder-2', image: 'data:image/png;base64,AAAA', colour: 'red' }, '*');
  </script>`;
  hosts.other.pages.set('/intruder.html', intruder);
  await page.goto(hostPage(hosts.allowed.origin));
  await expect.poll(async () => (await received(page)).some((m) => m.data.type === 'ready'), { timeout: 60_000 }).toBe(true);

  const codeOf = async (id: string): Promise<string | undefined> => ofJob(await received(page), id).find((m) => m.data.type === 'error')?.data.code;
  await post(page, { type: 'generate', id: 'corrupt' }, [...readFileSync('package.json').subarray(0, 256)]);
  await post(page, { type: 'generate', id: 'huge' }, { bytes: 21 * 1024 * 1024 });
  await post(page, { type: 'generate', id: 'extra', colour: 'red' }, [1, 2, 3]);
  await post(page, { type: 'resize', id: 'wrong-way' });
  // An opaque photo with removal forced on: the removal model needs storage, which this frame lacks.
  const opaque = await makePhoto(page, { colour: '#3050a0', background: '#ffffff' });
  await post(page, { type: 'generate', id: 'cut-out', options: { removeBackground: 'on' } }, [...opaque]);
  await expect.poll(() => codeOf('corrupt'), { timeout: 60_000 }).toBe('image-unreadable');
  await expect.poll(() => codeOf('huge')).toBe('image-too-large');
  await expect.poll(() => codeOf('extra')).toBe('invalid-message');
  await expect.poll(() => codeOf('wrong-way')).toBe('invalid-message');
  await expect.poll(() => codeOf('cut-out')).toBe('background-removal-unavailable');

  await page.evaluate((src) => {
    const frame = document.createElement('iframe');
    frame.src = src;
    document.body.append(frame);
  }, `${hosts.other.origin}/intruder.html`);
  const intruderFrame = await expect.poll(() => page.frame({ url: /intruder\.html/ }) !== null).toBe(true).then(() => page.frame({ url: /intruder\.html/ })!);
  await intruderFrame.waitForLoadState();
  // The same cancel from the allowed host is answered, so silence below is the origin check.
  await post(page, { type: 'cancel', id: 'ghost' });
  await expect.poll(() => codeOf('ghost')).toBe('unknown-job');
  await page.waitForTimeout(2_000);
  expect(await intruderFrame.evaluate(() => (window as unknown as { received: unknown[] }).received)).toEqual([]);
  const all = await received(page);
  expect(ofJob(all, 'ghost')).toHaveLength(1);
  expect(ofJob(all, 'intruder')).toEqual([]);
  expect(ofJob(all, 'intruder-2')).toEqual([]);

  // frame-ancestors: a page on a non-allowed origin cannot even show the widget.
  await page.goto(hostPage(hosts.other.origin));
  await page.waitForTimeout(3_000);
  await expect(page.frameLocator('#cadlift').getByTestId('embed')).toHaveCount(0);
  expect((await received(page)).filter((m) => m.data.source === 'cadlift')).toEqual([]);

  // The widget's own screen, opened on its site (storage works there): accessible, with its download size.
  await page.goto(WIDGET);
  await expect(page.getByTestId('embed-generate')).toContainText('downloads');
  await expect(page.getByTestId('embed-memory-note')).toHaveCount(0);
  expect(await seriousViolations(page)).toEqual([]);
});

test('on its own site the widget keeps the model: the next visit says it is cached and downloads nothing', async ({ page, network }) => {
  const host = await startHostServer(Number(new URL(SAME_SITE_HOST_ORIGIN).port), '127.0.0.1');
  try {
    await recordMessages(page, host.origin);
    await page.route(MODEL_VIEWER, (route) => route.fulfill({ contentType: 'text/javascript', body: MODEL_VIEWER_STAND_IN }));
    const readyOf = async () => (await received(page)).find((m) => m.data.type === 'ready')?.data;
    const resultOf = async (id: string) => ofJob(await received(page), id).find((m) => m.data.type === 'result' || m.data.type === 'error')?.data;
    await page.goto(hostPage(host.origin));
    await expect.poll(readyOf, { timeout: 60_000 }).toMatchObject({ capabilities: { storage: true }, model: { cached: false } });
    const photo = await makePhoto(page, { colour: '#50a070' });
    await post(page, { type: 'generate', id: 'first', options: { resolution: 32 } }, [...photo]);
    await expect.poll(() => resultOf('first'), { timeout: 200_000 }).toMatchObject({ type: 'result' });

    network.modelRequests.length = 0;
    await page.reload();
    await expect.poll(readyOf, { timeout: 60_000 }).toMatchObject({ capabilities: { storage: true }, model: { cached: true, downloadBytes: 0 } });
    await post(page, { type: 'generate', id: 'second', options: { resolution: 32 } }, [...photo]);
    await expect.poll(() => resultOf('second'), { timeout: 200_000 }).toMatchObject({ type: 'result' });
    expect(network.modelRequests).toEqual([]);
  } finally {
    await host.close();
  }
});
