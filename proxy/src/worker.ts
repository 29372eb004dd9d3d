/**
 * Cloudflare Workers entry (see wrangler.jsonc). Settings come from the Worker's variables and
 * secrets; the store is the `PROXY_STORE` Durable Object.
 */
import { createApp } from './app.ts';
import { systemClock } from './clock.ts';
import { ConfigError, loadConfig, type ProxyConfig } from './config.ts';
import { DurableObjectStore, ProxyStoreObject } from './durable-store.ts';

export { ProxyStoreObject };

/** The Worker's bindings: the Durable Object plus the string variables the README lists. */
export interface WorkerEnv {
  PROXY_STORE: DurableObjectNamespace<ProxyStoreObject>;
  [variable: string]: unknown;
}

const configs = new WeakMap<object, ProxyConfig>();

function configFor(env: WorkerEnv): ProxyConfig {
  let config = configs.get(env);
  if (!config) {
    config = loadConfig(env);
    configs.set(env, config);
  }
  return config;
}

export default {
  fetch(request, env, ctx) {
    let config: ProxyConfig;
    try {
      config = configFor(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(JSON.stringify({ level: 'error', msg: error.message }));
      const body = {
        error: {
          code: 'internal',
          message: 'The proxy is misconfigured; the operator must check its logs.',
        },
      };
      return Response.json(body, { status: 500 });
    }
    // Built per request: a Durable Object stub belongs to the request that created it.
    const app = createApp({
      config,
      store: new DurableObjectStore(env.PROXY_STORE),
      clock: systemClock,
      fetch: (input, init) => fetch(input, init),
      log: (line) => console.log(line),
      peerAddress: (c) => c.req.header('CF-Connecting-IP'),
    });
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<WorkerEnv>;
