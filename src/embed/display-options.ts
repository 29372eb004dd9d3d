/**
 * The widget's URL options, in the style of `<model-viewer>` attributes:
 * `embed.html?model=<manifest>&controls=0&autorotate=1&background=%23ffffff&ui=minimal`.
 */

/** What the widget shows and which model it runs. */
export interface DisplayOptions {
  /** Model manifest URL, as the app's `?model=`; null for the default model. */
  manifestUrl: string | null;
  /** Orbit controls on the viewer (`controls=0` turns them off). */
  controls: boolean;
  /** Turn the model slowly (`autorotate=1`). */
  autoRotate: boolean;
  /** A CSS colour for the page behind the widget (`background=transparent` lets the host show through). */
  background: string | null;
  /** 'minimal' hides the drop zone and Generate: the host drives the widget through the API alone. */
  ui: 'full' | 'minimal';
  /** Run on the CPU path (`cpu=1`), as the app's option. */
  forceCpu: boolean;
}

/** Defaults for {@link DisplayOptions}. */
export const DISPLAY_DEFAULTS: DisplayOptions = {
  manifestUrl: null,
  controls: true,
  autoRotate: false,
  background: null,
  ui: 'full',
  forceCpu: false,
};

const FLAG_ON = new Set(['', '1', 'true', 'yes', 'on']);
const FLAG_OFF = new Set(['0', 'false', 'no', 'off']);
/** Colour names, #hex and rgb()/hsl() forms; nothing that could close the declaration. */
const COLOUR = /^(#[0-9a-f]{3,8}|[a-z]{3,20}|(rgb|rgba|hsl|hsla)\([0-9.,%\s/]+\))$/i;

function flag(params: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = params.get(name);
  if (value === null) return fallback;
  const v = value.toLowerCase();
  return FLAG_ON.has(v) ? true : FLAG_OFF.has(v) ? false : fallback;
}

/** Reads the widget's query string; unknown or malformed values keep their defaults. */
export function readDisplayOptions(search: string): DisplayOptions {
  const params = new URLSearchParams(search);
  const background = params.get('background');
  return {
    manifestUrl: params.get('model'),
    controls: flag(params, 'controls', DISPLAY_DEFAULTS.controls),
    autoRotate: flag(params, 'autorotate', DISPLAY_DEFAULTS.autoRotate),
    background: background !== null && COLOUR.test(background.trim()) ? background.trim() : null,
    ui: params.get('ui') === 'minimal' ? 'minimal' : 'full',
    forceCpu: params.get('cpu') === '1',
  };
}
