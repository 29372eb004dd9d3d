import { describe, expect, it } from 'vitest';
import { HostBridge, type BridgeWindow, type Sender } from '../../src/embed/bridge';
import type { HostMessage } from '../../src/embed/protocol';

interface Posted {
  to: string;
  message: Record<string, unknown>;
  transfer: Transferable[];
}

/** A stand-in window: the parent records what reaches it, and `deliver` plays an incoming message. */
function fakeWindow(ancestorOrigin: string | null) {
  const posted: Posted[] = [];
  let listener: ((event: MessageEvent) => void) | null = null;
  const parent = {
    postMessage(message: unknown, targetOrigin: string | { targetOrigin: string; transfer?: Transferable[] }, transfer: Transferable[] = []) {
      const options = typeof targetOrigin === 'string' ? { targetOrigin, transfer } : targetOrigin;
      posted.push({ to: options.targetOrigin, message: message as Record<string, unknown>, transfer: options.transfer ?? [] });
    },
  };
  const win: BridgeWindow = {
    addEventListener: (_type, l) => (listener = l),
    removeEventListener: () => (listener = null),
    parent,
    ancestorOrigin,
  };
  const deliver = (data: unknown, origin: string, source: unknown = parent): void =>
    listener?.({ data, origin, source } as unknown as MessageEvent);
  return { win, parent, posted, deliver, listening: () => listener !== null };
}

const generate = { source: 'cadlift', version: 1, type: 'generate', id: 'j1', image: new ArrayBuffer(8) };

describe('HostBridge', () => {
  it('ignores messages from origins not on the list: no answer, no job', () => {
    const { win, posted, deliver } = fakeWindow(null);
    const received: HostMessage[] = [];
    new HostBridge(['https://host.example'], (m) => received.push(m), win);
    deliver(generate, 'https://evil.example');
    deliver({ ...generate, type: 'bogus' }, 'https://evil.example');
    expect(received).toEqual([]);
    expect(posted).toEqual([]);
  });

  it('hands valid messages on with their sender and answers invalid ones at the exact origin', () => {
    const { win, posted, deliver, parent } = fakeWindow('https://host.example');
    const received: { message: HostMessage; sender: Sender }[] = [];
    new HostBridge(['https://host.example'], (message, sender) => received.push({ message, sender }), win);
    deliver(generate, 'https://host.example');
    expect(received).toHaveLength(1);
    expect(received[0]!.message.type).toBe('generate');
    expect(received[0]!.sender).toEqual({ source: parent, origin: 'https://host.example' });
    deliver({ ...generate, extra: 1 }, 'https://host.example');
    expect(posted).toEqual([
      { to: 'https://host.example', transfer: [], message: { source: 'cadlift', version: 1, type: 'error', id: 'j1', code: 'invalid-message', message: expect.stringContaining('extra') } },
    ]);
    deliver({ hello: 'world' }, 'https://host.example');
    expect(posted).toHaveLength(1);
  });

  it('sends ready and resize to an allowed ancestor at once', () => {
    const { win, posted } = fakeWindow('https://host.example');
    const bridge = new HostBridge(['https://host.example'], () => undefined, win);
    bridge.announce({ type: 'resize', height: 300 });
    expect(posted).toEqual([{ to: 'https://host.example', transfer: [], message: { source: 'cadlift', version: 1, type: 'resize', height: 300 } }]);
  });

  it('holds ready and resize until an allowed host speaks when the ancestor is unknown or not allowed', () => {
    for (const ancestor of [null, 'https://evil.example']) {
      const { win, posted, deliver } = fakeWindow(ancestor);
      const bridge = new HostBridge(['https://host.example'], () => undefined, win);
      bridge.announce({ type: 'resize', height: 100 });
      bridge.announce({ type: 'ready', capabilities: { webgpu: true, storage: false }, model: null });
      bridge.announce({ type: 'resize', height: 200 });
      expect(posted).toEqual([]);
      deliver(generate, 'https://evil.example');
      expect(posted).toEqual([]);
      expect(bridge.host).toBeNull();
      deliver({ source: 'cadlift', version: 1, type: 'cancel', id: 'x' }, 'https://host.example');
      expect(bridge.host).toBe('https://host.example');
      expect(posted.map((p) => [p.to, p.message['type'], p.message['height']])).toEqual([
        ['https://host.example', 'resize', 200],
        ['https://host.example', 'ready', undefined],
      ]);
    }
  });

  it('replies with transferred buffers', () => {
    const { win, posted, parent } = fakeWindow('https://host.example');
    const bridge = new HostBridge(['https://host.example'], () => undefined, win);
    const glb = new ArrayBuffer(16);
    bridge.reply({ source: parent as unknown as MessageEventSource, origin: 'https://host.example' }, { type: 'result', id: 'j1', glb, stats: { vertices: 3, triangles: 1, ms: 5 } }, [glb]);
    expect(posted[0]!.transfer).toEqual([glb]);
    expect(posted[0]!.to).toBe('https://host.example');
  });

  it('close stops listening', () => {
    const { win, listening } = fakeWindow(null);
    const bridge = new HostBridge(['https://host.example'], () => undefined, win);
    expect(listening()).toBe(true);
    bridge.close();
    expect(listening()).toBe(false);
  });
});
