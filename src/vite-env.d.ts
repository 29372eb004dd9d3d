/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Base URL of the text-to-image proxy (proxy/); the Text tab is disabled without it. */
  readonly VITE_PROXY_URL?: string;
  /** A label for this build (e.g. a commit), shown after the version in the footer. */
  readonly VITE_BUILD_LABEL?: string;
}

/** package.json's version, from vite.config.ts. */
declare const __APP_VERSION__: string;
