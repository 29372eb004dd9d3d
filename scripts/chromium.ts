/** Debian's Chromium and the flags every test launch uses (WebGPU on SwiftShader, no network chatter). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The end-to-end preview server's port; E2E_PORT lets two checkouts run side by side. */
export const E2E_PORT = Number(process.env.E2E_PORT ?? 4319);

/** Launch flags; `webgpu: false` gives a browser without WebGPU for fallback tests. */
export function chromiumArgs({ webgpu = true }: { webgpu?: boolean } = {}): string[] {
  return [
    '--headless',
    '--no-sandbox',
    ...(webgpu ? ['--enable-unsafe-webgpu'] : []),
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ];
}
