import type { Page } from '@playwright/test';
import { startNodeServer, type NodeServer } from '../../proxy/src/node.ts';
import { startFakeOpenAI, PNG_B64, type FakeOpenAI, type Reply } from '../../proxy/test/fake-openai.ts';
import { expect, openApp, test } from './harness';
import { startTurnstileStandIn, type TurnstileStandIn } from './turnstile-stand-in';

const SECRET = 'stand-in-secret';
/** COEP and CORP on the widget document: what loads in this app's `COEP: credentialless` page (see below). */
const WIDGET_HEADERS = { 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'cross-origin' };

let standIn: TurnstileStandIn;
let upstream: FakeOpenAI;
let proxy: NodeServer | undefined;
test.beforeEach(async () => {
  standIn = await startTurnstileStandIn();
  upstream = await startFakeOpenAI();
});
test.afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await upstream.close();
  await standIn.close();
});

/**
 * The app's `/test-proxy/` answered by the real proxy (its Node entry) with TURNSTILE_SECRET set,
 * verifying tokens against the stand-in and drawing with the fake OpenAI.
 */
async function routeToProxy(page: Page): Promise<void> {
  proxy = await startNodeServer({
    env: {
      OPENAI_API_KEY: 'sk-test-e2e',
      OPENAI_BASE_URL: upstream.url,
      ALLOWED_ORIGINS: new URL(page.url()).origin,
      RATE_LIMIT_PER_MINUTE: '100',
      TURNSTILE_SECRET: SECRET,
      TURNSTILE_VERIFY_URL: standIn.verifyUrl,
    },
    port: 0,
    hostname: '127.0.0.1',
    log: () => {},
  });
  const base = `http://127.0.0.1:${proxy.port}`;
  // Takes precedence over the harness's context route for /test-proxy/.
  await page.route('**/test-proxy/**', async (route) => {
    const path = new URL(route.request().url()).pathname.slice('/test-proxy'.length);
    await route.fulfill({ response: await route.fetch({ url: base + path }) });
  });
}

const stream: Reply = { kind: 'stream', partials: [PNG_B64] };

async function addPrompt(page: Page, prompt: string): Promise<void> {
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('add-prompt').click();
}

test('Turnstile: the Text tab loads the widget, each request carries its own token to the proxy, an expired token is replaced', async ({ page }) => {
  standIn.widgetHeaders = WIDGET_HEADERS;
  await openApp(page, `?turnstile=stand-in-site-key&turnstile-script=${encodeURIComponent(standIn.scriptUrl)}`);
  await routeToProxy(page);
  // Loaded only on the Text tab.
  expect(standIn.scriptLoads).toBe(0);
  await page.getByTestId('tab-text').click();
  await expect(page.getByTestId('turnstile').locator('iframe')).toBeVisible();
  expect(standIn.scriptLoads).toBe(1);

  // Two prompts at once: two jobs draw concurrently, each with a token of its own. OpenAI holds
  // both images until both requests are in, so neither finishes (and asks to download the model)
  // before the second prompt is added.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  upstream.reply({ ...stream, holdFinal: held }, { ...stream, holdFinal: held }, stream);
  await addPrompt(page, 'a red ceramic teapot');
  await addPrompt(page, 'a red apple');
  const jobs = page.getByTestId('text-job');
  await expect(jobs).toHaveCount(2);
  await expect.poll(() => upstream.imageRequests.length).toBe(2);
  release();
  // Drawn; the model's download prompt holds them before meshing, which text.spec.ts covers.
  for (const job of await jobs.all()) await expect(job).toHaveAttribute('data-state', 'waiting-gpu');
  expect(standIn.verifications.map((v) => v.success)).toEqual([true, true]);
  const [first, second] = standIn.verifications;
  expect(first!.token).not.toBe(second!.token);
  expect(first!.secret).toBe(SECRET);
  expect(first!.remoteip).toBe('127.0.0.1');
  expect(upstream.imageRequests).toHaveLength(2);

  // The token the widget minted next expires before anyone uses it: the app drops it, resets the
  // widget and sends the new one.
  await expect.poll(() => standIn.issued.length).toBeGreaterThanOrEqual(3);
  const beforeExpiry = standIn.issued.length;
  standIn.expireIssued();
  await page.evaluate(() => (globalThis as unknown as { turnstile: { __expire(): void } }).turnstile.__expire());
  await expect.poll(() => standIn.issued.length).toBe(beforeExpiry + 1);
  await page.getByRole('button', { name: 'Not now' }).click();
  await addPrompt(page, 'a blue chair');
  await expect(jobs.filter({ hasText: 'blue chair' })).toHaveAttribute('data-state', 'waiting-gpu');
  expect(standIn.verifications).toHaveLength(3);
  expect(standIn.verifications[2]).toMatchObject({ success: true, token: standIn.issued[beforeExpiry] });
});

test('Turnstile: a widget document without COEP headers does not load in the app (COEP: credentialless)', async ({ page }) => {
  await openApp(page);
  /** Frames the stand-in's widget with `headers` and says whether its document ran. */
  const probe = async (headers: Record<string, string>, credentialless = false): Promise<string> => {
    standIn.widgetHeaders = headers;
    return page.evaluate(
      async ({ src, credentialless }) =>
        new Promise<string>((resolve) => {
          const iframe = document.createElement('iframe');
          if (credentialless) iframe.setAttribute('credentialless', '');
          const done = (outcome: string) => {
            clearTimeout(timer);
            removeEventListener('message', onMessage);
            iframe.remove();
            resolve(outcome);
          };
          const onMessage = (event: MessageEvent) => {
            if (event.origin === new URL(src).origin) done('loaded');
          };
          const timer = setTimeout(() => done('blocked'), 3000);
          addEventListener('message', onMessage);
          iframe.src = src;
          document.body.append(iframe);
        }),
      { src: `${standIn.origin}/widget?id=probe`, credentialless },
    );
  };
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  const outcomes = {
    none: await probe({}),
    coepOnly: await probe({ 'cross-origin-embedder-policy': 'require-corp' }),
    coepAndCorp: await probe(WIDGET_HEADERS),
    credentiallessAndCorp: await probe({ 'cross-origin-embedder-policy': 'credentialless', 'cross-origin-resource-policy': 'cross-origin' }),
    iframeCredentialless: await probe({}, true),
  };
  console.log('COEP probe:', JSON.stringify(outcomes));
  expect(outcomes).toEqual({ none: 'blocked', coepOnly: 'blocked', coepAndCorp: 'loaded', credentiallessAndCorp: 'loaded', iframeCredentialless: 'loaded' });
});
