/**
 * The embeddable generator (embed.html): the widget, its postMessage API (protocol.ts) and the
 * host's height. Allowed host origins come from the build's VITE_EMBED_ORIGINS.
 */
import { mount } from 'svelte';
import '../app.css';
import Embed from './Embed.svelte';
import { HostBridge, type Sender } from './bridge';
import { readDisplayOptions } from './display-options';
import { parseOrigins } from './origins';
import type { HostMessage } from './protocol';
import { failure } from './failure';
import { EmbedWidget } from './widget.svelte';

const options = readDisplayOptions(location.search);
const allowed = parseOrigins(import.meta.env.VITE_EMBED_ORIGINS, { development: import.meta.env.DEV });
const widget = new EmbedWidget(options);
// On the root too, so `background=transparent` lets the host page show through the frame.
if (options.background) document.documentElement.style.background = options.background;

function handle(message: HostMessage, sender: Sender): void {
  if (message.type === 'cancel') {
    if (!widget.cancel(message.id)) {
      bridge.reply(sender, { type: 'error', id: message.id, code: 'unknown-job', message: `No job ${message.id} is queued or running.` });
    }
    return;
  }
  if (widget.queue.has(message.id)) {
    bridge.reply(sender, { type: 'error', id: message.id, code: 'duplicate-id', message: `A job with id ${message.id} is already queued or running; use a new id.` });
    return;
  }
  const { id } = message;
  widget
    .generate(id, message.image, message.options, (p) => bridge.reply(sender, { type: 'progress', id, stage: p.stage, fraction: p.fraction }))
    .then(
      (done) => {
        // The host gets its own copy to transfer; the widget keeps one for its download button.
        const glb = done.glb.slice(0);
        bridge.reply(sender, { type: 'result', id, glb, stats: done.stats }, [glb]);
      },
      (error: unknown) => bridge.reply(sender, { type: 'error', id, ...failure(error) }),
    );
}

const bridge = new HostBridge(allowed, handle);
// The widget's own height (its root element), not the frame's: the frame may be taller than its content.
const root = document.getElementById('embed')!;
let localJobs = 0;
const appUrl = new URL(`./${options.manifestUrl ? `?model=${encodeURIComponent(widget.manifestUrl)}` : ''}`, location.href).href;

mount(Embed, {
  target: root,
  props: {
    widget,
    options,
    appUrl,
    // A photo dropped in the widget itself: shown here, not sent to the host, which did not ask.
    ongenerate: (file: Blob) => void widget.generate(`local-${++localJobs}`, file, {}, () => undefined).catch(() => undefined),
  },
});

let lastHeight = 0;
new ResizeObserver(() => {
  const height = Math.ceil(root.getBoundingClientRect().height);
  if (height === lastHeight) return;
  lastHeight = height;
  bridge.announce({ type: 'resize', height });
}).observe(root);

void widget.start().then(({ webgpu, storage, model }) => bridge.announce({ type: 'ready', capabilities: { webgpu, storage }, model }));
