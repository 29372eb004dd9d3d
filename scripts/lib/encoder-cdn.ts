/// <reference types="node" />
/**
 * A stand-in CDN for the encoder benchmark: serves a folder of model builds (and onnxruntime-web's dist
 * for the probe page) on a loopback origin, with Range, CORS and CORP as Hugging Face's CDN sends them,
 * streaming from disk (full-size builds are GBs), and counts the bytes it sent per file.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';

/** The running CDN: its origin, the bytes it sent per URL path, and `close`. */
export interface EncoderCdn {
  origin: string;
  sent: Map<string, number>;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
};

const HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'Content-Length, Content-Range, Accept-Ranges, ETag',
  'cross-origin-resource-policy': 'cross-origin',
  // The probe page runs on this origin; isolation keeps it like the app's page.
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/** Serves `/models/…` from `modelsRoot` and `/ort/…` from `ortDist`; `/` is an empty page for the probe. */
export async function startEncoderCdn(modelsRoot: string, ortDist: string): Promise<EncoderCdn> {
  const sent = new Map<string, number>();
  const roots: [string, string][] = [
    ['/models/', resolve(modelsRoot)],
    ['/ort/', resolve(ortDist)],
  ];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...HEADERS, 'access-control-allow-headers': 'range', 'access-control-allow-methods': 'GET, HEAD' });
      res.end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { ...HEADERS, 'content-type': 'text/html' });
      res.end('<!doctype html><title>encoder probe</title>');
      return;
    }
    const root = roots.find(([prefix]) => path.startsWith(prefix));
    const file = root && normalize(join(root[1], path.slice(root[0].length)));
    if (!root || !file!.startsWith(root[1]) || !existsSync(file!) || !statSync(file!).isFile()) {
      res.writeHead(404, HEADERS);
      res.end();
      return;
    }
    const size = statSync(file!).size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    const headers = { ...HEADERS, 'accept-ranges': 'bytes', 'content-type': TYPES[extname(file!)] ?? 'application/octet-stream' };
    if (range && start >= size) {
      res.writeHead(416, { ...HEADERS, 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'content-length': String(end - start + 1),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(file!, { start, end });
    stream.on('data', (chunk) => sent.set(path, (sent.get(path) ?? 0) + chunk.length));
    stream.pipe(res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    sent,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
