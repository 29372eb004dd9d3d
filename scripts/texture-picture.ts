/// <reference types="node" />
// The README's before/after of real textures (issue 16): one low-poly sphere whose colour field has
// fine bands (a synthetic triplane and decoder, tests/helpers/band-fixture.ts, bands 8× finer),
// drawn by the app's viewer with vertex colours (left) and with its baked texture (right): the
// same triangles, the colours sampled at the vertices against the texture's texels.
//   npx tsx --import ./scripts/lib/raw-import.mjs scripts/texture-picture.ts   writes docs/texture-before-after.png
//   (same) --out /tmp/x.png --subdivisions 3 --size 1024
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { BatchDecoder } from '../src/cpu/batch-decoder.ts';
import { cpuTexelColourer } from '../src/cpu/bake.ts';
import { TRIPLANE_CHANNELS } from '../src/gpu/constants.ts';
import { bakeTexture } from '../src/texture/bake.ts';
import type { TexturedMesh } from '../src/texture/types.ts';
import { bandDecoder, bandMesh, bandTriplane, BAND_THRESHOLD, fieldColourRadial, toTripoSR } from '../tests/helpers/band-fixture.ts';
import { CHROMIUM_PATH, chromiumArgs } from './chromium.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const OUT = arg('out', 'docs/texture-before-after.png');
const SUBDIVISIONS = Number(arg('subdivisions', '3'));
const SIZE = Number(arg('size', '1024'));
/** Band period in the triplane's normalised height (the fixture's is 1). */
const PERIOD = 1 / 8;
/** The fixture's band channel: plane 1 (xz), channel 2, a function of the row (z, up) alone. */
const BAND_PLANE = 1;
const BAND_CHANNEL = 2;
const PANEL = { width: 460, height: 400 };

/** The fixture's triplane with bands PERIOD apart instead of 1. */
function fineBands(): Float32Array {
  const triplane = bandTriplane();
  const S = 64;
  for (let row = 0; row < S; row++) {
    const v = (2 * row + 1) / S - 1;
    for (let col = 0; col < S; col++) {
      triplane[((BAND_PLANE * TRIPLANE_CHANNELS + BAND_CHANNEL) * S + row) * S + col] = Math.sin((2 * Math.PI * v) / PERIOD);
    }
  }
  return triplane;
}

/** Bakes the sphere; its vertex colours are the field's colour at each vertex, as the mesher gives them. */
async function bake(): Promise<TexturedMesh> {
  const triplane = fineBands();
  const weights = bandDecoder();
  const { mesh, toSource } = bandMesh(SUBDIVISIONS);
  const colours = new Float32Array(mesh.positions.length);
  // The fixture's sphere is centred on the source frame's origin; its normals point away from it.
  const normals = new Float32Array(mesh.positions.length);
  for (let v = 0; v < mesh.positions.length / 3; v++) {
    const source = [0, 1, 2].map((k) => mesh.positions[3 * v + k]! * toSource.scale + toSource.offset[k]!);
    colours.set(fieldColourRadial(triplane, weights, toTripoSR(source)), 3 * v);
    const length = Math.hypot(...source);
    normals.set(source.map((x) => x / length), 3 * v);
  }
  const colourer = cpuTexelColourer(new BatchDecoder(triplane, weights));
  const started = performance.now();
  const baked = await bakeTexture({ triplane, mesh: { ...mesh, colours, normals }, toSource, size: SIZE, threshold: BAND_THRESHOLD }, colourer);
  console.log(`${mesh.indices.length / 3} triangles, ${SIZE}² texture baked in ${Math.round(performance.now() - started)} ms`);
  return baked.mesh;
}

async function main(): Promise<void> {
  const mesh = await bake();
  // Vite serves the viewer's module to a blank page: no app, no network.
  const server = await createServer({
    configFile: false,
    root: process.cwd(),
    appType: 'custom',
    logLevel: 'warn',
    optimizeDeps: { entries: ['src/viewer/mesh-viewer.ts'] },
    server: { host: '127.0.0.1', port: 0 },
  });
  await server.listen();
  const { port } = server.httpServer!.address() as AddressInfo;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: chromiumArgs({ webgpu: false }) });
  try {
    const page = await browser.newPage({ viewport: { width: PANEL.width * 2 + 60, height: PANEL.height + 120 }, deviceScaleFactor: 1 });
    page.on('pageerror', (error) => console.error(error));
    const html = `<!doctype html><html><body style="margin:0;font:15px system-ui,sans-serif;background:#fff">
      <div id="shot" style="display:flex;gap:20px;padding:20px">
        ${['vertex', 'texture'].map((id) => `<figure style="margin:0"><canvas id="${id}" style="display:block;width:${PANEL.width}px;height:${PANEL.height}px;border-radius:8px"></canvas><figcaption id="${id}-caption" style="text-align:center;padding-top:8px"></figcaption></figure>`).join('')}
      </div></body></html>`;
    // The page itself comes from here; the viewer's modules from Vite on the same origin.
    await page.route('**/picture', (route) => route.fulfill({ contentType: 'text/html', body: html }));
    await page.goto(`http://127.0.0.1:${port}/picture`);
    await page.addScriptTag({ type: 'module', content: "import { MeshViewer } from '/src/viewer/mesh-viewer.ts'; window.MeshViewer = MeshViewer;" });
    await page.waitForFunction(() => 'MeshViewer' in window);
    const triangles = (mesh.indices.length / 3).toLocaleString('en');
    await page.evaluate(
      async ({ arrays, rgba, size, captions }) => {
        const bytes = Uint8Array.from(atob(rgba), (c) => c.charCodeAt(0));
        const textured = {
          positions: new Float32Array(arrays.positions),
          normals: new Float32Array(arrays.normals),
          colours: new Float32Array(arrays.colours),
          indices: new Uint32Array(arrays.indices),
          uvs: new Float32Array(arrays.uvs),
          texture: { width: size, height: size, rgba: bytes },
        };
        const View = (window as unknown as { MeshViewer: typeof import('../src/viewer/mesh-viewer.ts').MeshViewer }).MeshViewer;
        for (const id of ['vertex', 'texture'] as const) {
          const canvas = document.getElementById(id) as HTMLCanvasElement;
          const viewer = new View(canvas, { texture: id === 'texture' });
          viewer.resize(canvas.clientWidth, canvas.clientHeight);
          viewer.setMesh(textured);
          viewer.render();
          document.getElementById(`${id}-caption`)!.textContent = captions[id];
        }
      },
      {
        arrays: { positions: [...mesh.positions], normals: [...mesh.normals], colours: [...mesh.colours], indices: [...mesh.indices], uvs: [...mesh.uvs] },
        rgba: Buffer.from(mesh.texture.rgba).toString('base64'),
        size: SIZE,
        captions: { vertex: `Vertex colours · ${triangles} triangles`, texture: `Baked ${SIZE}² texture · the same ${triangles} triangles` },
      },
    );
    // Let both viewers draw their first frame with the texture uploaded.
    await page.waitForTimeout(500);
    writeFileSync(OUT, await page.locator('#shot').screenshot());
    console.log(`wrote ${OUT}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
