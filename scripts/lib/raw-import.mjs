// Lets Node scripts import WGSL with Vite's `?raw` suffix (as a string), so benchmarks can load the
// gpu modules' CPU parts: node --import ./scripts/lib/raw-import.mjs (or tsx --import ...).
import { register } from 'node:module';

register('./raw-hooks.mjs', import.meta.url);
