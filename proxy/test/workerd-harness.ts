/** The Worker as `wrangler deploy` would ship it, for tests that run it in workerd (Miniflare). */
import { build } from 'esbuild';
import type { WorkerOptions } from 'miniflare';
import { fileURLToPath } from 'node:url';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { API_KEY, METRICS_TOKEN, ORIGIN } from './constants.ts';

const proxyDir = fileURLToPath(new URL('..', import.meta.url));

/** Bundles src/worker.ts as one ES module, cloudflare:* left to the runtime. */
export async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [`${proxyDir}/src/worker.ts`],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    external: ['cloudflare:*'],
    write: false,
  });
  return result.outputFiles[0]!.text;
}

/** The Worker as wrangler.jsonc describes it, with test settings and `upstream` as OpenAI. */
export function workerFromWranglerConfig(
  name: string,
  script: string,
  upstream: string,
  vars: Record<string, string>,
): WorkerOptions {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(`${proxyDir}/wrangler.jsonc`);
  if (!workerOptions.compatibilityFlags?.includes('enable_request_signal')) {
    throw new Error('wrangler.jsonc lost the enable_request_signal compatibility flag.');
  }
  return {
    ...workerOptions,
    name,
    modules: true,
    script,
    bindings: {
      ...workerOptions.bindings,
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: upstream,
      ALLOWED_ORIGINS: ORIGIN,
      METRICS_TOKEN,
      ...vars,
    },
  } as WorkerOptions;
}

/** A POST of `body` to the route, as Cloudflare hands it to the Worker. */
export const workerPost = (body: unknown, ip = '203.0.113.9') => ({
  method: 'POST',
  headers: { Origin: ORIGIN, 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
  body: JSON.stringify(body),
});
