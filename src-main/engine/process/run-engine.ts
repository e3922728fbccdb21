// What the owner of a run keeps when its engine process has ended, and how runs are named.
import * as crypto from 'node:crypto';
import type { TrainConfig } from '../../../src-shared/config';
import type { ModelSummary } from '../../../src-shared/engine-messages';
import type { FinalEvent } from './host';

export interface RunOutcome {
  runId: string;
  config: TrainConfig;
  runDir: string;
  final: FinalEvent;
  backend: string | null;
  model: ModelSummary | null;
  overfitEpochs: number[];
}

export function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `run-${stamp}-${crypto.randomBytes(3).toString('hex')}`;
}
