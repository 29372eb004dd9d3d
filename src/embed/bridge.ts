import { checkHostMessage, envelope, type HostMessage, type WidgetMessage } from './protocol';
import { isAllowedOrigin, type OriginList } from './origins';

/** Where a reply goes: the window that sent the request, at its exact origin. */
export interface Sender {
  source: MessageEventSource;
  origin: string;
}

/** What the bridge needs from the page; a window in the widget, a stand-in in unit tests. */
export interface BridgeWindow {
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  readonly parent: { postMessage(message: unknown, targetOrigin: string, transfer?: Transferable[]): void } | null;
  /** `location.ancestorOrigins`, where the browser has it (Chromium, Safari). */
  readonly ancestorOrigin: string | null;
}

/** Adapts the real window to {@link BridgeWindow}. */
export function bridgeWindow(win: Window = window): BridgeWindow {
  return {
    addEventListener: (type, listener) => win.addEventListener(type, listener),
    removeEventListener: (type, listener) => win.removeEventListener(type, listener),
    parent: win.parent !== win ? win.parent : null,
    ancestorOrigin: win.location.ancestorOrigins?.[0] ?? null,
  };
}

/**
 * The widget's end of the postMessage API. Messages from origins not on the list are dropped
 * without an answer; messages without the envelope too. Replies go to the sender's exact origin,
 * never '*'. `ready` and `resize` go to the host: the frame's parent when `ancestorOrigins` names an
 * allowed one, otherwise the first allowed origin that sends a message (until then they wait).
 */
export class HostBridge {
  /** The host page's origin once known. */
  host: string | null = null;
  private pending = new Map<'ready' | 'resize', WidgetMessage>();
  private readonly listener = (event: MessageEvent): void => this.receive(event);

  constructor(
    private readonly allowed: OriginList,
    private readonly onMessage: (message: HostMessage, sender: Sender) => void,
    private readonly win: BridgeWindow = bridgeWindow(),
  ) {
    const ancestor = win.ancestorOrigin;
    if (ancestor && isAllowedOrigin(allowed, ancestor)) this.host = ancestor;
    win.addEventListener('message', this.listener);
  }

  /** Sends `ready` or `resize` to the host, or keeps the latest of each until a host is known. */
  announce(message: Extract<WidgetMessage, { type: 'ready' | 'resize' }>): void {
    if (this.host && this.win.parent) this.win.parent.postMessage(envelope(message), this.host);
    else this.pending.set(message.type, message);
  }

  /** Replies to `sender` at its exact origin; `transfer` moves buffers (the GLB) instead of copying. */
  reply(sender: Sender, message: WidgetMessage, transfer: Transferable[] = []): void {
    (sender.source as Window).postMessage(envelope(message), { targetOrigin: sender.origin, transfer });
  }

  /** Stops listening. */
  close(): void {
    this.win.removeEventListener('message', this.listener);
  }

  private receive(event: MessageEvent): void {
    if (!isAllowedOrigin(this.allowed, event.origin) || !event.source) return;
    const checked = checkHostMessage(event.data);
    if (checked.kind === 'ignore') return;
    const sender: Sender = { source: event.source, origin: event.origin };
    if (!this.host && this.win.parent && event.source === (this.win.parent as unknown)) {
      this.host = event.origin;
      for (const message of this.pending.values()) this.win.parent.postMessage(envelope(message), this.host);
      this.pending.clear();
    }
    if (checked.kind === 'reject') {
      this.reply(sender, { type: 'error', id: checked.id, code: checked.code, message: checked.message });
      return;
    }
    this.onMessage(checked.message, sender);
  }
}
