/** One file of a model: where it lives and how to check it. */
export interface ModelFile {
  /** Role in the pipeline: the encoder graph, its external data, or the decoder graph. */
  role: 'encoder' | 'encoder-data' | 'decoder';
  /** File name as the .onnx refers to it (external data is looked up by this name). */
  name: string;
  /** Absolute URL, or relative to the manifest's own URL. */
  url: string;
  /** Exact size in bytes, when known. */
  bytes?: number;
  /** Lower-case hex SHA-256 of the whole file, when known. */
  sha256?: string;
}

/** What the model consumes and produces; checked against the session, never used for tensor names. */
export interface ModelContract {
  /** Encoder input: [1, 3, 512, 512] RGB in 0..1. */
  image: number[];
  /** Encoder output: [1, 3, 40, 64, 64]. */
  triplane: number[];
  /** Decoder features per point: 120. */
  features: number;
}

/** GPU needs checked before the first download (bytes). */
export interface ModelRequirements {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** A model the app can load: `public/models/manifest.json` and self-hosted or test copies. */
export interface ModelManifest {
  /** Manifest format version (1). */
  version: 1;
  /** Stable id, part of the cache key. */
  id: string;
  name: string;
  license: string;
  licenseUrl?: string;
  /** Upstream revision (a commit hash or tag); a new revision gets a new cache key. */
  revision: string;
  /**
   * Approximate download size in bytes, for the consent prompt when the files' exact `bytes` are not
   * pinned (a manifest that follows an upstream branch). Exact sizes win when given.
   */
  downloadEstimate?: number;
  files: ModelFile[];
  contract: ModelContract;
  requirements: ModelRequirements;
}
