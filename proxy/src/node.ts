/**
 * Node entry: `npm run proxy` from the repository root. Limits, budget and metrics live in this
 * process's memory, so run one process (or put a shared store behind the Store interface).
 */
import { serve, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createApp } from './app.ts';
import { systemClock, type Clock } from './clock.ts';
import { loadConfig, type Env } from './config.ts';
import { MemoryStore, type Store } from './store.ts';

/** Options of startNodeServer; everything but `env` has a production default. */
export interface NodeServerOptions {
  env: Env;
  /** 0 picks a free port. */
  port?: number;
  hostname?: string;
  store?: Store;
  clock?: Clock;
  fetch?: typeof fetch;
  log?: (line: string) => void;
}

/** A running server. */
export interface NodeServer {
  server: ServerType;
  port: number;
  /** Stops accepting connections and resolves once the open ones are done. */
  close(): Promise<void>;
}

/** Starts the proxy on Node; throws a ConfigError before listening if the environment is wrong. */
export async function startNodeServer(options: NodeServerOptions): Promise<NodeServer> {
  const config = loadConfig(options.env);
  const log = options.log ?? ((line: string) => console.log(line));
  const app = createApp({
    config,
    store: options.store ?? new MemoryStore(),
    clock: options.clock ?? systemClock,
    fetch: options.fetch ?? globalThis.fetch,
    log,
    peerAddress: (c) => getConnInfo(c).remote.address,
  });
  if (config.allowedOrigins.size === 0) {
    log(
      JSON.stringify({
        level: 'warn',
        msg: 'ALLOWED_ORIGINS is empty: every text-to-image request will be refused.',
      }),
    );
  }
  const { server, port } = await new Promise<{ server: ServerType; port: number }>(
    (resolve, reject) => {
      const server = serve(
        { fetch: app.fetch, port: options.port ?? 8787, hostname: options.hostname },
        (info: AddressInfo) => resolve({ server, port: info.port }),
      );
      server.once('error', reject);
    },
  );
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Streams in flight would hold close() for up to the 120 s deadline.
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number, got "${process.env.PORT}".`);
  }
  const running = await startNodeServer({ env: process.env, port, hostname: process.env.HOST });
  console.log(
    JSON.stringify({
      level: 'info',
      msg: `CADLift proxy listening on http://${process.env.HOST ?? 'localhost'}:${running.port}`,
    }),
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      running.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
