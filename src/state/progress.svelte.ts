import { STAGES, type PipelineEvent, type Stage } from '../shared/pipeline';

/** Progress of one stage as the UI shows it. */
export interface StageState {
  state: 'pending' | 'running' | 'done';
  ms?: number;
  /** Fraction done while running, where the stage reports it (the CPU decoder does). */
  fraction?: number;
}

/** Bytes of one model file. */
export interface DownloadState {
  loaded: number;
  total: number | undefined;
  fromCache: boolean;
}

function freshStages(): Record<Stage, StageState> {
  return Object.fromEntries(STAGES.map((s) => [s, { state: 'pending' }])) as Record<Stage, StageState>;
}

/** The photo job's stages and model downloads, as the progress list and the viewer overlay show them. */
export class RunProgress {
  stages = $state<Record<Stage, StageState>>(freshStages());
  downloads = $state<Record<string, DownloadState>>({});

  /** Back to nothing started: stages pending, no downloads (keeps them when `stagesOnly`). */
  reset(stagesOnly = false): void {
    this.stages = freshStages();
    if (!stagesOnly) this.downloads = {};
  }

  /** Records a stage, download or progress event; other events are the caller's. */
  apply(event: PipelineEvent): void {
    if (event.type === 'stage') {
      this.stages[event.stage] = event.state === 'start' ? { state: 'running' } : { state: 'done', ms: event.ms };
    } else if (event.type === 'download') {
      this.downloads[event.file] = { loaded: event.loaded, total: event.total, fromCache: event.fromCache };
    } else if (event.type === 'progress') {
      if (this.stages[event.stage].state === 'running') this.stages[event.stage] = { state: 'running', fraction: event.fraction };
    }
  }

  /** What the viewer overlay says about the running job. */
  get label(): string {
    const current = STAGES.find((s) => this.stages[s].state === 'running');
    const labels: Record<Stage, string> = {
      prepare: 'Preparing the image',
      download: Object.values(this.downloads).every((d) => d.fromCache) && Object.keys(this.downloads).length ? 'Loading the model from this device' : 'Downloading the model',
      encoder: 'Reading the photo (encoder)',
      decode: 'Decoding the 3D density',
      mesh: 'Building the mesh',
    };
    return current ? `${labels[current]}…` : 'Waiting for the GPU…';
  }
}
