import { registerSW } from 'virtual:pwa-register';

/** How often an open tab asks whether a new version of the app was published. */
const UPDATE_CHECK_MS = 60 * 60 * 1000;

/**
 * The app as an installed, offline-capable program: whether the network is there, and whether a new
 * version is waiting. The service worker (scripts/lib/pwa-options.ts) precaches the app shell and the
 * WASM runtime; a new build installs beside the running one and waits for the visitor's "Update",
 * so a generation is never cut off by a version switch.
 */
export class AppShellState {
  /** False while the browser reports no network. */
  online = $state(globalThis.navigator?.onLine ?? true);
  /** A new version is installed and waits for the visitor. */
  updateReady = $state(false);
  /** The app shell is cached: the app now starts without a network. */
  offlineReady = $state(false);
  #apply: ((reload?: boolean) => Promise<void>) | null = null;

  /** Listens for connectivity and registers the service worker (once, from the app's page only). */
  start(): void {
    addEventListener('online', () => (this.online = true));
    addEventListener('offline', () => (this.online = false));
    if (!('serviceWorker' in navigator)) return;
    this.#apply = registerSW({
      immediate: true,
      onNeedRefresh: () => (this.updateReady = true),
      onOfflineReady: () => (this.offlineReady = true),
      onRegisteredSW: (_url, registration) => {
        // A service worker from an earlier visit already holds the app shell.
        if (registration?.active) this.offlineReady = true;
        if (registration) setInterval(() => void registration.update().catch(() => undefined), UPDATE_CHECK_MS);
      },
      // No service worker (a private window, a blocked one, plain http): the app works online as before.
      onRegisterError: (error: unknown) => console.warn('The service worker could not be registered; the app will need the network to start.', error),
    });
  }

  /** Switches to the waiting version: the new service worker takes over and the page reloads. */
  async update(): Promise<void> {
    // A page the old worker never controlled (the first visit) gets no "controlling" event to reload on.
    const controlled = Boolean(navigator.serviceWorker?.controller);
    await this.#apply?.(true);
    if (!controlled) location.reload();
  }

  /** Hides the prompt; the new version starts with the next visit. */
  dismissUpdate(): void {
    this.updateReady = false;
  }
}
