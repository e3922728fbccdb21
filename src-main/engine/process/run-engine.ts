// Runs one training run in a fresh engine process and collects what its owner needs afterwards.
// Ctrl-C (when asked to handle signals) becomes a 'stop' command, so the run ends on a checkpoint.
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import type { TrainConfig } from '../../../src-shared/config';
import type { EngineEvent, ModelSummary } from '../../../src-shared/engine-messages';
import { homePaths } from '../../home';
import { startEngine, type FinalEvent } from './host';

export interface RunOutcome {
  runId: string;
  config: TrainConfig;
  runDir: string;
  final: FinalEvent;
  backend: string | null;
  model: ModelSummary | null;
  overfitEpochs: number[];
}

export interface RunEngineOptions {
  home: string;
  config: TrainConfig;
  onEvent(event: EngineEvent): void;
  /** Continue this run from its last checkpoint. */
  resumeRunId?: string;
  runId?: string;
  stopOnSignal?: boolean;
}

export function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `run-${stamp}-${crypto.randomBytes(3).toString('hex')}`;
}

export async function runEngine(opts: RunEngineOptions): Promise<RunOutcome> {
  const runId = opts.resumeRunId ?? opts.runId ?? newRunId();
  const runDir = path.join(homePaths(opts.home).runs, runId);
  let backend: string | null = null;
  let model: ModelSummary | null = null;
  const overfitEpochs: number[] = [];
  const engine = startEngine((event) => {
    if (event.type === 'started') {
      backend = event.backend.backend;
      model = event.model;
    }
    if (event.type === 'epoch' && event.metrics.catastrophicOverfitting.detected) overfitEpochs.push(event.metrics.epoch);
    opts.onEvent(event);
  });
  const stop = () => engine.send({ type: 'stop' });
  if (opts.stopOnSignal) {
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  engine.send({ type: 'start', runId, config: opts.config, runDir, home: opts.home, resume: Boolean(opts.resumeRunId) });
  try {
    const final = await engine.done;
    return { runId, config: opts.config, runDir, final, backend, model, overfitEpochs };
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
