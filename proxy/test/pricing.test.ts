import { describe, expect, it } from 'vitest';
import { costFromUsage, estimateCostUsd, OUTPUT_TOKENS, pricesFor } from '../src/pricing.ts';

describe('estimateCostUsd', () => {
  it('prices the image tokens of the chosen quality and size', () => {
    const base = { model: 'gpt-image-1', partialImages: 0, prompt: '' };
    expect(estimateCostUsd({ ...base, quality: 'low', size: '1024x1024' })).toBe(0.01088);
    expect(estimateCostUsd({ ...base, quality: 'medium', size: '1024x1024' })).toBe(0.04224);
    expect(estimateCostUsd({ ...base, quality: 'high', size: '1024x1536' })).toBe(0.2496);
  });

  it('prices auto as the dearest choice and adds partial images and the prompt', () => {
    const base = { model: 'gpt-image-1', prompt: '' };
    expect(estimateCostUsd({ ...base, quality: 'auto', size: 'auto', partialImages: 0 })).toBe(
      0.2496,
    );
    expect(estimateCostUsd({ ...base, quality: 'low', size: '1024x1024', partialImages: 2 })).toBe(
      0.01888,
    );
    expect(
      estimateCostUsd({
        model: 'gpt-image-1',
        quality: 'low',
        size: '1024x1024',
        partialImages: 0,
        prompt: 'x'.repeat(1000),
      }),
    ).toBe(0.01588);
  });

  it('prices unknown models as the dearest known one', () => {
    expect(pricesFor('gpt-image-9')).toEqual(pricesFor('gpt-image-1'));
  });

  it('never estimates below what OpenAI bills for the same request', () => {
    for (const quality of ['low', 'medium', 'high'] as const) {
      for (const size of ['1024x1024', '1536x1024', '1024x1536'] as const) {
        const prompt = 'Subject: a red ceramic teapot. '.repeat(10);
        const usage = {
          input_tokens_details: { text_tokens: Math.ceil(prompt.length / 4), image_tokens: 0 },
          output_tokens: OUTPUT_TOKENS[quality][size] + 200,
        };
        for (const model of ['gpt-image-1', 'gpt-image-1.5', 'gpt-image-1-mini']) {
          const estimate = estimateCostUsd({ model, quality, size, partialImages: 2, prompt });
          expect(estimate).toBeGreaterThanOrEqual(costFromUsage(model, usage));
        }
      }
    }
  });
});

describe('costFromUsage', () => {
  it('bills text, image input and image output tokens at their prices', () => {
    expect(
      costFromUsage('gpt-image-1', {
        input_tokens: 150,
        input_tokens_details: { text_tokens: 100, image_tokens: 50 },
        output_tokens: 4160,
      }),
    ).toBe(0.1674);
    expect(costFromUsage('gpt-image-1-mini', { input_tokens: 100, output_tokens: 1000 })).toBe(
      0.0082,
    );
  });
});
