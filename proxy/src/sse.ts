/**
 * Server-sent events, both ways: parsing OpenAI's stream and writing the client's.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */

/** One dispatched event. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Yields each event of an event stream as soon as its closing blank line arrives. An event cut off
 * by the end of the stream is dropped, as the spec says.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const lineEnd = /\r\n|\r|\n/g;
  const decoder = new TextDecoder();
  let buffer = '';
  // Where to resume looking for a line end: base64 images arrive as one line over many chunks.
  let scanFrom = 0;
  let event = '';
  let data: string[] = [];
  try {
    for (let done = false; !done;) {
      const chunk = await reader.read();
      done = chunk.done;
      if (chunk.value) buffer += decoder.decode(chunk.value, { stream: true });
      let lineStart = 0;
      lineEnd.lastIndex = scanFrom;
      for (let end = lineEnd.exec(buffer); end; end = lineEnd.exec(buffer)) {
        // A trailing \r may be the first half of \r\n: wait for the next chunk, if any.
        if (end[0] === '\r' && end.index === buffer.length - 1 && !done) break;
        const line = buffer.slice(lineStart, end.index);
        lineStart = end.index + end[0].length;
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let text = colon < 0 ? '' : line.slice(colon + 1);
          if (text.startsWith(' ')) text = text.slice(1);
          if (field === 'event') event = text;
          else if (field === 'data') data.push(text);
        }
        lineEnd.lastIndex = lineStart;
      }
      buffer = buffer.slice(lineStart);
      scanFrom = Math.max(0, buffer.length - 1);
    }
  } finally {
    // Stops the download when the consumer leaves early; a no-op once the stream has ended.
    reader.cancel().catch(() => {});
  }
}

const encoder = new TextEncoder();

/** Encodes one event; the JSON payload never contains a raw line break. */
export function encodeSse(event: string, payload: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
}
