/**
 * Turns the user's words into a prompt that image-to-3D models handle well: one whole object,
 * centred, seen from three-quarters, on a plain background, nothing cropped and no text.
 * Single-view reconstructors (TripoSR, SF3D and the like) are trained on such renders.
 */

/** The longest prompt a client may send, in characters (code points) after trimming. */
export const MAX_PROMPT_CHARS = 1000;

/** Wraps the subject in the framing instructions; the subject itself is kept word for word. */
export function rewritePrompt(subject: string): string {
  const clean = subject.trim().replace(/\s+/g, ' ');
  return [
    `Subject: ${clean}.`,
    'Show exactly one whole object, centred in the frame,',
    'in a three-quarter view from slightly above,',
    'on a plain, empty background with soft, even studio lighting.',
    'Keep the entire object in frame with a margin on every side: nothing cropped.',
    'No text, letters, logos or watermarks, and no other objects.',
  ].join(' ');
}
