/** The Node entry over real sockets: disconnects, client addresses, the `npm run proxy` script. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, METRICS_TOKEN, startServer, type ServerHarness } from './harness.ts';

let s: ServerHarness | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('Node server', () => {
  it('aborts the upstream call when the client disconnects', async () => {
    s = await startServer();
    s.fake.reply({ kind: 'hang' });
    const client = new AbortController();
    const pending = s
      .post({ prompt: 'a chair' }, { signal: client.signal })
      .catch((e: unknown) => e);
    await s.fake.waitForRequests(1);
    client.abort();
    expect(await pending).toBeInstanceOf(Error);
    await s.fake.imageRequests[0]!.whenAbandoned;
    expect(s.fake.imageRequests[0]!.abandoned).toBe(true);
    await expect.poll(() => s!.logs.some((l) => l.includes('"code":"client_closed"'))).toBe(true);
  });

  it('limits by socket address and ignores X-Forwarded-For from an untrusted peer', async () => {
    s = await startServer({ RATE_LIMIT_PER_MINUTE: '1' });
    expect(
      (await s.post({ prompt: 'a chair' }, { headers: { 'X-Forwarded-For': '192.0.2.1' } })).status,
    ).toBe(200);
    expect(
      (await s.post({ prompt: 'a chair' }, { headers: { 'X-Forwarded-For': '192.0.2.2' } })).status,
    ).toBe(429);
  });

  it('uses X-Forwarded-For when TRUST_PROXY names the peer', async () => {
    s = await startServer({ RATE_LIMIT_PER_MINUTE: '1', TRUST_PROXY: '127.0.0.1, ::1' });
    expect(
      (await s.post({ prompt: 'a chair' }, { headers: { 'X-Forwarded-For': '192.0.2.1' } })).status,
    ).toBe(200);
    expect(
      (await s.post({ prompt: 'a chair' }, { headers: { 'X-Forwarded-For': '192.0.2.2' } })).status,
    ).toBe(200);
    expect(
      (await s.post({ prompt: 'a chair' }, { headers: { 'X-Forwarded-For': '192.0.2.1' } })).status,
    ).toBe(429);
  });
});

describe('the entry script', () => {
  const proxyDir = fileURLToPath(new URL('..', import.meta.url));

  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts'], {
      cwd: proxyDir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it('listens on PORT and stops cleanly on SIGTERM', async () => {
    const proc = run({ OPENAI_API_KEY: API_KEY, PORT: '0', HOST: '127.0.0.1', METRICS_TOKEN });
    await expect
      .poll(() => proc.out(), { timeout: 15_000 })
      .toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    const port = /:(\d+)"/.exec(proc.out())![1];
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(await res.json()).toEqual({ status: 'ok' });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.out() + proc.err()).not.toContain(API_KEY);
  });

  it('refuses to start without OPENAI_API_KEY', async () => {
    const proc = run({ PORT: '0' });
    expect(await proc.exited).toBe(1);
    expect(proc.err()).toContain('OPENAI_API_KEY is not set');
  });
});
