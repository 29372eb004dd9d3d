/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Base URL of the text-to-image proxy (proxy/); the Text tab is disabled without it. */
  readonly VITE_PROXY_URL?: string;
}
