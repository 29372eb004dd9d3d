import { expect, makePhoto, openApp, setSlider, test } from './harness';

/** An SSE answer as the proxy streams it: partial images, then the final one. */
function sse(image: string, prompt: string): string {
  const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  return (
    event('partial', { index: 0, image }) +
    event('done', { image, prompt: `${prompt}, one whole object, centred`, usage: { total_tokens: 100 }, costUsd: 0.011 })
  );
}

test('Text tab: prompts are queued, drawn by the proxy with limited concurrency, meshed one at a time; one failure does not stop the rest', async ({ page, network }) => {
  await openApp(page);
  const image = (await makePhoto(page, { colour: '#c03030' })).toString('base64');
  let inFlight = 0;
  let maxInFlight = 0;
  const prompts: string[] = [];
  network.textProxy = async (request) => {
    prompts.push(request.prompt);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    inFlight--;
    if (request.prompt.includes('forbidden')) {
      return { status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'moderation_blocked', message: 'blocked' } }) };
    }
    return { status: 200, contentType: 'text/event-stream', body: sse(image, request.prompt) };
  };

  await page.getByTestId('tab-text').click();
  await expect(page.getByText('Prompts are sent to OpenAI')).toBeVisible();
  // The queue is what this test checks, not the shapes: 40³ meshes.
  await setSlider(page, 'resolution', 40);
  for (const prompt of ['a red ceramic teapot', 'something forbidden', 'a red apple']) {
    await page.getByTestId('prompt').fill(prompt);
    await page.getByTestId('add-prompt').click();
  }
  await page.getByTestId('consent-accept').click();

  const jobs = page.getByTestId('text-job');
  await expect(jobs).toHaveCount(3);
  const teapot = jobs.filter({ hasText: 'teapot' });
  const apple = jobs.filter({ hasText: 'apple' });
  const forbidden = jobs.filter({ hasText: 'forbidden' });
  await expect(forbidden.getByTestId('text-job-error')).toHaveText('OpenAI declined this prompt. Rephrase it and try again.');
  await expect(forbidden).toHaveAttribute('data-state', 'failed');
  await expect(teapot).toHaveAttribute('data-state', 'done', { timeout: 200_000 });
  await expect(apple).toHaveAttribute('data-state', 'done', { timeout: 200_000 });
  expect(maxInFlight).toBe(2);
  expect(prompts).toHaveLength(3);
  await expect(teapot.getByRole('img')).toBeVisible();
  await expect(page.getByTestId('viewer')).not.toHaveAttribute('data-vertices', '0');

  // Regenerate draws a new picture for the same prompt; Cancel stops a job while it is drawing.
  await teapot.getByRole('button', { name: 'Regenerate' }).click();
  const redo = jobs.first();
  await expect(redo).toHaveAttribute('data-state', 'drawing');
  await redo.getByRole('button', { name: 'Cancel' }).click();
  await expect(redo).toHaveAttribute('data-state', 'cancelled');
  await page.waitForTimeout(2500);
  await expect(redo).toHaveAttribute('data-state', 'cancelled');
});
