/** The benchmark as one page, for machines with a browser but no Node: `npm run bench:mesh:page`. */
import { requestGpu } from '../../src/gpu/device';
import { formatTable, runMeshBench, type MeshBenchRow } from './mesh-bench';
import { benchCases } from './mesh-cases';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const list = (id: string): string[] => $<HTMLInputElement>(id).value.split(',').map((s) => s.trim()).filter(Boolean);

$('run').addEventListener('click', async () => {
  const out = $('out');
  const lines: string[] = [];
  const log = (row: MeshBenchRow): void => {
    lines.push(JSON.stringify(row));
    out.textContent = lines.join('\n');
  };
  try {
    const { device, adapter } = await requestGpu();
    const options = { sizes: list('sizes').map(Number), denseMax: Number($<HTMLInputElement>('dense-max').value), only: list('only') };
    const result = await runMeshBench(device, adapter, benchCases(), options, log);
    out.textContent = formatTable(result);
    const link = $<HTMLAnchorElement>('json');
    link.href = URL.createObjectURL(new Blob([JSON.stringify({ ...result, userAgent: navigator.userAgent, options }, null, 2)], { type: 'application/json' }));
    link.hidden = false;
  } catch (error) {
    out.textContent = `Failed: ${(error as Error).message}`;
  }
});
