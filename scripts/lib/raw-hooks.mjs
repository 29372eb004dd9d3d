// Module hooks for raw-import.mjs: a `*.wgsl?raw` import becomes `export default "<file text>"`.
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  if (/\.wgsl(\?raw)?$/.test(url)) {
    const text = await readFile(new URL(url.replace(/\?raw$/, '')), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
