/// <reference types="node" />
// The README's screenshot: the app at 1280×800 after generating a model at resolution 128 from a
// synthetic photo (an orange ball drawn in the page), on the committed test model, which meshes a
// sphere in the photo's mean colour.
//   npm run screenshot                          writes docs/screenshot.png and docs/history.png
//   npm run screenshot -- --only history        only the history panel (three small generations)
//   npm run screenshot -- --states /tmp/shots   also the UI's other states, for review (not committed)
// --no-build reuses the last dist-e2e build.
import { mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { addPhoto, generate, makePhoto, openApp, setSlider, waitForPreview, waitForResult } from '../tests/e2e/harness.ts';
import { serveApp, waitForJob, type AppServer } from './lib/serve-app.ts';

const OUT = 'docs/screenshot.png';
const HISTORY_OUT = 'docs/history.png';
const VIEWPORT = { width: 1280, height: 800 };
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const statesDir = arg('states');
const only = arg('only');
const rebuild = !process.argv.includes('--no-build');

/** Draws a shaded orange ball with a highlight on a transparent background, as PNG bytes. */
async function orangeBall(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async () => {
    const size = 640;
    const canvas = new OffscreenCanvas(size, size);
    const ctx = canvas.getContext('2d')!;
    const [cx, cy, r] = [size / 2, size / 2, size * 0.36];
    // Body: lit from the upper left, falling off to a warm core shadow and a faint bounce light.
    const body = ctx.createRadialGradient(cx - r * 0.4, cy - r * 0.45, r * 0.05, cx, cy, r);
    body.addColorStop(0, '#ffd08a');
    body.addColorStop(0.25, '#ffa53a');
    body.addColorStop(0.65, '#ef7b12');
    body.addColorStop(0.9, '#b84f06');
    body.addColorStop(1, '#c8620e');
    ctx.fillStyle = body;
    ctx.beginPath();
    ctx.arc(cx, cy, r, 0, Math.PI * 2);
    ctx.fill();
    // Dimpled peel: faint speckles, clipped to the ball.
    ctx.save();
    ctx.clip();
    // A seeded LCG, inline: tsx wraps named functions in a helper the page does not have.
    const random: number[] = [];
    for (let i = 0, seed = 7; i < 3600; i++) {
      seed = (seed * 16807) % 2147483647;
      random.push(seed / 2147483647);
    }
    for (let i = 0; i < 3600; i += 4) {
      const a = random[i]! * Math.PI * 2;
      const d = Math.sqrt(random[i + 1]!) * r;
      ctx.fillStyle = `rgba(120, 50, 0, ${0.04 + random[i + 2]! * 0.05})`;
      ctx.beginPath();
      ctx.arc(cx + Math.cos(a) * d, cy + Math.sin(a) * d, 1 + random[i + 3]! * 1.5, 0, Math.PI * 2);
      ctx.fill();
    }
    // Specular highlight.
    const [hx, hy] = [cx - r * 0.38, cy - r * 0.42];
    const spec = ctx.createRadialGradient(hx, hy, 0, hx, hy, r * 0.3);
    spec.addColorStop(0, 'rgba(255, 255, 255, 0.85)');
    spec.addColorStop(1, 'rgba(255, 255, 255, 0)');
    ctx.fillStyle = spec;
    ctx.fillRect(0, 0, size, size);
    ctx.restore();
    // Stalk and leaf on top.
    ctx.fillStyle = '#5b3a1a';
    ctx.beginPath();
    ctx.ellipse(cx + 4, cy - r + 6, 9, 14, 0.2, 0, Math.PI * 2);
    ctx.fill();
    const leaf = ctx.createLinearGradient(cx, cy - r - 40, cx + 90, cy - r + 10);
    leaf.addColorStop(0, '#4f9a3a');
    leaf.addColorStop(1, '#2f6b22');
    ctx.fillStyle = leaf;
    ctx.beginPath();
    ctx.moveTo(cx + 8, cy - r + 2);
    ctx.quadraticCurveTo(cx + 40, cy - r - 50, cx + 100, cy - r - 30);
    ctx.quadraticCurveTo(cx + 60, cy - r + 14, cx + 8, cy - r + 2);
    ctx.fill();
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  });
  return Buffer.from(base64, 'base64');
}

/**
 * Back to the top of the page (clicks scroll their target into view), with no hover or focus ring
 * left over from them: the pointer rests on the header.
 */
async function settle(page: Page): Promise<void> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  await page.mouse.move(VIEWPORT.width / 2, 4);
  // Two frames, so the viewer's on-demand render and any transition have reached the screen.
  await page.evaluate(
    () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
  );
}

/** The README's screenshot: photo, controls, progress, the coloured mesh and its stats. */
async function readmeShot(app: AppServer): Promise<void> {
  const { page, browser } = await app.open({ viewport: VIEWPORT });
  await openApp(page);
  await addPhoto(page, await orangeBall(page), 'orange.png');
  await waitForPreview(page);
  await setSlider(page, 'resolution', 128);
  await generate(page);
  const stats = await waitForJob(page);
  await page.getByTestId('stats').waitFor();
  await settle(page);
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: OUT });
  console.log(`Wrote ${OUT} (${stats.vertices} vertices at resolution ${stats.resolution}, ${stats.backend})`);
  await browser.close();
}

/** The history panel after three generations (small ones: the panel is the subject). */
async function historyShot(app: AppServer): Promise<void> {
  const { page, browser } = await app.open({ viewport: VIEWPORT });
  await openApp(page);
  const photos: [string, Buffer][] = [
    ['orange', await orangeBall(page)],
    ['teal pebble', await makePhoto(page, { colour: '#2a9d8f', width: 320, height: 220 })],
    ['plum', await makePhoto(page, { colour: '#7b2d5b', width: 220, height: 320 })],
  ];
  for (const [name, bytes] of photos) {
    await addPhoto(page, bytes, `${name}.png`);
    await waitForPreview(page);
    await setSlider(page, 'resolution', 48);
    await generate(page);
    await waitForResult(page);
  }
  const panel = page.getByTestId('history-panel');
  await page.getByTestId('history-entry').nth(2).waitFor();
  await settle(page);
  mkdirSync('docs', { recursive: true });
  await panel.screenshot({ path: HISTORY_OUT });
  console.log(`Wrote ${HISTORY_OUT}`);
  await browser.close();
}

/** The UI's other states, for a design review: consent, progress, model panel, errors, CPU fallback. */
async function stateShots(app: AppServer, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  // Whole pages: at 1280×800 the progress list and the model panel sit below the fold.
  const shot = async (page: Page, name: string, fullPage = true): Promise<void> => {
    await settle(page);
    await page.screenshot({ path: `${dir}/${name}.png`, fullPage });
    console.log(`Wrote ${dir}/${name}.png`);
  };

  const { page, browser } = await app.open({ viewport: VIEWPORT });
  await openApp(page);
  await addPhoto(page, await orangeBall(page), 'orange.png');
  await waitForPreview(page);
  await setSlider(page, 'resolution', 64);
  await page.getByTestId('generate').click();
  await page.getByTestId('consent').waitFor();
  await shot(page, 'consent', false);

  // Slow model responses keep the download stage on screen long enough to catch its file rows.
  app.network.delayMs = 2500;
  await page.getByTestId('consent-accept').click();
  await page.getByTestId('download-file').first().waitFor({ timeout: 60_000 });
  await shot(page, 'progress-download');
  app.network.delayMs = 0;
  await page.locator('[data-stage=decode][data-state=running]').waitFor({ timeout: 120_000 });
  await shot(page, 'progress-decode');
  await waitForJob(page);

  await page.locator('[data-testid=model-panel] summary').click();
  await shot(page, 'model-panel');
  await page.locator('[data-testid=model-panel] summary').click();

  await addPhoto(page, Buffer.from('not an image, just text with a .png name'), 'broken.png');
  await page.getByTestId('error').waitFor();
  await shot(page, 'error');
  await browser.close();

  const cpu = await app.open({ viewport: VIEWPORT, webgpu: false });
  await openApp(cpu.page);
  await cpu.page.getByTestId('cpu-notice').waitFor();
  await addPhoto(cpu.page, await orangeBall(cpu.page), 'orange.png');
  await waitForPreview(cpu.page);
  await shot(cpu.page, 'cpu-fallback');
  await cpu.browser.close();

  const narrow = await app.open({ viewport: { width: 390, height: 844 } });
  await openApp(narrow.page);
  await addPhoto(narrow.page, await orangeBall(narrow.page), 'orange.png');
  await waitForPreview(narrow.page);
  await shot(narrow.page, 'narrow');
  await narrow.browser.close();
}

const app = await serveApp({ build: rebuild });
try {
  if (!only || only === 'readme') await readmeShot(app);
  if (!only || only === 'history') await historyShot(app);
  if (statesDir) await stateShots(app, statesDir);
} finally {
  await app.close();
}
