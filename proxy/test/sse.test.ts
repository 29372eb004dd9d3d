import { describe, expect, it } from 'vitest';
import { encodeSse, parseSse } from '../src/sse.ts';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(chunks: string[]) {
  const events = [];
  for await (const event of parseSse(streamOf(chunks))) events.push(event);
  return events;
}

describe('parseSse', () => {
  it('reads events split anywhere across chunks, with any line ending', async () => {
    const text =
      'event: a\ndata: {"x":1}\n\n: comment\r\nevent: b\r\ndata: line1\r\ndata: line2\r\n\r\ndata: plain\r\r';
    const expected = [
      { event: 'a', data: '{"x":1}' },
      { event: 'b', data: 'line1\nline2' },
      { event: 'message', data: 'plain' },
    ];
    expect(await collect([text])).toEqual(expected);
    for (let size = 1; size < 8; size++) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(await collect(chunks)).toEqual(expected);
    }
  });

  it('keeps a long data line whole and drops an event cut off by the end', async () => {
    const big = 'A'.repeat(300_000);
    const chunks = ['data: ', ...big.match(/.{1,65536}/g)!, '\n\n', 'data: cut'];
    expect(await collect(chunks)).toEqual([{ event: 'message', data: big }]);
  });
});

describe('encodeSse', () => {
  it('writes one event per JSON payload', () => {
    expect(new TextDecoder().decode(encodeSse('partial', { index: 0, image: 'a\nb' }))).toBe(
      'event: partial\ndata: {"index":0,"image":"a\\nb"}\n\n',
    );
  });
});
