/**
 * What an image costs, for the daily budget.
 *
 * GPT image models bill by token: the prompt as text input tokens, the picture as image output
 * tokens, and each streamed partial image as 100 extra output tokens. The output token counts per
 * quality and size and the per-million prices below are OpenAI's published figures
 * (https://platform.openai.com/docs/guides/image-generation#cost-and-latency,
 * https://openai.com/api/pricing/); update them here when OpenAI changes its prices.
 */

export const SIZES = ['1024x1024', '1536x1024', '1024x1536', 'auto'] as const;
export const QUALITIES = ['low', 'medium', 'high', 'auto'] as const;
export type ImageSize = (typeof SIZES)[number];
export type ImageQuality = (typeof QUALITIES)[number];

type FixedSize = Exclude<ImageSize, 'auto'>;
type FixedQuality = Exclude<ImageQuality, 'auto'>;

/** Image output tokens per picture, by quality and size. */
export const OUTPUT_TOKENS: Record<FixedQuality, Record<FixedSize, number>> = {
  low: { '1024x1024': 272, '1536x1024': 400, '1024x1536': 408 },
  medium: { '1024x1024': 1056, '1536x1024': 1568, '1024x1536': 1584 },
  high: { '1024x1024': 4160, '1536x1024': 6208, '1024x1536': 6240 },
};

/** Output tokens billed for each streamed partial image. */
export const PARTIAL_IMAGE_TOKENS = 100;

/** US dollars per million tokens. */
export interface ModelPrices {
  textInput: number;
  imageInput: number;
  imageOutput: number;
}

/** Prices by model. A model missing here is priced as the dearest one, so the cap still holds. */
export const MODEL_PRICES: Record<string, ModelPrices> = {
  'gpt-image-1': { textInput: 5, imageInput: 10, imageOutput: 40 },
  'gpt-image-1.5': { textInput: 5, imageInput: 8, imageOutput: 32 },
  'gpt-image-1-mini': { textInput: 2, imageInput: 2.5, imageOutput: 8 },
};

const DEAREST: ModelPrices = { textInput: 5, imageInput: 10, imageOutput: 40 };

/** The prices used for `model`. */
export function pricesFor(model: string): ModelPrices {
  return MODEL_PRICES[model] ?? DEAREST;
}

/** The usage block of an OpenAI image response. */
export interface ImageUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  input_tokens_details?: { text_tokens?: number; image_tokens?: number };
}

export interface EstimateInput {
  model: string;
  quality: ImageQuality;
  size: ImageSize;
  /** Partial images requested when streaming (0 otherwise). */
  partialImages: number;
  /** The exact prompt sent upstream. */
  prompt: string;
}

/**
 * An upper bound of what one generation costs, reserved against the daily budget before the call.
 * `auto` quality or size is priced as the dearest choice, and the prompt as one token per UTF-8
 * byte (real tokens are several bytes long).
 */
export function estimateCostUsd(input: EstimateInput): number {
  const prices = pricesFor(input.model);
  const qualities: FixedQuality[] = input.quality === 'auto' ? ['high'] : [input.quality];
  const sizes: FixedSize[] =
    input.size === 'auto' ? ['1024x1024', '1536x1024', '1024x1536'] : [input.size];
  const imageTokens = Math.max(...qualities.flatMap((q) => sizes.map((s) => OUTPUT_TOKENS[q][s])));
  const outputTokens = imageTokens + PARTIAL_IMAGE_TOKENS * input.partialImages;
  const textTokens = new TextEncoder().encode(input.prompt).byteLength;
  return roundUsd((outputTokens * prices.imageOutput + textTokens * prices.textInput) / 1e6);
}

/** The cost of a finished generation from the `usage` OpenAI reported. */
export function costFromUsage(model: string, usage: ImageUsage): number {
  const prices = pricesFor(model);
  const text = usage.input_tokens_details?.text_tokens ?? usage.input_tokens ?? 0;
  const image = usage.input_tokens_details?.image_tokens ?? 0;
  const output = usage.output_tokens ?? 0;
  return roundUsd(
    (text * prices.textInput + image * prices.imageInput + output * prices.imageOutput) / 1e6,
  );
}

/** Rounds to a millionth of a dollar, so sums do not drift into long binary fractions. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
