/// <reference types="node" />
// The installable app's icons, rendered from the logo (public/favicon.svg) by Chromium, so they are
// generated rather than drawn and change only with the logo:
//   npx tsx scripts/make-icons.ts      writes public/icons/*.png (committed)
// "any" icons carry the logo edge to edge on a transparent background; the maskable one keeps it
// inside the 80 % safe zone on the brand colour, since launchers crop it to their own shape.
import { readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH, chromiumArgs } from './chromium.ts';

/** Every icon the web app manifest and the page list: file, pixel size, and how it is laid out. */
export const ICONS = [
  { file: 'icon-192.png', size: 192, maskable: false },
  { file: 'icon-512.png', size: 512, maskable: false },
  { file: 'icon-maskable-512.png', size: 512, maskable: true },
  { file: 'apple-touch-icon-180.png', size: 180, maskable: true },
] as const;

/** The brand blue of the logo, also the manifest's theme colour. */
export const BRAND = '#2f6fed';

const logo = readFileSync(new URL('../public/favicon.svg', import.meta.url), 'utf8');

async function main(): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: chromiumArgs({ webgpu: false }) });
  try {
    for (const icon of ICONS) {
      const page = await browser.newPage({ viewport: { width: icon.size, height: icon.size } });
      // Maskable: the logo's mark is white on the brand colour, inside the central 80 % circle.
      const inner = icon.maskable ? 0.62 : 1;
      const svg = icon.maskable ? logo.replace('fill="#2f6fed"', 'fill="#ffffff"').replace('stroke="#fff"', `stroke="${BRAND}"`) : logo;
      await page.setContent(
        `<html><body style="margin:0;display:grid;place-items:center;width:${icon.size}px;height:${icon.size}px;background:${icon.maskable ? BRAND : 'transparent'}">` +
          `<div style="width:${icon.size * inner}px;height:${icon.size * inner}px">${svg.replace('<svg ', '<svg width="100%" height="100%" ')}</div></body></html>`,
      );
      const png = await page.screenshot({ omitBackground: !icon.maskable, type: 'png' });
      writeFileSync(new URL(`../public/icons/${icon.file}`, import.meta.url), png);
      await page.close();
      console.log(`public/icons/${icon.file}: ${icon.size}×${icon.size}, ${png.length} bytes`);
    }
  } finally {
    await browser.close();
  }
}

await main();
