import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test as base, expect, type BrowserContext, type Page, type Route } from '@playwright/test';

/** The default manifest's real Hugging Face URLs; the tests route them to the committed test model. */
export const HF_PREFIX = 'https://huggingface.co/cgb/triposr-onnx-webgpu/resolve/main/';
/** The stand-in Hub: the repository's `resolve/<revision>/` files and its JSON API. */
const HF_REPO = 'https://huggingface.co/cgb/triposr-onnx-webgpu/';
const HF_API = 'https://huggingface.co/api/models/cgb/triposr-onnx-webgpu/';
/** The commit `main` points at unless a test moves it. */
export const FIRST_COMMIT = '1'.repeat(40);
/** The files of the stand-in repository (the committed test model). */
const REPO_FILES = ['triplane_q8.onnx', 'triplane_q8.onnx.data', 'decoder.onnx', 'decoder_folded.onnx', 'decoder_matmul.onnx'];
/** Path of the model files on the stand-in CDN (a second origin on loopback, see startCdn). */
const CDN_PATH = '/xet-bridge/cgb/triposr-onnx-webgpu/';
const MODEL_DIR = 'tests/fixtures/models/';
/** cadlift.test is mapped to 127.0.0.1 by the insecure-context test's browser. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', 'cadlift.test']);

/** What the routed model host saw, and any request that tried to leave the machine. */
export interface Network {
  modelRequests: string[];
  foreign: string[];
  /** File name → bytes to serve instead of the fixture (e.g. a truncated copy). */
  override: Map<string, Uint8Array>;
  /** Delay before each model response, to give a test time to cancel mid-download. */
  delayMs: number;
  /** The commit the stand-in Hub's `main` points at; a test moves it to publish a new version. */
  commit: string;
  /** Per commit other than FIRST_COMMIT: file name → bytes, or null for a file that commit lacks. */
  commits: Map<string, Map<string, Uint8Array | null>>;
  /** The stand-in CDN hides Content-Range from the page, as a CDN without it in Expose-Headers does. */
  hideContentRange: boolean;
  /** Hub API requests (revision and tree), kept apart from file requests. */
  apiRequests: string[];
  /** Answers the app's text-to-image proxy (`/test-proxy/`); unset, such requests fail the test. */
  textProxy?: (request: { prompt: string; size?: string; quality?: string; stream?: boolean }) => Promise<{ status: number; contentType: string; body: string }>;
  /** Images served at `/test-images/<name>` on the app's origin and `/no-cors/<name>` on the CDN's. */
  images: Map<string, Uint8Array>;
  /** The stand-in CDN's origin (another loopback origin than the app's). */
  cdnOrigin: string;
  /** Routes another context (e.g. a second browser) through the same model host. */
  route(context: BrowserContext): Promise<void>;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Content-Length, Content-Range, Accept-Ranges, ETag',
  'cross-origin-resource-policy': 'cross-origin',
};

function fixture(path: string): Uint8Array {
  return new Uint8Array(readFileSync(MODEL_DIR + path));
}

interface Served {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A static file answer with Range support and CORS, as Hugging Face's CDN gives. */
function serveBytes(rangeHeader: string | undefined, bytes: Uint8Array): Served {
  const range = /^bytes=(\d+)-(\d*)$/.exec(rangeHeader ?? '');
  const headers = { ...CORS, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
  if (!range) return { status: 200, headers, body: bytes };
  const start = Number(range[1]);
  const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
  if (start >= bytes.length) return { status: 416, headers: { ...CORS, 'content-range': `bytes */${bytes.length}` }, body: new Uint8Array() };
  return { status: 206, headers: { ...headers, 'content-range': `bytes ${start}-${end}/${bytes.length}` }, body: bytes.subarray(start, end + 1) };
}

function send(res: ServerResponse, served: Served, hideContentRange = false): void {
  const headers = hideContentRange ? { ...served.headers, 'access-control-expose-headers': 'Content-Length, Accept-Ranges, ETag' } : served.headers;
  res.writeHead(served.status, { ...headers, 'content-length': String(served.body.length) });
  res.end(Buffer.from(served.body));
}

/**
 * The stand-in CDN: a real HTTP server on another loopback origin. Playwright does not intercept
 * the request a routed 302 leads to, so the redirect target has to exist, as Hugging Face's does.
 */
export async function startCdn(network: Network): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'access-control-allow-headers': 'range', 'access-control-allow-methods': 'GET, HEAD' });
      res.end();
      return;
    }
    const url = `http://localhost${req.url ?? ''}`;
    if (req.url?.startsWith('/no-cors/')) {
      // A site that serves images but does not let other origins read them.
      const image = network.images.get(req.url.slice('/no-cors/'.length));
      res.writeHead(image ? 200 : 404, { 'content-type': 'image/png' });
      res.end(image ? Buffer.from(image) : undefined);
      return;
    }
    network.modelRequests.push(url);
    // `<commit>/<name>` for pinned files, as the Hub's CDN serves a commit's content; `<name>` for main.
    const rest = (req.url ?? '').slice(CDN_PATH.length);
    const [commit, name] = /^[0-9a-f]{40}\//.test(rest) ? [rest.slice(0, 40), rest.slice(41)] : [network.commit, rest];
    const bytes = repoFile(network, commit, name);
    const reply = (): void => {
      if (!bytes) send(res, { status: 404, headers: CORS, body: new Uint8Array() });
      else send(res, serveBytes(req.headers.range, bytes), network.hideContentRange);
    };
    if (network.delayMs) setTimeout(reply, network.delayMs);
    else reply();
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}

/** A file of the stand-in repository at `commit`: a test's override, that commit's version, or the fixture. */
function repoFile(network: Network, commit: string, name: string): Uint8Array | null {
  const override = network.override.get(name);
  if (override) return override;
  const version = network.commits.get(commit);
  if (version?.has(name)) return version.get(name) ?? null;
  if (commit !== FIRST_COMMIT && !version) return null;
  try {
    return fixture(`triposr-test/${name}`);
  } catch {
    return null;
  }
}

/** The Hub's tree listing at `commit`: size, git oid, and for `.onnx*` files (LFS there) lfs.oid = SHA-256. */
function treeListing(network: Network, commit: string): unknown[] {
  const names = new Set([...REPO_FILES, ...(network.commits.get(commit)?.keys() ?? [])]);
  const listing: unknown[] = [];
  for (const name of names) {
    const bytes = repoFile(network, commit, name);
    if (!bytes) continue;
    const oid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    const lfs = { oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, pointerSize: 134 };
    listing.push({ type: 'file', oid, size: bytes.length, path: name, ...(name.includes('.onnx') ? { lfs } : {}) });
  }
  return listing;
}

/** Answers the Hub's JSON API for the stand-in repository; false for any other URL. */
async function answerHubApi(route: Route, network: Network): Promise<boolean> {
  const url = route.request().url();
  if (!url.startsWith(HF_API)) return false;
  network.apiRequests.push(url);
  const path = new URL(url).pathname.slice(new URL(HF_API).pathname.length);
  const json = (status: number, body: unknown): Promise<void> =>
    route.fulfill({ status, headers: { ...CORS, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (path === 'revision/main') await json(200, { id: 'cgb/triposr-onnx-webgpu', sha: network.commit, siblings: [] });
  else if (/^tree\/[0-9a-f]{40}$/.test(path) && (path.slice(5) === FIRST_COMMIT || network.commits.has(path.slice(5)))) await json(200, treeListing(network, path.slice(5)));
  else await json(404, { error: 'Revision Not Found' });
  return true;
}

/**
 * Routes every request of a context: loopback passes (test manifests under /test-models/ come from
 * the fixtures), the Hugging Face URLs 302 to a CDN origin that serves the test model with Range
 * support and CORS, and anything else is aborted and recorded, so a test can assert privacy.
 */
export async function routeNetwork(context: BrowserContext, cdnOrigin: string, network: Network): Promise<void> {
  const modelFile = async (route: Route, path: string): Promise<void> => {
    network.modelRequests.push(route.request().url());
    if (network.delayMs) await new Promise((resolve) => setTimeout(resolve, network.delayMs));
    const name = path.split('/').pop()!;
    const served = serveBytes(route.request().headers()['range'], network.override.get(name) ?? fixture(path));
    await route.fulfill({ status: served.status, headers: served.headers, body: Buffer.from(served.body) });
  };
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (LOOPBACK.has(url.hostname)) {
      if (url.pathname.startsWith('/test-images/')) {
        const image = network.images.get(url.pathname.slice('/test-images/'.length));
        await route.fulfill(image ? { status: 200, contentType: 'image/png', body: Buffer.from(image) } : { status: 404 });
        return;
      }
      if (url.pathname.startsWith('/test-proxy/')) {
        if (!network.textProxy) {
          network.foreign.push(url.href);
          await route.abort('blockedbyclient');
          return;
        }
        const answer = await network.textProxy(JSON.parse(route.request().postData() ?? '{}'));
        await route.fulfill({ status: answer.status, contentType: answer.contentType, body: answer.body });
        return;
      }
      if (url.pathname.startsWith('/test-models/')) {
        const path = url.pathname.slice('/test-models/'.length);
        if (path.endsWith('.manifest.json')) {
          network.modelRequests.push(url.href);
          await route.fulfill({ status: 200, contentType: 'application/json', body: Buffer.from(fixture(path)) });
        } else {
          await modelFile(route, path);
        }
        return;
      }
      await route.continue();
      return;
    }
    if (await answerHubApi(route, network)) return;
    const resolve = /^resolve\/([^/]+)\/(.+)$/.exec(url.href.startsWith(HF_REPO) ? url.href.slice(HF_REPO.length) : '');
    if (resolve) {
      network.modelRequests.push(url.href);
      const [, revision, name] = resolve as unknown as [string, string, string];
      const commit = revision === 'main' ? network.commit : revision;
      const bytes = repoFile(network, commit, name);
      if (!bytes) {
        await route.fulfill({ status: 404, headers: { ...CORS, 'x-error-code': 'EntryNotFound' } });
        return;
      }
      // As the Hub does: the version headers sit on the 302, which fetch follows without showing them.
      const linked: Record<string, string> = name.includes('.onnx') ? { 'x-linked-etag': `"${createHash('sha256').update(bytes).digest('hex')}"`, 'x-linked-size': String(bytes.length) } : {};
      await route.fulfill({ status: 302, headers: { ...CORS, 'x-repo-commit': commit, ...linked, location: `${cdnOrigin}${CDN_PATH}${commit}/${name}` } });
      return;
    }
    network.foreign.push(url.href);
    await route.abort('blockedbyclient');
  });
}

/**
 * A fresh model host: an empty Network whose `route` sends a context's model requests to a new
 * stand-in CDN. The tests' fixture and the bench and screenshot scripts share it; `close` stops the CDN.
 */
export async function startModelHost(): Promise<{ network: Network; close: () => void }> {
  let cdnOrigin = '';
  const network: Network = {
    modelRequests: [],
    foreign: [],
    override: new Map(),
    delayMs: 0,
    commit: FIRST_COMMIT,
    commits: new Map(),
    hideContentRange: false,
    apiRequests: [],
    images: new Map(),
    cdnOrigin: '',
    route: (other) => routeNetwork(other, cdnOrigin, network),
  };
  const cdn = await startCdn(network);
  cdnOrigin = cdn.origin;
  network.cdnOrigin = cdn.origin;
  return { network, close: () => cdn.server.close() };
}

/**
 * A test with a routed network (automatic, so no test can skip it) that fails when any request
 * left loopback and the model host.
 */
export const test = base.extend<{ network: Network }>({
  network: [async ({ context }, use) => {
    const host = await startModelHost();
    const network = host.network;
    await network.route(context);
    await use(network);
    host.close();
    expect(network.foreign, 'requests to hosts other than loopback and the model host').toEqual([]);
  }, { auto: true }],
});
export { expect };

/** Opens the app and waits for the pipeline worker to report its backend. */
export async function openApp(page: Page, query = ''): Promise<void> {
  page.on('pageerror', (error) => console.log('[pageerror]', error.message));
  page.on('console', (m) => { if (m.type() === 'error' && process.env.E2E_DEBUG) console.log('[console]', m.text()); });
  await page.goto(`/${query}`);
  await expect(page.getByTestId('backend')).not.toHaveText('Starting…');
}

/**
 * Draws a test photo in the page as PNG bytes: a disc of one colour on a transparent background (a
 * cut-out), or on `background` (a photo as people take them).
 */
export async function makePhoto(page: Page, options: { colour: string; width?: number; height?: number; background?: string }): Promise<Buffer> {
  const base64 = await page.evaluate(async ({ colour, width, height, background }) => {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d')!;
    if (background) {
      ctx.fillStyle = background;
      ctx.fillRect(0, 0, width, height);
    }
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.ellipse(width * 0.55, height * 0.45, width * 0.3, height * 0.3, 0, 0, Math.PI * 2);
    ctx.fill();
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }, { colour: options.colour, width: options.width ?? 320, height: options.height ?? 240, background: options.background ?? '' });
  return Buffer.from(base64, 'base64');
}

/** Gives the app a photo through its file picker and waits for the model-input preview. */
export async function addPhoto(page: Page, bytes: Buffer, name = 'photo.png', mimeType = 'image/png'): Promise<void> {
  await page.getByTestId('file-input').setInputFiles({ name, mimeType, buffer: bytes });
}

/** Waits until the model-input preview shows the current photo framed at the current ratio. */
export async function waitForPreview(page: Page): Promise<void> {
  await expect(page.getByTestId('model-input')).not.toHaveAttribute('data-ratio', '');
}

/** Sets a range input's value as a user dragging it would (fires input events). */
export async function setSlider(page: Page, testId: string, value: number): Promise<void> {
  await page.getByTestId(testId).fill(String(value));
}

/** Presses Generate, accepts the download prompt when it appears, and waits for the result stats. */
export async function generate(page: Page, options: { accept?: boolean } = {}): Promise<void> {
  await expect(page.getByTestId('generate')).toBeEnabled();
  await page.getByTestId('generate').click();
  if (options.accept ?? true) {
    const consent = page.getByTestId('consent-accept');
    const stats = page.getByTestId('stats');
    await expect(consent.or(page.getByTestId('cancel')).or(stats).first()).toBeVisible();
    if (await consent.isVisible()) await consent.click();
  }
}

/** Waits for a finished job and returns the numbers its stats panel shows. */
export async function waitForResult(page: Page): Promise<{ vertices: number; triangles: number; backend: string }> {
  await expect(page.getByTestId('generate')).toBeVisible({ timeout: 200_000 });
  await expect(page.getByTestId('stats')).toBeVisible();
  const read = async (id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? '';
  return {
    vertices: Number((await read('stat-vertices')).replace(/,/g, '')),
    triangles: Number((await read('stat-triangles')).replace(/,/g, '')),
    backend: await read('stat-backend'),
  };
}

/** Where and how `makeScenePhoto` draws its object: fractions of the photo's side, y down. */
export interface SceneObject {
  colour: string;
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** Clockwise turn on screen, radians. */
  angle?: number;
}

/**
 * Draws an opaque square test photo in the page as PNG bytes: an ellipse on the grey (#808080) the
 * framing composites onto, so with background removal off the model sees the object exactly where
 * the photo has it (the alpha box of an opaque photo is the whole photo).
 */
export async function makeScenePhoto(page: Page, object: SceneObject, side = 256): Promise<Buffer> {
  const base64 = await page.evaluate(async ({ object, side }) => {
    const canvas = new OffscreenCanvas(side, side);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#808080';
    ctx.fillRect(0, 0, side, side);
    ctx.fillStyle = object.colour;
    ctx.beginPath();
    ctx.ellipse(object.cx * side, object.cy * side, object.rx * side, object.ry * side, object.angle ?? 0, 0, Math.PI * 2);
    ctx.fill();
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  }, { object, side });
  return Buffer.from(base64, 'base64');
}
