/// <reference types="node" />
/**
 * The encoder benchmark's two measurements of one model build in headless Chromium:
 * - `probeEncoder`: onnxruntime-web itself on a page of the stand-in CDN (WebGPU device with DEFAULT
 *   limits, verbose session log for the node placement, createBuffer wrapped for the largest buffer),
 *   one run on the formula image, the triplane brought back for the cosine;
 * - `appJob`: the app's real loader and pipeline (`?model=`, Cache Storage, external data) on one photo,
 *   with the app's own stage times. (Its GPU buffers are not recorded: wrapping GPUDevice.prototype
 *   .createBuffer from Playwright in the app's workers saw no calls; the probe records the encoder's.)
 * Both sample the JS heap while they run. Neither throws for the model's sake: a failure or a timeout
 * comes back as `error`, so one variant that cannot run here still gets its row.
 */
import type { Browser, CDPSession, Page } from '@playwright/test';
import { chromium } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import type { PipelineStats } from '../../src/shared/pipeline.ts';
import { offProviderNodes, parsePlacements, type NodePlacement } from '../../src/lib/ort-placement.ts';
import { addPhoto, generate, makePhoto, openApp, setSlider, waitForPreview } from '../../tests/e2e/harness.ts';
import { CHROMIUM_PATH, chromiumArgs } from '../chromium.ts';
import type { AppServer } from './serve-app.ts';
import { waitForJob } from './serve-app.ts';

/** What the probe page measured. */
export interface ProbeResult {
  adapter?: string;
  createMs?: number;
  runMs?: number;
  largestBuffer?: number;
  peakHeapBytes?: number;
  /** Peak resident memory of all the browser's processes (Linux /proc), the model in WASM and GPU memory included. */
  peakBrowserRss?: number;
  /** Nodes off the WebGPU EP that are not shape computation; empty when every node ran on WebGPU. */
  offGpu?: NodePlacement[];
  nodeCounts?: Record<string, number>;
  triplane?: Float32Array;
  error?: string;
}

/** What the app's own job reported. */
export interface AppJobResult {
  stats?: PipelineStats;
  peakHeapBytes?: number;
  wallMs?: number;
  /** After a timeout: the times of the stages the app had finished. */
  stagesDone?: Record<string, number>;
  error?: string;
}

/** Resident memory (bytes) of all descendants of a process (not itself), from /proc (Linux). */
function descendantsRss(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += rss ? Number(rss[1]) * 1024 : 0;
    } catch {
      // Gone.
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/**
 * Polls the page's JS heap (CDP Performance metrics: JS objects only, not ArrayBuffers or WASM memory)
 * and the resident memory of the whole browser (every Chromium process, the GPU process's SwiftShader
 * buffers included) until `stop`; returns the peaks seen.
 */
async function heapSampler(page: Page, rss = false): Promise<{ stop: () => Promise<number>; peakRss: () => number }> {
  let peakRss = 0;
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const { metrics } = await cdp.send('Performance.getMetrics');
        peak = Math.max(peak, metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
        // Chromium is this script's child; one browser at a time runs.
        if (rss && process.platform === 'linux') peakRss = Math.max(peakRss, descendantsRss(process.pid));
      } catch {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await cdp.detach().catch(() => undefined);
      return peak;
    },
    peakRss: () => peakRss,
  };
}

/**
 * `fn(arg)` as source for page or worker evaluation. tsx (esbuild with keepNames) wraps named functions
 * in `__name(...)` calls, which do not exist in the page: give it a stand-in.
 */
function evaluable(fn: (arg: never) => unknown, arg: unknown = undefined): string {
  return `(() => { const __name = (f) => f; return (${fn.toString()})(${JSON.stringify(arg)}); })()`;
}

function timeout(ms: number): { promise: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms / 60_000)} min`)), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/** Runs in the probe page (serialised: no closures over this module). */
async function inPage(args: { manifestUrl: string; logId: string }): Promise<unknown> {
  const ort = await import(/* @vite-ignore */ `${location.origin}/ort/ort.webgpu.min.mjs`);
  ort.env.wasm.wasmPaths = `${location.origin}/ort/`;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'warning';
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { error: 'no WebGPU adapter' };
  const info = adapter.info;
  const adapterName = `${[info.vendor, info.architecture, info.description].filter(Boolean).join(' ')}${info.isFallbackAdapter ? ' (fallback adapter)' : ''}`;
  // Default limits: the model has to fit them.
  const device = await adapter.requestDevice();
  let largest = 0;
  const createBuffer = device.createBuffer.bind(device);
  // Kept on globalThis too, so a run that times out still reports what it had allocated.
  const shared = globalThis as unknown as { probe: { adapter: string; largestBuffer: number; createMs?: number } };
  shared.probe = { adapter: adapterName, largestBuffer: 0 };
  device.createBuffer = (desc: GPUBufferDescriptor) => {
    largest = Math.max(largest, desc.size);
    shared.probe.largestBuffer = largest;
    return createBuffer(desc);
  };
  const manifest = await (await fetch(args.manifestUrl)).json();
  const get = async (url: string) => new Uint8Array(await (await fetch(new URL(url, args.manifestUrl))).arrayBuffer());
  type File = { role: string; name: string; url: string };
  const files = manifest.files as File[];
  const encoder = await get(files.find((f) => f.role === 'encoder')!.url);
  const externalData = [];
  for (const f of files.filter((x) => x.role === 'encoder-data')) externalData.push({ path: f.name, data: await get(f.url) });
  const size = 512;
  const image = new Float32Array(3 * size * size);
  // The golden's "hash" formula (tests/helpers/encoder-golden.ts).
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) image[(c * size + y) * size + x] = ((x * 7 + y * 13 + c * 101 + ((x * y) >> 6)) % 256) / 255;
    }
  }
  try {
    const t0 = performance.now();
    const session = await ort.InferenceSession.create(encoder, {
      externalData,
      executionProviders: [{ name: 'webgpu', device }],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 0,
      logId: args.logId,
    });
    const t1 = performance.now();
    shared.probe.createMs = t1 - t0;
    const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', image, [1, 3, size, size]) });
    const data = (await outputs[session.outputNames[0]].getData()) as Float32Array;
    const t2 = performance.now();
    await session.release();
    let binary = '';
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { adapter: adapterName, createMs: t1 - t0, runMs: t2 - t1, largestBuffer: largest, triplane: btoa(binary) };
  } catch (e) {
    return { adapter: adapterName, largestBuffer: largest, error: String((e as Error).message ?? e) };
  }
}

/** Runs one build's encoder with onnxruntime-web on the CDN's probe page; see the module comment. */
export async function probeEncoder(cdnOrigin: string, manifestPath: string, logId: string, timeoutMs: number): Promise<ProbeResult> {
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: chromiumArgs() });
  const lines: string[] = [];
  const limit = timeout(timeoutMs);
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') lines.push(m.text());
    });
    await page.goto(`${cdnOrigin}/`);
    const heap = await heapSampler(page, true);
    let raw: Record<string, unknown>;
    try {
      raw = (await Promise.race([page.evaluate(evaluable(inPage, { manifestUrl: `${cdnOrigin}${manifestPath}`, logId })), limit.promise])) as Record<string, unknown>;
    } catch (e) {
      // Out of time (or crashed): keep what the page got to, the session build and its placement log.
      const partial = await page.evaluate(() => (globalThis as unknown as { probe?: Record<string, unknown> }).probe).catch(() => undefined);
      raw = { ...partial, error: (e as Error).message };
    }
    const result: ProbeResult = { ...(raw as ProbeResult), peakHeapBytes: await heap.stop(), peakBrowserRss: heap.peakRss(), triplane: undefined };
    if (typeof raw.triplane === 'string') {
      const bytes = Buffer.from(raw.triplane, 'base64');
      result.triplane = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    }
    const placement = parsePlacements(lines).find((p) => p.session === logId);
    if (placement) {
      result.nodeCounts = placement.counts;
      result.offGpu = offProviderNodes(placement);
    }
    return result;
  } finally {
    limit.clear();
    await browser.close();
  }
}

/** Runs one photo through the app with `?model=` at the slider's lowest resolution; see the module comment. */
export async function appJob(app: AppServer, manifestUrl: string, timeoutMs: number): Promise<AppJobResult> {
  const { browser, page } = await app.open({ webgpu: true });
  const limit = timeout(timeoutMs);
  try {
    await openApp(page, `?model=${encodeURIComponent(manifestUrl)}`);
    await addPhoto(page, await makePhoto(page, { colour: '#d08040' }));
    await waitForPreview(page);
    await setSlider(page, 'resolution', 64);
    const heap = await heapSampler(page);
    const t0 = Date.now();
    try {
      await generate(page);
      const stats = await Promise.race([waitForJob(page, timeoutMs), limit.promise]);
      const wallMs = Date.now() - t0;
      return { stats, wallMs, peakHeapBytes: await heap.stop() };
    } catch (e) {
      // Out of time: the stages the app finished (the download, say) still have their times.
      const stages = await page
        .evaluate(() => {
          const app = (globalThis as unknown as { __cadlift: { progress: { stages: Record<string, { state: string; ms?: number }> } } }).__cadlift;
          return JSON.parse(JSON.stringify(app.progress.stages)) as Record<string, { state: string; ms?: number }>;
        })
        .catch(() => ({}) as Record<string, { state: string; ms?: number }>);
      const ms = Object.fromEntries(Object.entries(stages).flatMap(([stage, s]) => (s.ms === undefined ? [] : [[stage, s.ms]])));
      return { stagesDone: ms, peakHeapBytes: await heap.stop(), error: (e as Error).message };
    }
  } finally {
    limit.clear();
    await browser.close();
  }
}
