/** Thumbnails for the history grid, drawn off the DOM (OffscreenCanvas works in workers too). */

/** Options for `makeThumbnail`. */
export interface ThumbnailOptions {
  /** Longest side in pixels. */
  side: number;
  /** Encoding; browsers that cannot write it (Safari and WebP) fall back to PNG. */
  type: string;
  quality: number;
}

/** 160 px WebP: a few kB per entry, sharp on a 2× screen at the grid's 80 px. */
export const THUMBNAIL_DEFAULTS: ThumbnailOptions = { side: 160, type: 'image/webp', quality: 0.8 };

/** The size that fits `width × height` into `side` keeping its aspect (never enlarging, at least 1 px). */
export function thumbnailSize(width: number, height: number, side: number): { width: number; height: number } {
  const scale = Math.min(1, side / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A small encoded copy of `image` (a photo Blob, an ImageBitmap, or ImageData such as the 512² model input). */
export async function makeThumbnail(image: Blob | ImageBitmap | ImageData, options: Partial<ThumbnailOptions> = {}): Promise<Blob> {
  const { side, type, quality } = { ...THUMBNAIL_DEFAULTS, ...options };
  const bitmap = image instanceof ImageBitmap ? image : await createImageBitmap(image);
  try {
    const size = thumbnailSize(bitmap.width, bitmap.height, side);
    const canvas = new OffscreenCanvas(size.width, size.height);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('makeThumbnail: no 2D context.');
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, size.width, size.height);
    return await canvas.convertToBlob({ type, quality });
  } finally {
    if (bitmap !== image) bitmap.close();
  }
}
