/** One file of a model: where it lives and how to check it. */
export interface ModelFile {
  /**
   * Role in the pipeline: the image-to-3D encoder graph, its external data or the decoder graph, or
   * one file of a segmenter's model folder.
   */
  role: 'encoder' | 'encoder-data' | 'decoder' | 'decoder-data' | 'segmenter';
  /**
   * File name as the .onnx refers to it (external data is looked up by this name); for a segmenter,
   * the path inside the model folder, as on the Hub ('config.json', 'onnx/model.onnx').
   */
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

/** What a segmenter consumes and produces (shapes), checked against the session. */
export interface SegmenterContract {
  /** Normalised RGB input: [1, 3, 1024, 1024]. */
  input: number[];
  /** Foreground mask (logits or probabilities): [1, 1, 1024, 1024]. */
  output: number[];
}

/** GPU needs checked before the first download (bytes). */
export interface ModelRequirements {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** What every manifest says, whatever kind of model it describes. */
export interface ModelManifestBase {
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
  /**
   * Set by pinning (never written in a manifest file): the Hugging Face repository and branch the
   * manifest follows, and the commit its files were pinned to on first use.
   */
  upstream?: { repo: string; branch: string; commit: string };
}

/** An image-to-3D model the app can load: `public/models/manifest.json` and self-hosted or test copies. */
export interface ModelManifest extends ModelManifestBase {
  /** Absent in manifests written before segmenters had their own. */
  kind?: 'image-to-3d';
  contract: ModelContract;
  requirements: ModelRequirements;
}

/**
 * A background-removal model (`public/models/segmenter.json`): a Hub-style model folder whose files
 * all have role 'segmenter' — config.json, preprocessor_config.json and one onnx/*.onnx.
 */
export interface SegmenterManifest extends ModelManifestBase {
  kind: 'segmenter';
  contract: SegmenterContract;
  requirements?: ModelRequirements;
}

/** Any manifest the model cache can load; `kind` tells them apart. */
export type AnyModelManifest = ModelManifest | SegmenterManifest;

/** The manifest type of each kind of model. */
export interface ModelManifestKinds {
  'image-to-3d': ModelManifest;
  segmenter: SegmenterManifest;
}

/** A kind of model: 'image-to-3d' (the default, where a manifest has no `kind`) or 'segmenter'. */
export type ModelKind = keyof ModelManifestKinds;
