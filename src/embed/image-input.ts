import { AppError, abortError, isAbortError, throwIfAborted } from '../lib/errors';
import { PROTOCOL_LIMITS, type ImageInput } from './protocol';

/**
 * The image a host sent, as a Blob within `maxBytes`. An address is fetched without credentials;
 * the site must allow other origins to read it (CORS), as for the app's "image address".
 */
export async function imageBlob(image: ImageInput, signal: AbortSignal, maxBytes = PROTOCOL_LIMITS.maxImageBytes): Promise<Blob> {
  const tooLarge = (bytes: number) =>
    new AppError('image-too-large', `The image is ${bytes} bytes; the widget accepts at most ${maxBytes}. Send a smaller photo.`);
  if (image instanceof Blob) {
    if (image.size > maxBytes) throw tooLarge(image.size);
    return image;
  }
  if (image instanceof ArrayBuffer) {
    if (image.byteLength > maxBytes) throw tooLarge(image.byteLength);
    return new Blob([image]);
  }
  const url = new URL(image);
  let response: Response;
  try {
    response = await fetch(url, { mode: 'cors', credentials: 'omit', signal });
  } catch (error) {
    if (signal.aborted || isAbortError(error)) throw abortError();
    throw new AppError('image-url-refused', `${url.host || 'That address'} does not let other sites load its images; send the image bytes instead.`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new AppError('image-url-refused', `${url.host} answered ${response.status} for that image; check the address or send the image bytes.`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(declared);
  }
  const blob = await response.blob();
  throwIfAborted(signal);
  if (blob.size > maxBytes) throw tooLarge(blob.size);
  return blob;
}
