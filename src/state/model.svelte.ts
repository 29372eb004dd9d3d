import type { Fault, ModelStatus } from '../shared/pipeline';
import type { UpdateCheck } from '../lib/hf-pin';
import type { PipelineClient } from './pipeline-client';
import { userMessage } from './messages';
import { DEFAULT_MANIFEST_URL, absoluteUrl } from './settings';

/** What the model state tells the app: the error banner is the app's, and so is the photo. */
export interface ModelHooks {
  /** Shows a failure in the error banner; `setPhase` also marks the run as failed. */
  fail(error: unknown, setPhase: boolean): void;
  /** The model files were deleted (the background-removal model's with them). */
  ondeleted(): void;
}

/**
 * The TripoSR model as the visitor manages it: which manifest, whether it is on this device, the
 * storage it uses, the download consent prompt, deleting it and updating it.
 */
export class ModelState {
  manifestUrl = $state('');
  status = $state.raw<ModelStatus | null>(null);
  storage = $state.raw<{ usage: number; quota: number; persisted: boolean } | null>(null);
  /** "Check for a newer version" in Model and storage. */
  update = $state<UpdateCheck>({ state: 'idle' });
  /** The consent prompt is open; its answer is awaited by whichever job needs the model first. */
  consentOpen = $state(false);
  /** Set once the visitor accepted the download in the consent prompt. */
  private consented = false;
  private consentAnswer: Promise<boolean> | null = null;
  private answerConsent: ((accepted: boolean) => void) | null = null;
  private readonly fault: Fault | undefined;

  constructor(
    private readonly client: PipelineClient,
    init: { manifestUrl: string; fault: Fault | undefined },
    private readonly hooks: ModelHooks,
  ) {
    this.manifestUrl = init.manifestUrl;
    this.fault = init.fault;
  }

  /** Re-reads model size, cache state and storage use. */
  async refresh(): Promise<void> {
    this.status = await this.client.modelStatus();
    const estimate = await navigator.storage?.estimate?.();
    const persisted = (await navigator.storage?.persisted?.()) ?? false;
    this.storage = estimate ? { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0, persisted } : null;
  }

  /** Points the app at another model manifest (self-hosted or test models). */
  async setManifestUrl(url: string): Promise<void> {
    this.manifestUrl = absoluteUrl(url.trim() || DEFAULT_MANIFEST_URL);
    this.consented = false;
    this.status = null;
    await this.client.configure({ manifestUrl: this.manifestUrl, fault: this.fault });
    await this.refresh().catch((error: unknown) => this.hooks.fail(error, true));
  }

  /**
   * Resolves true when the model is cached or the visitor accepted its download; the first caller
   * opens the prompt and later ones wait for the same answer.
   */
  async ensureConsent(): Promise<boolean> {
    if (this.consented) return true;
    if (!this.status) await this.refresh();
    if (this.status?.cached) return true;
    this.consentAnswer ??= new Promise<boolean>((resolve) => {
      this.answerConsent = resolve;
      this.consentOpen = true;
    });
    return this.consentAnswer;
  }

  private closeConsent(accepted: boolean): void {
    this.consentOpen = false;
    this.answerConsent?.(accepted);
    this.answerConsent = null;
    this.consentAnswer = null;
  }

  /** The visitor accepted the download: ask for persistent storage (page only) and go. */
  async acceptDownload(): Promise<void> {
    this.consented = true;
    this.closeConsent(true);
    await navigator.storage?.persist?.().catch(() => false);
  }

  /** The visitor declined the download. */
  declineDownload(): void {
    this.closeConsent(false);
  }

  /** Deletes the cached model files and shows the space now used. */
  async deleteModel(): Promise<void> {
    try {
      await this.client.deleteCachedModels();
      this.consented = false;
      // The store holds the background-removal model too; it is gone as well.
      this.hooks.ondeleted();
      await this.refresh();
    } catch (error) {
      this.hooks.fail(error, false);
    }
  }

  /** Asks the model's host whether a newer version exists (nothing is downloaded). */
  async checkUpdate(): Promise<void> {
    this.update = { state: 'checking' };
    try {
      const update = await this.client.checkForUpdate();
      this.update = update
        ? { state: 'done', update }
        : { state: 'failed', message: 'This model is not from a Hugging Face repository, so there is no newer version to look for.' };
    } catch (error) {
      this.update = { state: 'failed', message: userMessage(error).message };
    }
  }

  /** Downloads the newer version the check found; the next Generate uses it. */
  async applyUpdate(): Promise<void> {
    this.update = { state: 'updating' };
    try {
      await this.client.updateModel();
      this.consented = false;
      await this.refresh();
      this.update = { state: 'idle' };
    } catch (error) {
      this.update = { state: 'failed', message: userMessage(error).message };
    }
  }
}
